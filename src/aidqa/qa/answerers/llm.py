"""The LLM answerer (``answering.backend = "llm"``): fluent answers from an OpenAI-compatible chat server, with
citations that are checked, not trusted.

The chain is LangChain runnables — ``ANSWER_PROMPT | ChatOpenAI | StrOutputParser`` — fed by the same follow-up
rewrite and hybrid retrieval as the extractive answerer (both happen in ``Assistant``). Its reply is cut into
sentences and every sentence is verified in code (``answerers.verify``) before it is used: a failing sentence is
dropped. Kept sentences get real ``Citation`` objects whose quote is the cited passage's sentence(s) holding the
claim, with exact offsets. When the server fails (unreachable, timeout, HTTP error, malformed or empty output) or
nothing of the reply checks out, the extractive answer is returned instead and ``Extraction.grounding`` says why.

While streaming (``aidqa.qa.streaming``), each sentence is handed out as soon as it has passed verification, so an
invented figure never reaches a client, not even for a moment.

langchain-openai's ``ChatOpenAI(base_url=…)`` is the client: it speaks the chat-completions protocol of vLLM,
llama.cpp's server, Ollama and the hosted APIs, plain and streamed, with typed errors; a client of our own would
have repeated it. Retries are off (a retry would double the wait), and the timeout bounds the whole reply.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from pydantic import SecretStr

from aidqa.index.store import LoadedIndex
from aidqa.models import Citation, CitedFigure, Grounding
from aidqa.qa.analysis import analyse
from aidqa.qa.answerers.base import Answerer, Extraction
from aidqa.qa.answerers.extractive import ExtractiveAnswerer
from aidqa.qa.answerers.verify import (
    _MARKER,
    CheckedSentence,
    GivenPassage,
    ReplyChecker,
    SentenceSplitter,
    mask_numbers,
)
from aidqa.qa.prompts import ANSWER_PROMPT, PromptPassage, prompt_inputs
from aidqa.qa.rendering import REFUSAL
from aidqa.qa.streaming import current_sink
from aidqa.retrieval.hybrid import ScoredChunk
from aidqa.settings import AnsweringSettings, LLMSettings
from aidqa.zh.chars import fold_for_match
from aidqa.zh.numbers import NUMBER_RE, numbers_in
from aidqa.zh.segment import split_sentences
from aidqa.zh.terms import names_topic, query_term_groups

logger = logging.getLogger(__name__)

# A runnable from the prompt's variables to the reply text (``.invoke`` and ``.stream``).
TextChain = Any


class LLMFailure(Exception):
    """The model gave no usable reply; ``str(exc)`` is a short reason fit for users (no server text, no key)."""


def build_chain(settings: LLMSettings) -> TextChain:
    """prompt | ChatOpenAI | text, for the server of ``settings``."""
    from langchain_core.output_parsers import StrOutputParser
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(
        model=settings.model or "",
        base_url=settings.base_url,
        # Always a key of our own: never OPENAI_API_KEY from the environment, sent to whatever base_url says.
        api_key=settings.api_key or SecretStr("unused"),
        timeout=settings.timeout_seconds,
        max_retries=0,
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        use_responses_api=False,  # chat completions: what every OpenAI-compatible server speaks
        stream_usage=False,
    )
    return ANSWER_PROMPT | model | StrOutputParser()


def describe_failure(exc: BaseException) -> str:
    """A short reason for a failed call (the server's own text may carry anything, so it is never repeated)."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "the language model did not answer in time"
    if isinstance(exc, openai.APIConnectionError):
        return "the language model could not be reached"
    if isinstance(exc, openai.APIStatusError):
        return f"the language model's server answered HTTP {exc.status_code}"
    return f"the language model's reply was malformed ({type(exc).__name__})"


def reply_chunks(chain: TextChain, inputs: dict[str, str], stream: bool, timeout: float) -> Iterator[str]:
    """The reply's text as it arrives (one piece when not streaming). The call runs in a worker thread so that
    the whole reply — not just each read — is bounded by ``timeout``: past it, ``LLMFailure`` is raised at once
    and the worker is told to stop (its socket times out by itself within ``timeout``)."""
    messages: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        try:
            if stream:
                for chunk in chain.stream(inputs):
                    if stop.is_set():
                        return
                    messages.put(("text", chunk))
            else:
                messages.put(("text", chain.invoke(inputs)))
            messages.put(("done", None))
        except BaseException as exc:  # handed to the caller, who decides
            messages.put(("error", exc))

    threading.Thread(target=work, name="aidqa-llm-call", daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                kind, value = messages.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise LLMFailure(f"the language model did not finish within {timeout:g} s") from None
            if kind == "done":
                return
            if kind == "error":
                logger.warning("the language model failed: %s", type(value).__name__)
                if time.monotonic() >= deadline:
                    # The client's own read timeout (the same length, started a moment later) can be woken first on
                    # a busy machine: it is this deadline's failure all the same.
                    raise LLMFailure(f"the language model did not finish within {timeout:g} s") from value
                raise LLMFailure(describe_failure(value)) from value
            if not isinstance(value, str):
                raise LLMFailure(f"the language model's reply was malformed ({type(value).__name__})")
            yield value
    finally:
        stop.set()


@dataclass
class _Cited:
    """A passage some kept sentence cites: its citation id and the sentences of it that hold the claims."""

    id: int
    hit: ScoredChunk
    support: set[int] = field(default_factory=set)  # indices into split_sentences(chunk.text)
    numbers: set[str] = field(default_factory=set)
    terms: list[tuple[str, ...]] = field(default_factory=list)


class _AnswerBuilder:
    """Kept sentences → the answer text with markers renumbered to citation ids (in order of first mention), and
    the citations."""

    def __init__(self, language: str, hits: list[ScoredChunk], lexicon: Any) -> None:
        self.language, self.hits, self.lexicon = language, hits, lexicon
        self.cited: dict[int, _Cited] = {}
        self.parts: list[str] = []

    def add(self, s: CheckedSentence) -> str:
        """Take a verified sentence; returns its text as it goes into the answer (with its separator)."""
        claim = s.claim
        numbers = set(numbers_in(claim))
        terms = [g for g in query_term_groups(claim, self.lexicon) if not all(NUMBER_RE.fullmatch(x) for x in g)]
        for n in s.cited:
            cited = self.cited.get(n)
            if cited is None:
                cited = self.cited[n] = _Cited(len(self.cited) + 1, self.hits[n - 1])
            cited.support |= _supporting(cited.hit.chunk.text, numbers, terms)
            cited.numbers |= numbers
            cited.terms += terms
        text = _MARKER.sub(lambda m: f"[{self.cited[int(m.group(1))].id}]", s.text)
        separator = "" if not self.parts else "\n" if "\n" in s.gap else " " if self.language == "en" else ""
        self.parts.append(separator + text)
        return separator + text

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def citations(self, index: LoadedIndex) -> list[Citation]:
        out = []
        for c in sorted(self.cited.values(), key=lambda c: c.id):
            chunk = c.hit.chunk
            spans = split_sentences(chunk.text)
            chosen = [spans[i] for i in sorted(c.support)] or spans or [(0, len(chunk.text))]
            a, b = chosen[0][0], chosen[-1][1]  # one exact, contiguous quote from the first to the last
            quote = chunk.text[a:b]
            start, end = chunk.start + a, chunk.start + b
            folded = fold_for_match(quote)
            terms = list(dict.fromkeys(c.terms))
            score = sum(any(fold_for_match(x) in folded for x in g) for g in terms) / len(terms) if terms else 1.0
            raw_start, raw_end = index.documents[chunk.source].raw_span(start, end)
            highlights = [(f.start, f.end) for f in _figures_in(index, chunk.source, start, end)
                          if set(numbers_in(f.raw)) & c.numbers]
            out.append(Citation(id=c.id, source=chunk.source, section=chunk.section, quote=quote, start=start, end=end,
                                score=round(score, 4), passage=chunk.text, passage_start=chunk.start,
                                raw_start=raw_start, raw_end=raw_end, highlights=highlights))
        return out


def _supporting(passage: str, numbers: set[str], terms: list[tuple[str, ...]]) -> set[int]:
    """The sentences of ``passage`` that hold the claim: those with its numbers, else those sharing the most of its
    terms."""
    spans = split_sentences(passage)
    with_numbers = {i for i, (a, b) in enumerate(spans) if numbers & set(numbers_in(passage[a:b]))}
    if with_numbers:
        return with_numbers
    shared = [sum(any(fold_for_match(x) in fold_for_match(passage[a:b]) for x in g) for g in terms) for a, b in spans]
    best = max(shared, default=0)
    return {i for i, n in enumerate(shared) if n == best} if best else set()


def _figures_in(index: LoadedIndex, source: str, start: int, end: int) -> list:
    return [f for f in index.figures if f.source == source and start <= f.start and f.end <= end
            and f.kind in ("amount", "ordinal")]


class LLMAnswerer:
    """Answers with the language model and verifies every sentence; the ``fallback`` (the extractive answerer)
    answers whenever the model's reply cannot be used."""

    def __init__(self, index: LoadedIndex, answering: AnsweringSettings, llm: LLMSettings, fallback: ExtractiveAnswerer,
                 chain: TextChain | None = None) -> None:
        self.index, self.answering, self.llm, self.fallback = index, answering, llm, fallback
        self.chain = chain if chain is not None else build_chain(llm)

    def answer(self, question: str, language: str, hits: list[ScoredChunk], query_vector: np.ndarray,
               context: str | None = None, topic: str | None = None) -> Extraction:
        passages = hits[: self.llm.passages]
        settled = self.fallback.settled(analyse(question, language, self.index.keywords.lexicon), hits)
        if settled is not None:  # a subject no report names (a refusal), or a cover fact: the model is not asked
            return settled if settled.refused else self._with(
                settled, Grounding(checked=False, dropped=[], fallback_reason=settled.reason))
        if not passages:
            return self.fallback.answer(question, language, hits, query_vector, context, topic)
        lexicon = self.index.keywords.lexicon
        checker = ReplyChecker(question, language,
                               [GivenPassage(i + 1, h.chunk.text, h.chunk.section) for i, h in enumerate(passages)],
                               lexicon, self.llm.min_term_coverage, context)
        inputs = prompt_inputs(question, language,
                               [PromptPassage(i + 1, h.chunk.source, h.chunk.section, h.chunk.text)
                                for i, h in enumerate(passages)],
                               context, self.answering.list_max_sentences)
        builder = _AnswerBuilder(language, passages, lexicon)
        splitter = SentenceSplitter()
        sink = current_sink()
        streaming = sink is not None and sink.open
        dropped: list[CheckedSentence] = []
        said_no_answer = False

        def take(s: CheckedSentence) -> None:
            nonlocal said_no_answer
            if s.verdict == "kept" and topic and not builder.parts and not self._names_topic(s, passages, topic):
                # 合成生物那块呢？ after a question on 锂电池: a reply that leads with the earlier answer again is
                # grounded but answers the wrong thing. The answer must open on the follow-up's topic (later
                # sentences may go on about it without naming it), as the extractive answerer's quote must name it.
                s = replace(s, verdict="dropped", reason=f"the follow-up asks about {topic!r} but the sentence does "
                                                         "not name it", off_topic=True)
            if s.verdict == "kept":
                delta = builder.add(s)
                if streaming and sink is not None:
                    sink.send(delta)  # only now, after it passed: an unverified sentence is never sent
            elif s.verdict == "no_answer":
                said_no_answer = True
            else:
                logger.info("dropped a sentence of the model's reply: %s", s.reason)
                dropped.append(s)

        failure: str | None = None
        try:
            for chunk in reply_chunks(self.chain, inputs, streaming, self.llm.timeout_seconds):
                for sentence in splitter.feed(chunk):
                    take(checker.check(sentence))
            for sentence in splitter.finish():
                take(checker.check(sentence))
            if not splitter.text.strip():
                failure = "the language model's reply was empty"
        except LLMFailure as exc:
            failure = str(exc)
        finally:
            if streaming and sink is not None and builder.parts:
                sink.close()  # later answerer calls of this question (compound parts) do not stream

        masked = [mask_numbers(s.text) for s in dropped]

        def grounding(reason: str | None = None) -> Grounding:
            return Grounding(checked=failure is None, dropped=masked, fallback_reason=reason)

        if failure is not None:
            return self._fall_back(question, language, hits, query_vector, context, grounding(failure), topic)
        if builder.parts:
            citations = builder.citations(self.index)
            return Extraction(builder.text, False, citations, f"model reply: {len(builder.parts)} sentence(s) verified, "
                              f"{len(dropped)} dropped", self._figures(question, language, citations),
                              answered_by="llm", grounding=grounding())
        if said_no_answer:
            extractive = self.fallback.answer(question, language, hits, query_vector, context, topic)
            if extractive.refused:
                return Extraction(REFUSAL[language], True, [], "the model and the extractive answerer find no answer",
                                  answered_by="llm", grounding=grounding())
            return self._with(extractive, grounding("the language model found no answer in the passages, but report "
                                                    "sentences do answer"))
        if dropped and all(s.wrong_language for s in dropped):
            reason = f"the language model did not reply in the question's language ({language})"
        elif dropped and all(s.off_topic for s in dropped):
            reason = f"the language model's reply does not answer the follow-up's topic ({topic})"
        else:
            reason = "no sentence of the language model's reply could be verified against the passages"
        return self._fall_back(question, language, hits, query_vector, context, grounding(reason), topic)

    def _names_topic(self, s: CheckedSentence, passages: list[ScoredChunk], topic: str) -> bool:
        """Whether the reply sentence, or the heading of a passage it cites, names the follow-up's ``topic``."""
        headings = "\n".join(passages[n - 1].chunk.section for n in s.cited if 0 < n <= len(passages))
        return names_topic(f"{s.claim}\n{headings}", topic, self.index.keywords.lexicon.synonyms)

    def _fall_back(self, question: str, language: str, hits: list[ScoredChunk], query_vector: np.ndarray,
                   context: str | None, grounding: Grounding, topic: str | None = None) -> Extraction:
        logger.warning("answering with the extractive answerer: %s", grounding.fallback_reason)
        return self._with(self.fallback.answer(question, language, hits, query_vector, context, topic), grounding)

    @staticmethod
    def _with(result: Extraction, grounding: Grounding) -> Extraction:
        result.answered_by, result.grounding = "extractive", grounding
        return result

    def _figures(self, question: str, language: str, citations: list[Citation]) -> list[CitedFigure]:
        """For a how-much question, the figures the answer states, as the index recorded them."""
        if not analyse(question, language, self.index.keywords.lexicon).amount:
            return []
        by_span = {(f.source, f.start, f.end): f for f in self.index.figures}
        out = []
        for c in citations:
            for start, end in c.highlights:
                f = by_span.get((c.source, start, end))
                if f is not None:
                    out.append(CitedFigure(raw=f.raw, value=f.value, unit=f.unit, qualifier=f.qualifier,
                                           measures=f.measures, citation_id=c.id, start=f.start, end=f.end))
        return out


def make_answerer(index: LoadedIndex, answering: AnsweringSettings, llm: LLMSettings,
                  extractive: Callable[[], ExtractiveAnswerer]) -> Answerer:
    """The answerer ``answering.backend`` names; the extractive one is always built (it is the LLM's fallback)."""
    fallback = extractive()
    if answering.backend == "llm":
        return LLMAnswerer(index, answering, llm, fallback)
    return fallback
