"""Sentence vectors, embedded when the index is built rather than when a question comes.

The extractive answerer ranks the sentences of the passages retrieval returns, partly by their embedding similarity
to the question. Embedding them per question was most of an ask's time on a large corpus (docs/scaling.md: 87 ms
of an ask against 7 ms of retrieval on 2k chunks, because most questions land on passages no earlier question
reached). So every text the answerer can take from a passage — its sentences, split exactly as the answerer splits
them, and its heading — is embedded once, at build time, with the passage prefix.

A build keeps them in two files: ``sentences.json`` (the texts, in row order) and ``sentences.npy`` (float32, one
row per text), memory-mapped on load so that a large index costs address space, not resident memory. A sentence's
vector depends only on the model, the prefix and its text, and the index name fixes the first two, so an incremental
build reuses the previous build's vectors by text. A build made before these files existed still answers: the
answerer then embeds what it cannot look up (and the index reports itself stale so that the next build adds them).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from aidqa.index.chunking import Chunk
from aidqa.zh.segment import split_sentences

logger = logging.getLogger(__name__)

SENTENCE_TEXTS = "sentences.json"
SENTENCE_VECTORS = "sentences.npy"


def candidate_texts(chunk: Chunk) -> list[str]:
    """The texts the answerer may rank from ``chunk``: its heading, then its sentences (``split_sentences``, as
    ``ExtractiveAnswerer._candidates`` splits them)."""
    texts = [chunk.section] if chunk.section else []
    texts.extend(chunk.text[s:e] for s, e in split_sentences(chunk.text))
    return texts


class SentenceVectors:
    """Vectors of sentence texts, looked up by the exact text."""

    def __init__(self, texts: Sequence[str], matrix: np.ndarray) -> None:
        if len(texts) != len(matrix):
            raise ValueError(f"{len(texts)} sentence texts but {len(matrix)} vectors")
        self._rows = {t: i for i, t in enumerate(texts)}
        self._texts = list(texts)
        self._matrix = matrix

    @classmethod
    def empty(cls) -> "SentenceVectors":
        return cls([], np.zeros((0, 0), dtype=np.float32))

    def __len__(self) -> int:
        return len(self._texts)

    def get(self, text: str) -> np.ndarray | None:
        row = self._rows.get(text)
        return None if row is None else self._matrix[row]

    def save(self, build: Path) -> None:
        (build / SENTENCE_TEXTS).write_text(json.dumps(self._texts, ensure_ascii=False), encoding="utf-8")
        np.save(build / SENTENCE_VECTORS, np.asarray(self._matrix, dtype=np.float32))

    @classmethod
    def load(cls, build: Path, dimension: int) -> "SentenceVectors":
        """The build's sentence vectors; empty (with a warning) when it has none or they do not fit the model, so
        that answering falls back to embedding them per question rather than failing."""
        if not (build / SENTENCE_VECTORS).is_file():
            logger.warning("build %s has no stored sentence vectors (it was built before they were stored); they are "
                           "embedded when needed", build.name)
            return cls.empty()
        try:
            texts = json.loads((build / SENTENCE_TEXTS).read_text(encoding="utf-8"))
            matrix = np.load(build / SENTENCE_VECTORS, mmap_mode="r", allow_pickle=False)
            if matrix.ndim != 2 or (len(matrix) and matrix.shape[1] != dimension) or matrix.dtype != np.float32:
                raise ValueError(f"vectors of shape {matrix.shape} and type {matrix.dtype}, expected (n, {dimension}) "
                                 "float32")
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                raise ValueError(f"{SENTENCE_TEXTS} is not a list of texts")
            return cls(texts, matrix)
        except (OSError, ValueError) as exc:
            logger.warning("sentence vectors of build %s are unreadable (%s); answers embed candidate sentences per "
                           "question", build.name, exc)
            return cls.empty()


def embed_sentences(chunks: Iterable[Chunk], embed: Callable[[list[str]], list[np.ndarray]], dimension: int,
                    reusable: SentenceVectors, batch_size: int,
                    progress: Callable[[int, int], None] | None = None) -> tuple[SentenceVectors, int, int]:
    """(the sentence vectors of ``chunks``, texts embedded, texts reused): every distinct candidate text once, its
    vector taken from ``reusable`` (the previous build's, read from its memory map, not copied) when embedded
    before, the rest embedded in batches of ``batch_size``."""
    texts = list(dict.fromkeys(t for c in chunks for t in candidate_texts(c)))
    matrix = np.zeros((len(texts), dimension), dtype=np.float32)
    missing = []
    for i, t in enumerate(texts):
        vector = reusable.get(t)
        if vector is not None and len(vector) == dimension:
            matrix[i] = vector
        else:
            missing.append(i)
    if progress and missing:
        progress(0, len(missing))
    for start in range(0, len(missing), batch_size):
        part = missing[start : start + batch_size]
        matrix[part] = np.asarray(embed([texts[i] for i in part]), dtype=np.float32)
        if progress:
            progress(min(start + batch_size, len(missing)), len(missing))
    return SentenceVectors(texts, matrix), len(missing), len(texts) - len(missing)
