"""Hybrid retrieval: dense (Chroma) + BM25 over jieba words + BM25 over character bigrams, fused by reciprocal
rank fusion. Dense search carries English and paraphrased questions; the two BM25 views carry exact names and
figures; fusion by rank needs no score calibration between them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aidqa.index.chunking import Chunk
from aidqa.index.embeddings import SentenceEmbeddings
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


class HybridSearcher:
    """Runs the three retrievers over one loaded index and fuses them."""

    def __init__(self, index: LoadedIndex, embeddings: SentenceEmbeddings, settings: RetrievalSettings) -> None:
        self.index = index
        self.embeddings = embeddings
        self.settings = settings
        self._position = {c.id: i for i, c in enumerate(index.chunks)}

    def _bm25_ranking(self, bm25, tokens: list[str]) -> list[int]:
        if not tokens:
            return []
        scores = np.asarray(bm25.get_scores(tokens))
        order = np.argsort(-scores, kind="stable")
        return [int(i) for i in order[: self.settings.candidates] if scores[i] > 0]

    def dense_ranking(self, query_vector: list[float]) -> list[int]:
        n = min(self.settings.candidates, len(self.index.chunks))
        hits = self.index.vectorstore.similarity_search_by_vector_with_relevance_scores(query_vector, k=n)
        return [self._position[doc.id] for doc, _distance in hits if doc.id in self._position]

    def search(self, query: str, k: int, query_vector: list[float] | None = None) -> list[ScoredChunk]:
        if query_vector is None:
            query_vector = self.embeddings.embed_query(query)
        # Keyword search also looks for the Chinese words of an English question (the corpus's own words).
        keyword_query = f"{query} {expansion_text(query, self.index.keywords.lexicon)}"
        rankings = {
            "dense": self.dense_ranking(query_vector),
            "words": self._bm25_ranking(self.index.keywords.words, tokenize_words(keyword_query)),
            "bigrams": self._bm25_ranking(self.index.keywords.bigrams, char_bigrams(keyword_query)),
        }
        weights = {"dense": self.settings.dense_weight, "words": self.settings.words_weight, "bigrams": self.settings.bigrams_weight}
        fused = reciprocal_rank_fusion(rankings, weights, self.settings.rrf_k)
        return [ScoredChunk(self.index.chunks[i], score, ranks) for i, score, ranks in fused[:k]]

