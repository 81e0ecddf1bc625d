"""The keyword index: BM25 over jieba words and over character bigrams."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from rank_bm25 import BM25Okapi

from aidqa.zh.lexicon import QueryLexicon


@dataclass
class KeywordIndex:
    """BM25 over jieba words and over character bigrams, built from token lists stored with the chunks."""

    words: BM25Okapi
    bigrams: BM25Okapi
    word_idf_max: float

    @classmethod
    def from_tokens(cls, words: list[list[str]], bigrams: list[list[str]]) -> "KeywordIndex":
        # rank_bm25 cannot take an empty document; a placeholder token keeps positions aligned.
        w = BM25Okapi([t or ["\0"] for t in words])
        b = BM25Okapi([t or ["\0"] for t in bigrams])
        return cls(w, b, max(w.idf.values(), default=1.0))

    @cached_property
    def lexicon(self) -> QueryLexicon:
        """English → the corpus's Chinese words, over this index's vocabulary (built on first use)."""
        return QueryLexicon(term for term in self.words.idf if term != "\0")

    def word_idf(self, term: str) -> float:
        """IDF of a word; a word the corpus never uses counts as the rarest (most informative)."""
        return max(self.words.idf.get(term, self.word_idf_max), 0.05)
