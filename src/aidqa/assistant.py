"""The assistant: one object that owns the embedding model and the loaded index, and answers questions.

Every interface (Python, CLI, HTTP, UI) goes through ``Assistant.ask`` and gets the same typed ``Answer``.
"""

from __future__ import annotations

import logging
import threading
import time
import unicodedata

import re

from aidqa.answering import REFUSAL, ExtractiveAnswerer, Extraction, split_question, ungrounded_numbers
from aidqa.config import Settings
from aidqa.embeddings import SentenceEmbeddings
from aidqa.index import IndexStore, LoadedIndex, ProgressCallback
from aidqa.models import Answer, RetrievedPassage
from aidqa.retrieval import HybridRetriever, HybridSearcher
from aidqa.text import detect_language

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
        return Extraction(REFUSAL[language], True, [], "; ".join(r.reason for r in results))
    citations = []
    lines = []
    for r in results:
        if r.refused:
            lines.append(REFUSAL[language])
            continue
        renumber = {}
        for c in r.citations:
            existing = next((x for x in citations if (x.source, x.start, x.end) == (c.source, c.start, c.end)), None)
            if existing is None:
                existing = c.model_copy(update={"id": len(citations) + 1})
                citations.append(existing)
            renumber[c.id] = existing.id
        lines.append(re.sub(r"\[(\d+)\]", lambda m: f"[{renumber[int(m.group(1))]}]", r.answer))
    return Extraction("\n".join(lines), False, citations, "; ".join(r.reason for r in results))


class Assistant:
    """``Assistant().ask("天津累计投入了多少资金？")`` → ``Answer``. Models and index load on first use (the index is
    built if missing or stale); both are then reused for every question."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._lock = threading.Lock()
        self._embeddings: SentenceEmbeddings | None = None
        self._index: LoadedIndex | None = None
        self._searcher: HybridSearcher | None = None
        self._answerer: ExtractiveAnswerer | None = None
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
                self._answerer = ExtractiveAnswerer(self._index, self.embeddings, self.settings.answering)
            return self._index

    def rebuild(self, progress: ProgressCallback | None = None, force: bool = False) -> LoadedIndex:
        """Build the index now (``force``: even if it is up to date) and serve the new one."""
        index = self.store().build(progress, force=force)
        with self._lock:
            self._index = index
            self._searcher = HybridSearcher(index, self.embeddings, self.settings.retrieval)
            self._answerer = ExtractiveAnswerer(index, self.embeddings, self.settings.answering)
        return index

    @property
    def is_ready(self) -> bool:
        return self._index is not None

    def retriever(self, k: int | None = None) -> HybridRetriever:
        """The hybrid search as a LangChain retriever."""
        self.ensure_ready()
        assert self._searcher is not None
        return HybridRetriever(searcher=self._searcher, k=k or self.settings.top_k)

    # ---- asking -------------------------------------------------------------------------------------------

    def ask(self, question: str, history: list[tuple[str, str]] | None = None, top_k: int | None = None) -> Answer:
        """Answer ``question``. ``history`` (previous (user, assistant) turns) is accepted so that every interface
        already passes it; follow-up rewriting against it is not implemented yet — a follow-up is answered on its
        own words."""
        t0 = time.perf_counter()
        q = clean_question(question, self.settings.answering.max_question_chars)
        self.ensure_ready()
        assert self._searcher is not None and self._answerer is not None
        language = detect_language(q)
        k = top_k or self.settings.top_k
        parts = split_question(q)
        n = max(k, self.settings.answering.passages)
        t1 = time.perf_counter()
        vectors = self.embeddings.embed_queries(parts)
        part_hits = [self._searcher.search(p, n, query_vector=v.tolist()) for p, v in zip(parts, vectors)]
        t2 = time.perf_counter()
        results = [self._answerer.answer(p, language, h, v) for p, h, v in zip(parts, part_hits, vectors)]
        result = results[0] if len(results) == 1 else merge_extractions(results, language)
        hits = part_hits[0] if len(parts) == 1 else self._searcher.search(q, n)
        t3 = time.perf_counter()
        answer_text, refused, citations = result.answer, result.refused, result.citations
        if not refused and (bad := ungrounded_numbers(answer_text, citations)):
            # Never return a figure that is not in a cited quote.
            logger.error("refusing %r: numbers %s not in cited quotes", q, bad)
            answer_text, refused, citations = REFUSAL[language], True, []
        retrieved = [
            RetrievedPassage(chunk_id=h.chunk.id, source=h.chunk.source, section=h.chunk.section, start=h.chunk.start,
                             end=h.chunk.end, score=round(h.score, 6), text=h.chunk.text)
            for h in hits[:k]
        ]
        return Answer(
            question=q, answer=answer_text, refused=refused, citations=citations, language=language, retrieved=retrieved,
            timings_ms={"retrieval": round((t2 - t1) * 1000, 2), "answer": round((t3 - t2) * 1000, 2),
                        "total": round((time.perf_counter() - t0) * 1000, 2)},
        )
