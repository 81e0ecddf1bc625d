"""The assistant: one object that owns the embedding model and the loaded index, and answers questions.

Every interface (Python, CLI, HTTP, UI) goes through ``Assistant.ask`` and gets the same typed ``Answer``. A question
may be restricted to some reports of the corpus (``documents``); the reports themselves are listed by ``reports()``.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from aidqa.index.catalogue import ReportEntry, SkippedEntry, list_reports, list_skipped, resolve_reports
from aidqa.index.embeddings import SentenceEmbeddings
from aidqa.index.figures import Figure
from aidqa.index.store import IndexStore, IndexUnavailable, LoadedIndex, ProgressCallback
from aidqa.models import Answer, RetrievedPassage
from aidqa.qa.analysis import QuestionAnalysis, analyse, split_question
from aidqa.qa.answerers.base import Answerer, Extraction, merged_provenance
from aidqa.qa.answerers.extractive import ExtractiveAnswerer
from aidqa.qa.answerers.llm import make_answerer
from aidqa.qa.conversation import Rewrite, condense, stands_alone
from aidqa.qa.examples import GENERIC_EXAMPLES, Example, examples_from
from aidqa.qa.grounding import ungrounded_numbers
from aidqa.qa.overview import Overviewer
from aidqa.qa.rendering import (
    MARKER,
    PART_REFUSAL,
    PART_SEE_ABOVE,
    REFUSAL,
    cites_several_reports,
    part_label,
    render_answer,
)
from aidqa.qa.scope import ReportScope
from aidqa.qa.streaming import AnswerStream
from aidqa.retrieval.hybrid import HybridSearcher, ScoredChunk
from aidqa.retrieval.langchain import HybridRetriever
from aidqa.settings import Settings
from aidqa.zh.chars import fold_for_match, has_question_words
from aidqa.zh.segment import detect_language

logger = logging.getLogger(__name__)


class InvalidQuestion(ValueError):
    """The question cannot be answered as given (empty, too long); the message says why."""


_SPACE_BETWEEN_HAN = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


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
    # Chinese does not space its words: 天津 累计 投入了 is 天津累计投入了 (a space would split a phrase the analysis
    # reads whole, such as 投入了多少).
    cleaned = _SPACE_BETWEEN_HAN.sub("", cleaned)
    if not cleaned:
        raise InvalidQuestion("the question is empty; please type a question about the reports (请输入问题)")
    if len(cleaned) > max_chars:
        raise InvalidQuestion(
            f"the question is {len(cleaned)} characters long; the limit is {max_chars} (问题过长，请缩短到{max_chars}字以内)"
        )
    return cleaned


def merge_extractions(results: list[Extraction], language: str) -> Extraction:
    """One answer for a compound question: each part's sentences with renumbered citations; a part the reports
    do not answer says so, and then every part is labelled (第一问：…); refused only when no part is answered.
    When the parts are answered from different reports, every part names the report of each of its figures and
    quotes."""
    if all(r.refused for r in results):
        return Extraction(REFUSAL[language], True, [], "; ".join(r.reason for r in results), **merged_provenance(results))
    several = cites_several_reports([c for r in results if not r.refused for c in r.citations])
    citations = []
    lines = []
    figures = []
    mixed = any(r.refused for r in results)
    for i, r in enumerate(results):
        label = part_label(language, i) if mixed else ""
        if r.refused:
            lines.append(label + PART_REFUSAL[language] if label else REFUSAL[language])
            continue
        renumber: dict[int, int] = {}
        for c in r.citations:
            existing = next((x for x in citations if (x.source, x.start, x.end) == (c.source, c.start, c.end)), None)
            if existing is None:
                existing = c.model_copy(update={"id": len(citations) + 1})
                citations.append(existing)
            renumber[c.id] = existing.id
        if several:
            # Rendered again with the reports named; without the part's total (see below).
            text = render_answer(language, r.citations, r.figures, None, name_reports=True)
        else:
            # A computed total belongs to a single question; in a compound answer it is left out, with its line.
            text = "\n".join(line for line in r.answer.split("\n") if not (r.total and r.total.text in line))
        text = _renumber_markers(text, renumber, [c.quote for c in r.citations])
        # Two parts answered by one sentence (a table row holds the amount and its growth) quote it once.
        new = [line for line in text.split("\n") if line not in lines]
        if label:
            new = [label + new[0], *new[1:]] if new else [label + PART_SEE_ABOVE[language]]
        lines += new
        figures += [f.model_copy(update={"citation_id": renumber[f.citation_id]}) for f in r.figures]
    return Extraction("\n".join(lines), False, citations, "; ".join(r.reason for r in results), figures,
                      **merged_provenance(results))


def _renumber_markers(text: str, table: dict[int, int], quotes: list[str]) -> str:
    """``text``'s citation markers [n] renumbered by ``table``. A report's own bracketed numbers inside a quote
    (a communique's footnote marks: [2]地区生产总值…) are the report's words and stay as written; a marker that is
    not a citation's is left alone."""
    held: dict[str, str] = {}
    for i, quote in enumerate(sorted({q for q in quotes if MARKER.search(q) and q in text}, key=len, reverse=True)):
        held[f"\x00{i}\x00"] = quote
        text = text.replace(quote, f"\x00{i}\x00")
    text = MARKER.sub(lambda m: f"[{table[int(m.group(1))]}]" if int(m.group(1)) in table else m.group(0), text)
    for key, quote in held.items():
        text = text.replace(key, quote)
    return text


def _names_a_thing(q: QuestionAnalysis) -> bool:
    """Whether a question names a place, an organisation or another named thing: a year alone (2022年是多少？) names
    none, and leaves its subject to the question before."""
    return any(not a[0][:1].isdigit() for a in q.anchors)


_RETIRED_INDEX_GRACE_SECONDS = 30.0  # a replaced build stays open this long for questions already under way


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
        self._scope: ReportScope | None = None
        self._overviewer: Overviewer | None = None
        # The report listing of the loaded index (it reads the corpus folder, so it is made once per index).
        self._listing: tuple[LoadedIndex, list[ReportEntry], list[SkippedEntry]] | None = None
        self._examples: tuple[LoadedIndex, list[Example]] | None = None
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
                index = self.store().ensure(progress)
                self.load_seconds["index"] = time.perf_counter() - t
                self._serve(index)
            return self._index

    def rebuild(self, progress: ProgressCallback | None = None, force: bool = False) -> LoadedIndex:
        """Build the index now (``force``: even if it is up to date) and serve the new one."""
        index = self.store().build(progress, force=force)
        with self._lock:
            self._serve(index)
        return index

    def _serve(self, index: LoadedIndex) -> None:
        """Answer from ``index`` from now on (the caller holds the lock)."""
        self._scope = ReportScope(index, self.settings.answering.report_cover_chars,
                                  self.settings.answering.title_word_min_share)
        self._searcher = HybridSearcher(index, self.embeddings, self.settings.retrieval)
        self._answerer = self._new_answerer(index, self._scope)
        self._overviewer = Overviewer(index, self.settings.answering)
        self._index = index

    def _new_answerer(self, index: LoadedIndex, scope: ReportScope) -> Answerer:
        """The extractive answerer, or the LLM answerer over it when ``answering.backend`` is "llm"."""
        return make_answerer(index, self.settings.answering, self.settings.llm,
                             lambda: ExtractiveAnswerer(index, self.embeddings, self.settings.answering, scope))

    def unload(self) -> None:
        """Drop the loaded index (questions then wait for ``ensure_ready``), closing its vector store."""
        with self._lock:
            index, self._index, self._searcher, self._answerer, self._scope = self._index, None, None, None, None
            self._overviewer = None
        if index is not None:
            index.close()

    def refresh(self) -> bool:
        """Serve the build the index's CURRENT names now, if that is not the loaded one (an indexer, possibly in
        another process, swapped in a new build). The new build is loaded beside the old one and then answers; the
        old one is closed a little later, so that questions already under way finish on it. True when it switched."""
        index = self._index
        if index is None:
            return False
        store = self.store()
        if store.is_current(index):
            return False
        try:
            fresh = store.load()
        except IndexUnavailable as exc:
            logger.warning("a new index build is current but cannot be loaded; still serving %s: %s", index.path, exc)
            return False
        with self._lock:
            if self._index is not index:  # another thread switched or unloaded meanwhile
                fresh.close()
                return False
            self._serve(fresh)
        logger.info("now serving index build %s (was %s)", Path(fresh.path).name, Path(index.path).name)
        closer = threading.Timer(_RETIRED_INDEX_GRACE_SECONDS, index.close)
        closer.daemon = True
        closer.start()
        return True

    def probe(self) -> str | None:
        """None when the loaded index can answer: its vector store's files are in place and a real one-row query
        succeeds. Otherwise why not (for logs and the health check; no library internals). A newer build made by an
        indexer is picked up first (``refresh``), so a long-running server follows the index without a restart."""
        self.refresh()
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

    def retriever(self, k: int | None = None, documents: Sequence[str] | None = None) -> HybridRetriever:
        """The hybrid search as a LangChain retriever (over the reports ``documents`` names, or all)."""
        index = self.ensure_ready()
        assert self._searcher is not None
        sources = resolve_reports(index, documents) if documents else None
        return HybridRetriever(searcher=self._searcher, k=k or self.settings.top_k, sources=sources)

    def reports(self) -> list[ReportEntry]:
        """The reports of the loaded index (id, title, format, pages, counts), in corpus order."""
        return self._catalogue()[0]

    def skipped_files(self) -> list[SkippedEntry]:
        """The corpus files the loaded index left out, with the reason for each."""
        return self._catalogue()[1]

    def _catalogue(self) -> tuple[list[ReportEntry], list[SkippedEntry]]:
        index = self.ensure_ready()
        listing = self._listing
        if listing is None or listing[0] is not index:
            corpus = Path(self.settings.corpus_dir)
            listing = (index, list_reports(index, corpus), list_skipped(index, corpus))
            self._listing = listing
        return listing[1], listing[2]

    def examples(self) -> list[Example]:
        """Example questions that suit the loaded reports (made from their titles and figures), for the UI and the
        API docs; empty until the index is loaded (never waits for it)."""
        index = self._index
        if index is None:
            return []
        cached = self._examples
        if cached is None or cached[0] is not index:
            cached = (index, examples_from(index))
            self._examples = cached
        return list(cached[1])

    def example_questions(self) -> list[str]:
        """The examples' questions, or generic ones while no index is loaded (or none of its figures suits)."""
        return [e.question for e in self.examples()] or list(GENERIC_EXAMPLES)

    # ---- asking -------------------------------------------------------------------------------------------

    def ask(self, question: str, history: Sequence[tuple[str, str]] | None = None, top_k: int | None = None,
            documents: Sequence[str] | None = None) -> Answer:
        """Answer ``question``. ``history`` holds the earlier (user, assistant) turns of a conversation; a follow-up
        (那教育方面呢？) is rewritten against the earlier questions before retrieval (see ``aidqa.qa.conversation``).
        ``documents`` restricts the answer to those reports: report ids (file paths relative to the corpus folder, as
        in a citation's ``source``) or titles no other report shares; None or empty means every report. An id or
        title that names no report raises ``aidqa.index.catalogue.UnknownReports`` (a ``ValueError``)."""
        t0 = time.perf_counter()
        q = clean_question(question, self.settings.answering.max_question_chars)
        turns = self._clean_history(history)
        allowed = frozenset(resolve_reports(self.ensure_ready(), documents)) if documents else None
        if not has_question_words(q):
            # Nothing to look up ("1", "alert(1)", markup): refused at once, never answered with a nearest passage.
            language = "en" if q.isascii() else "zh"
            return Answer(question=q, answer=REFUSAL[language], refused=True, language=language,
                          timings_ms={"total": round((time.perf_counter() - t0) * 1000, 2)})
        self.ensure_ready()
        if (overview := self._overview(q, allowed)) is not None:
            return overview.model_copy(update={"timings_ms": {
                "overview": round((time.perf_counter() - t0) * 1000, 2), "total": round((time.perf_counter() - t0) * 1000, 2)}})
        k = top_k or self.settings.top_k
        n = max(k, self.settings.answering.passages)
        rewrite = condense(q, turns, self._term_similarity, self.settings.conversation, self._corpus_holds)
        language = detect_language(rewrite.question)
        timings = {"retrieval": 0.0, "answer": 0.0}
        result, hits = self._extract(rewrite, language, n, timings, allowed)
        for alternative in rewrite.alternatives if result.refused else ():
            # The topic may stand in for more (or less) of the earlier question than the likeliest term: 合成生物那块
            # 呢？ after 公司锂电池电解液添加剂产能有多少？ replaces the whole product line, not 锂电池 alone. The
            # answerer still requires the quote to name the topic.
            retry = dataclasses.replace(rewrite, question=alternative, retrieval_query=alternative, alternatives=())
            retry_result, retry_hits = self._extract(retry, language, n, timings, allowed)
            if not retry_result.refused:
                logger.info("follow-up answered as %r", alternative)
                rewrite, result, hits = retry, retry_result, retry_hits
                break
        if result.refused and rewrite.kind == "standalone" and rewrite.previous:
            # A complete-looking question may still be about the previous turn (手术做了多少例？ after a question
            # on a hospital's record): search again with the previous question before giving up.
            retry = Rewrite(q, f"{q} {rewrite.previous}", "dependent", rewrite.previous)
            retry_result, retry_hits = self._extract(retry, language, n, timings, allowed)
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

    def _overview(self, q: str, allowed: frozenset[str] | None) -> Answer | None:
        """The overview answer when ``q`` asks what the reports (or the ones it names) say as a whole, or for their
        main figures (``aidqa.qa.overview``); None for any other question. Answered as asked, never as a follow-up:
        "这篇报告主要讲了什么？" after another question is still about the whole report. Both answerers give the
        same overview (it quotes the reports' own lead sentences; there is nothing for a language model to add)."""
        assert self._overviewer is not None
        if len(split_question(q)) > 1:
            return None
        language = detect_language(q)
        sources = self._sources_for(q, language, allowed)
        kind = self._overviewer.kind(q, sources)
        if kind is None:
            return None
        result = self._overviewer.answer(kind, language, sources)
        if not result.refused and (bad := ungrounded_numbers(result.answer, result.citations)):
            logger.error("refusing the overview %r: numbers %s not in cited quotes", q, bad)
            result = Extraction(REFUSAL[language], True, [], "ungrounded overview")
        return Answer(question=q, answer=result.answer, refused=result.refused, citations=result.citations,
                      language=language)

    def ask_stream(self, question: str, history: Sequence[tuple[str, str]] | None = None, top_k: int | None = None,
                   on_done: Callable[[], None] | None = None, documents: Sequence[str] | None = None) -> AnswerStream:
        """``ask`` as a stream of events (``aidqa.qa.streaming``): verified sentences as they pass, then the full
        ``Answer`` — the same one ``ask`` returns. An invalid question raises ``InvalidQuestion`` here, before
        anything is streamed; answering starts at once in a worker thread, and ``on_done`` runs when it ends."""
        clean_question(question, self.settings.answering.max_question_chars)
        return AnswerStream(lambda: self.ask(question, history=history, top_k=top_k, documents=documents), on_done)

    def _extract(self, rewrite: Rewrite, language: str, n: int, timings: dict[str, float],
                 allowed: frozenset[str] | None = None) -> tuple[Extraction, list[ScoredChunk]]:
        """Retrieve for ``rewrite.retrieval_query`` and extract the answer to ``rewrite.question`` (part by part if
        compound), from the reports ``allowed`` (all when None) that the question singles out; adds the
        milliseconds spent to ``timings``."""
        assert self._searcher is not None and self._answerer is not None and self._scope is not None
        t = time.perf_counter()
        question, retrieval_query = rewrite.question, rewrite.retrieval_query
        context = rewrite.previous if rewrite.kind == "dependent" else None
        parts = split_question(question)
        # Which reports to search is read from the question as asked; a report's title it names (《…》) is then
        # left out of what is searched for and matched.
        plain = self._scope.without_titles
        if len(parts) == 1:
            sources = self._sources_for(question, language, allowed, context)
            retrieval_query, question = plain(retrieval_query), plain(question)
            vector = self.embeddings.embed_queries([retrieval_query])[0]
            hits = self._searcher.search(retrieval_query, n, query_vector=vector.tolist(), sources=sources)
            t_mid = time.perf_counter()
            topic = rewrite.topic if rewrite.kind == "ellipsis" else None
            result = self._answerer.answer(question, language, hits, vector, context, topic)
        else:
            part_sources = [self._sources_for(p, language, allowed) for p in parts]
            sources = self._sources_for(question, language, allowed)
            parts = [plain(p) for p in parts]
            # A later part often leaves its subject to the first (…油料产量是多少万吨？比上年增长百分之几？): it is
            # searched together with the part before it, whose terms count as its context, as for a follow-up. One
            # that names its own subject is asked as it stands: the part before must not lend it terms it lacks.
            lexicon = self._index.keywords.lexicon if self._index is not None else None
            contexts = [context, *(context if stands_alone(p, _names_a_thing(analyse(p, language, lexicon))) else before
                                   for p, before in zip(parts[1:], parts[:-1]))]
            queries = [p if c is None or c is context else f"{c} {p}" for p, c in zip(parts, contexts)]
            vectors = self.embeddings.embed_queries(queries)
            part_hits = [self._searcher.search(p, n, query_vector=v.tolist(), sources=ps)
                         for p, v, ps in zip(queries, vectors, part_sources)]
            hits = self._searcher.search(plain(retrieval_query), n, sources=sources)
            t_mid = time.perf_counter()
            results = [self._answerer.answer(p, language, h, v, c)
                       for p, h, v, c in zip(parts, part_hits, vectors, contexts)]
            result = merge_extractions(results, language)
        timings["retrieval"] += (t_mid - t) * 1000
        timings["answer"] += (time.perf_counter() - t_mid) * 1000
        return result, hits

    def _sources_for(self, question: str, language: str, allowed: frozenset[str] | None,
                     previous: str | None = None) -> frozenset[str] | None:
        """The reports to search for ``question``: those of ``allowed`` that it singles out by what it names (or, for
        a follow-up that names nothing, that the question it follows singles out); ``allowed`` otherwise."""
        assert self._scope is not None
        named = self._scope.named_reports(analyse(question, language), allowed)
        if named is None and previous:
            named = self._scope.named_reports(analyse(previous, detect_language(previous)), allowed)
        return named if named is not None else allowed

    def _corpus_holds(self, text: str) -> bool:
        """Whether some report of the loaded index holds ``text`` (folded)."""
        assert self._scope is not None
        return bool(self._scope.reports_holding(fold_for_match(text)))

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
