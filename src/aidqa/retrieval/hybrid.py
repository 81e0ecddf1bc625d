"""Hybrid retrieval: dense (Chroma) + BM25 over jieba words + BM25 over character bigrams, fused by reciprocal
rank fusion. Dense search carries English and paraphrased questions; the two BM25 views carry exact names and
figures; fusion by rank needs no score calibration between them.

A search can be restricted to some reports of the corpus (``sources``): the BM25 views score only those reports'
chunks, and the dense search keeps only their passages, so each retriever still contributes its full number of
candidates from the reports asked for. When those reports hold a large share of the corpus, an unfiltered dense
search over-fetching by the inverse of that share is cheaper than Chroma's metadata filter and returns the same
passages (up to the approximation of Chroma's vector index); otherwise the filter runs inside Chroma.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np

from aidqa.index.chunking import Chunk
from aidqa.index.embeddings import SentenceEmbeddings
from aidqa.index.keyword import BM25View
from aidqa.index.store import LoadedIndex
from aidqa.settings import RetrievalSettings
from aidqa.zh.segment import char_bigrams, tokenize_words
from aidqa.zh.terms import expansion_text


@dataclass
class ScoredChunk:
    chunk: Chunk
    score: float  # fused RRF score
    ranks: dict[str, int] = field(default_factory=dict)  # retriever → 1-based rank (absent: not retrieved)


def reciprocal_rank_fusion(rankings: dict[str, list[int]], weights: dict[str, float], k: int) -> list[tuple[int, float, dict[str, int]]]:
    """Fuse ranked lists of item ids: score(item) = sum over lists of weight / (k + rank)."""
    scores: dict[int, float] = {}
    ranks: dict[int, dict[str, int]] = {}
    for name, ranking in rankings.items():
        w = weights.get(name, 1.0)
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + w / (k + rank)
            ranks.setdefault(item, {})[name] = rank
    ordered = sorted(scores, key=lambda i: (-scores[i], i))
    return [(i, scores[i], ranks[i]) for i in ordered]


def overfetch_size(n: int, allowed: int, total: int) -> int:
    """How many passages of the whole corpus an unfiltered search fetches to expect ``n`` of ``allowed`` ones among
    them: twice the inverse share, so that reports whose passages cluster below the others still usually make it."""
    return min(total, -(-2 * n * total // max(allowed, 1)))


class HybridSearcher:
    """Runs the three retrievers over one loaded index and fuses them."""

    def __init__(self, index: LoadedIndex, embeddings: SentenceEmbeddings, settings: RetrievalSettings) -> None:
        self.index = index
        self.embeddings = embeddings
        self.settings = settings
        self._position = {c.id: i for i, c in enumerate(index.chunks)}
        # Each chunk's report as a small integer: a mask over the integers is a vectorised lookup, where np.isin
        # over an object array of names compares strings one by one (seconds per question at 100k chunks).
        self._source_code: dict[str, int] = {}
        codes = [self._source_code.setdefault(c.source, len(self._source_code)) for c in index.chunks]
        self._sources = np.array(codes, dtype=np.int32)

    def _mask(self, sources: Collection[str] | None) -> np.ndarray | None:
        """True for the chunks of ``sources``; None when the search is not restricted."""
        if sources is None:
            return None
        wanted = np.zeros(len(self._source_code) + 1, dtype=bool)
        wanted[[self._source_code[s] for s in sources if s in self._source_code]] = True
        return wanted[self._sources]

    def _bm25_ranking(self, bm25: BM25View, tokens: list[str], mask: np.ndarray | None = None) -> list[int]:
        if not tokens:
            return []
        scores = bm25.get_scores(tokens)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)  # other reports' chunks never rank (only scores > 0 do)
        # Only chunks holding a query term score above 0: sort those, not the whole corpus (ties by position).
        hits = np.flatnonzero(scores > 0)
        order = hits[np.argsort(-scores[hits], kind="stable")]
        return [int(i) for i in order[: self.settings.candidates]]

    def _dense_hits(self, query_vector: list[float], k: int, where: dict | None) -> list[int]:
        hits = self.index.vectorstore.similarity_search_by_vector_with_relevance_scores(query_vector, k=k, filter=where)
        return [self._position[doc.id] for doc, _distance in hits if doc.id in self._position]

    def dense_ranking(self, query_vector: list[float], sources: Collection[str] | None = None) -> list[int]:
        if sources is None:
            n = min(self.settings.candidates, len(self.index.chunks))
            return self._dense_hits(query_vector, n, None) if n else []
        mask = self._mask(sources)
        allowed = int(mask.sum())
        n = min(self.settings.candidates, allowed)
        if n == 0:
            return []
        fetch = overfetch_size(n, allowed, len(self.index.chunks))
        if fetch <= self.settings.dense_overfetch_max:
            # The top `fetch` of the whole corpus, in order, then these reports' among them: when at least n are
            # there, they are exactly the top n a filtered search returns.
            kept = [i for i in self._dense_hits(query_vector, fetch, None) if mask[i]]
            if len(kept) >= n:
                return kept[:n]
        # Chroma applies the metadata filter inside the search, so all n hits come from these reports.
        return self._dense_hits(query_vector, n, {"source": {"$in": sorted(sources)}})

    def search(self, query: str, k: int, query_vector: list[float] | None = None,
               sources: Collection[str] | None = None) -> list[ScoredChunk]:
        """The top ``k`` passages for ``query``; only from the reports ``sources`` names when it is given (report
        ids, i.e. chunk sources)."""
        if query_vector is None:
            query_vector = self.embeddings.embed_query(query)
        # Keyword search also looks for the Chinese words of an English question (the corpus's own words).
        keyword_query = f"{query} {expansion_text(query, self.index.keywords.lexicon)}"
        mask = self._mask(sources)
        rankings = {
            "dense": self.dense_ranking(query_vector, sources),
            "words": self._bm25_ranking(self.index.keywords.words, tokenize_words(keyword_query), mask),
            "bigrams": self._bm25_ranking(self.index.keywords.bigrams, char_bigrams(keyword_query), mask),
        }
        weights = {"dense": self.settings.dense_weight, "words": self.settings.words_weight, "bigrams": self.settings.bigrams_weight}
        fused = reciprocal_rank_fusion(rankings, weights, self.settings.rrf_k)
        return [ScoredChunk(self.index.chunks[i], score, ranks) for i, score, ranks in fused[:k]]

