"""Hybrid retrieval: dense (Chroma) + BM25 over jieba words + BM25 over character bigrams, fused by reciprocal
rank fusion. Dense search carries English and paraphrased questions; the two BM25 views carry exact names and
figures; fusion by rank needs no score calibration between them.

A search can be restricted to some reports of the corpus (``sources``): the BM25 views score only those reports'
chunks, and the dense search keeps only their passages, so each retriever still contributes its full number of
candidates from the reports asked for. Chroma's metadata filter is the slow way to do that at scale, so it is the
last resort: a few hundred passages are ranked exactly from their stored vectors, and when the reports asked for
hold a large share of the corpus an unfiltered search over-fetching by the inverse of that share holds them.
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
from aidqa.zh.terms import english_name_text, expansion_text


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

    def _nearest(self, query_vector: list[float], k: int, where: dict | None = None) -> list[int]:
        """Chroma's top ``k`` as chunk positions. Asks for ids and distances only: the LangChain search also reads
        every hit's text and metadata, which costs more than the search itself at a few hundred hits."""
        collection = self.index.vectorstore._collection  # langchain-chroma's chromadb collection (no public accessor)
        result = collection.query(query_embeddings=[query_vector], n_results=k, where=where, include=["distances"])
        return [self._position[i] for i in result["ids"][0] if i in self._position]

    def _exact(self, query_vector: list[float], positions: np.ndarray, k: int) -> list[int]:
        """The top ``k`` of the chunks at ``positions`` by exact cosine similarity, from their stored vectors."""
        stored = self.index.vectorstore.get(ids=[self.index.chunks[i].id for i in positions], include=["embeddings"])
        found = [(self._position[i], v) for i, v in zip(stored["ids"], stored["embeddings"]) if i in self._position]
        if not found:
            return []
        vectors = np.asarray([v for _, v in found], dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        similarity = vectors @ np.asarray(query_vector, dtype=np.float32)
        order = sorted(range(len(found)), key=lambda j: (-similarity[j], found[j][0]))[:k]
        return [found[j][0] for j in order]

    def dense_ranking(self, query_vector: list[float], sources: Collection[str] | None = None) -> list[int]:
        if sources is None:
            n = min(self.settings.candidates, len(self.index.chunks))
            return self._nearest(query_vector, n) if n else []
        mask = self._mask(sources)
        allowed = int(mask.sum())
        n = min(self.settings.candidates, allowed)
        if n == 0:
            return []
        # Three ways to the same passages, cheapest first (docs/scaling.md has the measurements): Chroma's metadata
        # filter costs tens of ms at 100k chunks whatever it keeps, more than either of the other two.
        if allowed <= self.settings.dense_exact_max:
            return self._exact(query_vector, np.flatnonzero(mask), n)
        fetch = overfetch_size(n, allowed, len(self.index.chunks))
        if fetch <= self.settings.dense_overfetch_max:
            # The top `fetch` of the whole corpus, in order, then these reports' among them: when at least n are
            # there, they are the top n a filtered search returns.
            kept = [i for i in self._nearest(query_vector, fetch) if mask[i]]
            if len(kept) >= n:
                return kept[:n]
        return self._nearest(query_vector, n, {"source": {"$in": sorted(sources)}})

    def search(self, query: str, k: int, query_vector: list[float] | None = None,
               sources: Collection[str] | None = None) -> list[ScoredChunk]:
        """The top ``k`` passages for ``query``; only from the reports ``sources`` names when it is given (report
        ids, i.e. chunk sources)."""
        if query_vector is None:
            query_vector = self.embeddings.embed_query(query)
        # Keyword search also looks for the Chinese words of an English question (the corpus's own words).
        keywords = self.index.keywords
        english = english_name_text(query, keywords.lexicon, keywords.only_first_in_some_chunk)
        keyword_query = f"{query} {expansion_text(query, keywords.lexicon)} {english}"
        mask = self._mask(sources)
        rankings = {
            "dense": self.dense_ranking(query_vector, sources),
            "words": self._bm25_ranking(self.index.keywords.words, tokenize_words(keyword_query), mask),
            "bigrams": self._bm25_ranking(self.index.keywords.bigrams, char_bigrams(keyword_query), mask),
        }
        weights = {"dense": self.settings.dense_weight, "words": self.settings.words_weight, "bigrams": self.settings.bigrams_weight}
        fused = reciprocal_rank_fusion(rankings, weights, self.settings.rrf_k)
        return [ScoredChunk(self.index.chunks[i], score, ranks) for i, score, ranks in fused[:k]]

