"""The assistant: one object that owns the embedding model and the loaded index, and answers questions.

Every interface (Python, CLI, HTTP, UI) goes through ``Assistant.ask`` and gets the same typed ``Answer``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from aidqa.index.embeddings import SentenceEmbeddings
from aidqa.index.figures import Figure
from aidqa.index.store import IndexStore, LoadedIndex, ProgressCallback
from aidqa.models import Answer, RetrievedPassage
from aidqa.qa.analysis import split_question
from aidqa.qa.answerers.base import Answerer, Extraction, merged_provenance
from aidqa.qa.answerers.extractive import ExtractiveAnswerer
from aidqa.qa.answerers.llm import make_answerer
from aidqa.qa.conversation import Rewrite, condense
from aidqa.qa.grounding import ungrounded_numbers
from aidqa.qa.rendering import REFUSAL
from aidqa.qa.streaming import AnswerStream
from aidqa.retrieval.hybrid import HybridSearcher, ScoredChunk
from aidqa.retrieval.langchain import HybridRetriever
from aidqa.settings import Settings
from aidqa.zh.chars import has_question_words
from aidqa.zh.segment import detect_language

logger = logging.getLogger(__name__)


class InvalidQuestion(ValueError):
    """The question cannot be answered as given (empty, too long); the message says why."""


def clean_question(question: object, max_chars: int) -> str:
    """Validate and tidy a question; raise InvalidQuestion with a message a user can act on."""
    if not isinstance(question, str):
        raise InvalidQuestion("the question must be text")
    # Drop controls, zero-width and lone surrogates (they render as nothing or break encoders), keep the rest.
    cleaned = "".join(
        ch if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn") else ""
        for ch in question
    )
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise InvalidQuestion("the question is empty; please type a question about the reports (请输入问题)")
    if len(cleaned) > max_chars:
        raise InvalidQuestion(
            f"the question is {len(cleaned)} characters long; the limit is {max_chars} (问题过长，请缩短到{max_chars}字以内)"
        )
    return cleaned


def merge_extractions(results: list[Extraction], language: str) -> Extraction:
    """One answer for a compound question: each part's sentences with renumbered citations; a part the reports
    do not answer says so; refused only when no part is answered."""
    if all(r.refused for r in results):
        return Extraction(REFUSAL[language], True, [], "; ".join(r.reason for r in results), **merged_provenance(results))
    citations = []
    lines = []
    figures = []
    for r in results:
        if r.refused:
            lines.append(REFUSAL[language])
            continue
        renumber: dict[int, int] = {}
        for c in r.citations:
            existing = next((x for x in citations if (x.source, x.start, x.end) == (c.source, c.start, c.end)), None)
            if existing is None:
                existing = c.model_copy(update={"id": len(citations) + 1})
                citations.append(existing)
            renumber[c.id] = existing.id
        # A computed total belongs to a single question; in a compound answer it is left out, with its line.
        text = "\n".join(line for line in r.answer.split("\n") if not (r.total and r.total.text in line))
        lines.append(re.sub(r"\[(\d+)\]", lambda m, table=renumber: f"[{table[int(m.group(1))]}]", text))
        figures += [f.model_copy(update={"citation_id": renumber[f.citation_id]}) for f in r.figures]
    return Extraction("\n".join(lines), False, citations, "; ".join(r.reason for r in results), figures,
                      **merged_provenance(results))


class Assistant:
    """``Assistant().ask("天津累计投入了多少资金？")`` → ``Answer``. Models and index load on first use (the index is
    built if missing or stale); both are then reused for every question."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._lock = threading.Lock()
        self._embeddings: SentenceEmbeddings | None = None
        self._index: LoadedIndex | None = None
        self._searcher: HybridSearcher | None = None
        self._answerer: Answerer | None = None
        self.load_seconds: dict[str, float] = {}

    # ---- lifecycle ----------------------------------------------------------------------------------------

    @property
    def embeddings(self) -> SentenceEmbeddings:
        if self._embeddings is None:
            t = time.perf_counter()
            self._embeddings = SentenceEmbeddings.from_settings(self.settings)
            self.load_seconds["embedding_model"] = time.perf_counter() - t
        return self._embeddings

    def store(self) -> IndexStore:
        return IndexStore(self.settings, self.embeddings)

    def ensure_ready(self, progress: ProgressCallback | None = None) -> LoadedIndex:
        """Load the index, building it first if it is missing, stale or corrupt."""
        with self._lock:
            if self._index is None:
                t = time.perf_counter()
                self._index = self.store().ensure(progress)
                self.load_seconds["index"] = time.perf_counter() - t
                self._searcher = HybridSearcher(self._index, self.embeddings, self.settings.retrieval)
                self._answerer = self._new_answerer(self._index)
            return self._index

    def rebuild(self, progress: ProgressCallback | None = None, force: bool = False) -> LoadedIndex:
        """Build the index now (``force``: even if it is up to date) and serve the new one."""
        index = self.store().build(progress, force=force)
        with self._lock:
            self._index = index
            self._searcher = HybridSearcher(index, self.embeddings, self.settings.retrieval)
            self._answerer = self._new_answerer(index)
        return index

    def _new_answerer(self, index: LoadedIndex) -> Answerer:
        """The extractive answerer, or the LLM answerer over it when ``answering.backend`` is "llm"."""
        return make_answerer(index, self.settings.answering, self.settings.llm,
                             lambda: ExtractiveAnswerer(index, self.embeddings, self.settings.answering))

    def unload(self) -> None:
        """Drop the loaded index (questions then wait for ``ensure_ready``), closing its vector store."""
        with self._lock:
            index, self._index, self._searcher, self._answerer = self._index, None, None, None
        if index is not None:
            index.close()

    def probe(self) -> str | None:
        """None when the loaded index can answer: its vector store's files are in place and a real one-row query
        succeeds. Otherwise why not (for logs and the health check; no library internals)."""
        index = self._index
        if index is None:
            return "the index is not loaded"
        if index.vector_dir is not None and not (Path(index.vector_dir) / "chroma.sqlite3").is_file():
            return f"the vector store of build {Path(index.path).name} is gone from disk"
        dimension = self.embeddings.dimension
        try:
            index.vectorstore.similarity_search_by_vector([1.0 / dimension**0.5] * dimension, k=1)
        except Exception as exc:  # chromadb and sqlite raise their own
            logger.warning("the vector store of %s failed a probe: %s", index.path, exc)
            return f"the vector store of build {Path(index.path).name} does not answer ({type(exc).__name__})"
        return None

    @property
    def is_ready(self) -> bool:
        return self._index is not None

    def figures(self) -> list[Figure]:
        """Every figure in the reports (extracted at index time), in report order."""
        return self.ensure_ready().figures

    def retriever(self, k: int | None = None) -> HybridRetriever:
        """The hybrid search as a LangChain retriever."""
        self.ensure_ready()
        assert self._searcher is not None
        return HybridRetriever(searcher=self._searcher, k=k or self.settings.top_k)

    # ---- asking -------------------------------------------------------------------------------------------

    def ask(self, question: str, history: Sequence[tuple[str, str]] | None = None, top_k: int | None = None) -> Answer:
        """Answer ``question``. ``history`` holds the earlier (user, assistant) turns of a conversation; a follow-up
        (那教育方面呢？) is rewritten against the earlier questions before retrieval (see ``aidqa.qa.conversation``)."""
        t0 = time.perf_counter()
        q = clean_question(question, self.settings.answering.max_question_chars)
        turns = self._clean_history(history)
        if not has_question_words(q):
            # Nothing to look up ("1", "alert(1)", markup): refused at once, never answered with a nearest passage.
            language = "en" if q.isascii() else "zh"
            return Answer(question=q, answer=REFUSAL[language], refused=True, language=language,
                          timings_ms={"total": round((time.perf_counter() - t0) * 1000, 2)})
        self.ensure_ready()
        k = top_k or self.settings.top_k
        n = max(k, self.settings.answering.passages)
        rewrite = condense(q, turns, self._term_similarity, self.settings.conversation)
        language = detect_language(rewrite.question)
        timings = {"retrieval": 0.0, "answer": 0.0}
        result, hits = self._extract(rewrite, language, n, timings)
        if result.refused and rewrite.kind == "standalone" and rewrite.previous:
            # A complete-looking question may still be about the previous turn (手术做了多少例？ after a question
            # on a hospital's record): search again with the previous question before giving up.
            retry = Rewrite(q, f"{q} {rewrite.previous}", "dependent", rewrite.previous)
            retry_result, retry_hits = self._extract(retry, language, n, timings)
            if not retry_result.refused:
                rewrite, result, hits = retry, retry_result, retry_hits
        answer_text, refused, citations = result.answer, result.refused, result.citations
        figures, total = result.figures, result.total
        if not refused and (bad := ungrounded_numbers(answer_text, citations, total)):
            # Never return a figure that is not in a cited quote (or a total that does not add up from them).
            logger.error("refusing %r: numbers %s not in cited quotes", q, bad)
            answer_text, refused, citations, figures, total = REFUSAL[language], True, [], [], None
        retrieved = [
            RetrievedPassage(chunk_id=h.chunk.id, source=h.chunk.source, section=h.chunk.section, start=h.chunk.start,
                             end=h.chunk.end, score=round(h.score, 6), text=h.chunk.text)
            for h in hits[:k]
        ]
        return Answer(
            question=q, answer=answer_text, refused=refused, citations=citations, language=language, retrieved=retrieved,
            figures=figures, total=total,
            standalone_question=rewrite.question if rewrite.kind == "ellipsis" else None,
            retrieval_query=rewrite.retrieval_query if rewrite.rewritten else None,
            timings_ms={**{stage: round(ms, 2) for stage, ms in timings.items()},
                        "total": round((time.perf_counter() - t0) * 1000, 2)},
            answered_by=result.answered_by, grounding=result.grounding,
        )

    def ask_stream(self, question: str, history: Sequence[tuple[str, str]] | None = None, top_k: int | None = None,
                   on_done: Callable[[], None] | None = None) -> AnswerStream:
        """``ask`` as a stream of events (``aidqa.qa.streaming``): verified sentences as they pass, then the full
        ``Answer`` — the same one ``ask`` returns. An invalid question raises ``InvalidQuestion`` here, before
        anything is streamed; answering starts at once in a worker thread, and ``on_done`` runs when it ends."""
        clean_question(question, self.settings.answering.max_question_chars)
        return AnswerStream(lambda: self.ask(question, history=history, top_k=top_k), on_done)

    def _extract(self, rewrite: Rewrite, language: str, n: int,
                 timings: dict[str, float]) -> tuple[Extraction, list[ScoredChunk]]:
        """Retrieve for ``rewrite.retrieval_query`` and extract the answer to ``rewrite.question`` (part by part if
        compound); adds the milliseconds spent to ``timings``."""
        assert self._searcher is not None and self._answerer is not None
        t = time.perf_counter()
        question, retrieval_query = rewrite.question, rewrite.retrieval_query
        parts = split_question(question)
        if len(parts) == 1:
            vector = self.embeddings.embed_queries([retrieval_query])[0]
            hits = self._searcher.search(retrieval_query, n, query_vector=vector.tolist())
            t_mid = time.perf_counter()
            context = rewrite.previous if rewrite.kind == "dependent" else None
            result = self._answerer.answer(question, language, hits, vector, context)
        else:
            vectors = self.embeddings.embed_queries(parts)
            part_hits = [self._searcher.search(p, n, query_vector=v.tolist()) for p, v in zip(parts, vectors)]
            hits = self._searcher.search(retrieval_query, n)
            t_mid = time.perf_counter()
            results = [self._answerer.answer(p, language, h, v) for p, h, v in zip(parts, part_hits, vectors)]
            result = merge_extractions(results, language)
        timings["retrieval"] += (t_mid - t) * 1000
        timings["answer"] += (time.perf_counter() - t_mid) * 1000
        return result, hits

    def _term_similarity(self, term: str, candidates: list[str]) -> np.ndarray:
        vectors = self.embeddings.embed_queries([term, *candidates])
        return vectors[1:] @ vectors[0]

    def _clean_history(self, history: Sequence[tuple[str, str]] | None) -> list[tuple[str, str]]:
        """Earlier turns, tidied like questions; a turn that is not (text, text) or is empty is dropped, not fatal —
        a chat client's history should never stop the current question from being answered."""
        turns: list[tuple[str, str]] = []
        for turn in history or []:
            try:
                user, reply = turn
                turns.append((clean_question(user, self.settings.answering.max_question_chars), str(reply or "")))
            except (TypeError, ValueError):
                logger.warning("ignoring a malformed history turn: %r", turn)
        return turns
