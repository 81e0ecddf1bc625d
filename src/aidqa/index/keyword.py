"""The keyword index: BM25 over jieba words and over character bigrams, built once and memory-mapped on load.

Each view is a ``bm25s`` index: a chunk × term matrix of precomputed BM25 scores, stored by term (CSC) as ``.npy``
files beside the build. Loading maps the files instead of re-reading every chunk's tokens, and a query sums only
the postings (the columns) of its own terms, so both load time and query time grow with what a query touches, not
with the corpus.

The stored scores are BM25Okapi's exactly as rank-bm25 computed them before (k1 1.5, b 0.75, IDF
log((N - n + 0.5) / (n + 0.5)) with a negative IDF raised to 0.25 × the mean IDF; bm25s's own "robertson" IDF
clips those to 0 instead), so retrieval ranks the same chunks as before. The matrix is built with numpy over all
tokens at once, not chunk by chunk.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from aidqa.zh.lexicon import QueryLexicon

logger = logging.getLogger(__name__)

K1, B, EPSILON = 1.5, 0.75, 0.25
EMPTY = "\0"  # stands in for a chunk with no tokens, so every chunk keeps its position (and its length of 1)
IDF_FILE = "idf.npy"
LEXICON_FILE = "lexicon.json"
FORMAT = {"format": "aidqa-bm25okapi", "version": 1}


def bm25_okapi(docs: list[list[str]], k1: float = K1, b: float = B, epsilon: float = EPSILON
               ) -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(vocabulary term → column, IDF per column, CSC data, CSC row indices, CSC column pointers) of the chunk ×
    term matrix of BM25Okapi scores: score[d, t] = idf[t] · tf·(k1 + 1) / (tf + k1·(1 - b + b·|d| / avgdl))."""
    docs = [d or [EMPTY] for d in docs]
    n_docs = len(docs)
    vocab: dict[str, int] = {}
    term_ids = np.fromiter((vocab.setdefault(t, len(vocab)) for d in docs for t in d), dtype=np.int64)
    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=n_docs)
    doc_ids = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    n_terms = len(vocab)
    # One key per (term, doc), sorted by term then doc: the unique keys are the CSC layout, their counts the tfs.
    keys, tf = np.unique(term_ids * n_docs + doc_ids, return_counts=True)
    rows, cols = keys % n_docs, keys // n_docs
    df = np.bincount(cols, minlength=n_terms)
    idf = np.log(n_docs - df + 0.5) - np.log(df + 0.5)
    if n_terms:
        idf = np.where(idf < 0, epsilon * idf.mean(), idf)
    avgdl = lengths.sum() / n_docs if n_docs else 1.0
    norm = k1 * (1 - b + b * lengths[rows] / avgdl)
    data = idf[cols] * (tf * (k1 + 1) / (tf + norm))
    indptr = np.concatenate([[0], np.cumsum(df)])
    return vocab, idf, data, rows.astype(np.int32), indptr.astype(np.int64)


class BM25View:
    """One BM25 view (words or bigrams) over the chunks, scored through bm25s from its sparse score matrix."""

    def __init__(self, retriever, idf: np.ndarray) -> None:
        self._retriever = retriever  # a bm25s.BM25 whose ``scores`` and ``vocab_dict`` are set
        self.idf_array = idf

    @classmethod
    def build(cls, docs: list[list[str]]) -> "BM25View":
        import bm25s  # index time and load time only: keeps scipy out of imports that never touch the index

        vocab, idf, data, indices, indptr = bm25_okapi(docs)
        retriever = bm25s.BM25(k1=K1, b=B, method="robertson", dtype="float64")
        retriever.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": len(docs)}
        retriever.vocab_dict = vocab
        retriever.unique_token_ids_set = set(vocab.values())
        retriever.nonoccurrence_array = None
        return cls(retriever, idf)

    def save(self, folder: Path) -> None:
        self._retriever.save(folder, show_progress=False)
        np.save(folder / IDF_FILE, self.idf_array)

    @classmethod
    def load(cls, folder: Path) -> "BM25View":
        import bm25s

        if not (folder / "params.index.json").is_file():
            raise FileNotFoundError(f"no keyword index in {folder}")
        retriever = bm25s.BM25.load(folder, mmap=True, show_progress=False)
        return cls(retriever, np.load(folder / IDF_FILE, mmap_mode="r"))

    @property
    def vocab(self) -> dict[str, int]:
        return self._retriever.vocab_dict

    @property
    def num_docs(self) -> int:
        return int(self._retriever.scores["num_docs"])

    def get_scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk for ``tokens`` (a repeated token counts again, an unknown one adds nothing);
        only the postings of the known tokens are read."""
        ids = self._retriever.get_tokens_ids(tokens)
        if not ids:
            return np.zeros(self.num_docs)
        return self._retriever.get_scores_from_ids(ids)

    def idf(self, term: str) -> float | None:
        column = self.vocab.get(term)
        return None if column is None else float(self.idf_array[column])


@dataclass
class KeywordIndex:
    """BM25 over jieba words and over character bigrams of the chunks, in chunk order."""

    words: BM25View
    bigrams: BM25View
    # The query lexicon's corpus tables as stored with the index (None: computed on first use).
    lexicon_tables: dict | None = None

    @classmethod
    def from_tokens(cls, words: list[list[str]], bigrams: list[list[str]]) -> "KeywordIndex":
        """Built from each chunk's token lists (at index time; rebuilding is what ``load`` avoids)."""
        if len(words) != len(bigrams):
            raise ValueError(f"{len(words)} word lists but {len(bigrams)} bigram lists: one of each per chunk")
        return cls(BM25View.build(words), BM25View.build(bigrams))

    def save(self, folder: Path) -> None:
        """Write both views under ``folder`` (``words/``, ``bigrams/``, ``format.json``)."""
        for name, view in (("words", self.words), ("bigrams", self.bigrams)):
            (folder / name).mkdir(parents=True, exist_ok=True)
            view.save(folder / name)
        # Built here, once per build, so that no question pays for reading the synonym dictionary or romanising
        # the vocabulary.
        (folder / LEXICON_FILE).write_text(json.dumps(self.lexicon.tables(), ensure_ascii=False), encoding="utf-8")
        (folder / "format.json").write_text(json.dumps(FORMAT), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex":
        """Map a saved index. Raises ``FileNotFoundError`` when there is none, ``ValueError`` when it is another
        format or its views disagree on the number of chunks."""
        try:
            found = json.loads((folder / "format.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"no keyword index in {folder}") from None
        if found != FORMAT:
            raise ValueError(f"keyword index in {folder} is {found}, not {FORMAT}")
        index = cls(BM25View.load(folder / "words"), BM25View.load(folder / "bigrams"), _read_tables(folder))
        if index.words.num_docs != index.bigrams.num_docs:
            raise ValueError(f"keyword index in {folder} is inconsistent: {index.words.num_docs} chunks by words, "
                             f"{index.bigrams.num_docs} by bigrams")
        return index

    @property
    def num_chunks(self) -> int:
        return self.words.num_docs

    @cached_property
    def word_idf_max(self) -> float:
        return float(self.words.idf_array.max()) if len(self.words.idf_array) else 1.0

    @cached_property
    def lexicon(self) -> QueryLexicon:
        """English → the corpus's Chinese words, over this index's vocabulary (built on first use)."""
        return QueryLexicon((term for term in self.words.vocab if term != EMPTY), tables=self.lexicon_tables)

    def only_first_in_some_chunk(self, word: str, other: str) -> bool:
        """Whether some chunk holds the word ``word`` but not ``other`` (a table that writes India, not 印度)."""
        return bool(np.any((self.words.get_scores([word]) > 0) & ~(self.words.get_scores([other]) > 0)))

    def word_idf(self, term: str) -> float:
        """IDF of a word; a word the corpus never uses counts as the rarest (most informative)."""
        idf = self.words.idf(term)
        return max(self.word_idf_max if idf is None else idf, 0.05)


def _read_tables(folder: Path) -> dict | None:
    """The stored lexicon tables, or None when a build has none or they cannot be read (the lexicon then computes
    them: slower, never wrong)."""
    try:
        return json.loads((folder / LEXICON_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("lexicon tables in %s are unreadable (%s); computing them instead", folder, exc)
        return None
