"""What a new build takes over from the build it replaces, so that changing one report re-embeds only that report.

Embedding is the slow part of a build. A passage's vector depends only on the text given to the model (the passage
prefix + the chunk text) and on the model itself, so vectors are reused by a hash of exactly that (as simonw/llm
does): a passage that kept its text keeps its vector, even if its report changed elsewhere and its offsets moved.
The model, the prefixes and the chunking rules are all in the index name, so a build only ever reuses from a build
of the same name; a change of model or chunking starts a new index with nothing to reuse.

``IndexChanges`` is what a build did, by corpus file (added, updated, removed, unchanged) and by chunk (embedded,
reused); the manifest keeps it as ``changes`` and ``aidqa index`` prints it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aidqa.index.sentences import SentenceVectors

logger = logging.getLogger(__name__)

_READ_PAGE = 2000  # vectors read from the previous build per request (bounded memory per round trip)


def passage_key(model: str, passage_prefix: str, text: str) -> str:
    """What a passage's vector depends on, hashed: the model and the exact text it embeds (prefix + passage)."""
    return hashlib.sha256(f"{model}\0{passage_prefix}{text}".encode()).hexdigest()


@dataclass
class IndexChanges:
    """What one build changed relative to the build it replaced, by corpus file (a report's path relative to the
    corpus folder, as in the manifest's ``files``) and by chunk."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    embedded_chunks: int = 0
    reused_chunks: int = 0
    embedded_sentences: int = 0  # the answerer's candidate texts (aidqa.index.sentences), embedded or reused
    reused_sentences: int = 0
    mode: str = "full"  # "incremental": the previous build's reports and vectors were reused where unchanged
    previous_build: str | None = None
    built: bool = True  # False: the index was already up to date, nothing was written

    @classmethod
    def between(cls, before: dict[str, str], after: dict[str, str]) -> "IndexChanges":
        """The file-level difference of two manifests' ``files`` ({name: sha256})."""
        return cls(
            added=sorted(set(after) - set(before)),
            updated=sorted(n for n in after if n in before and before[n] != after[n]),
            removed=sorted(set(before) - set(after)),
            unchanged=sorted(n for n in after if before.get(n) == after[n]),
        )

    def summary(self) -> str:
        """One line for the command line and the log."""
        line = (f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
                f"unchanged {len(self.unchanged)}; embedded {self.embedded_chunks} chunk(s), "
                f"reused {self.reused_chunks}; embedded {self.embedded_sentences} sentence(s), "
                f"reused {self.reused_sentences}")
        return line if self.built else f"{line} (index already up to date)"

    def to_manifest(self) -> dict[str, Any]:
        return {
            "added": self.added, "updated": self.updated, "removed": self.removed, "unchanged": self.unchanged,
            "embedded_chunks": self.embedded_chunks, "reused_chunks": self.reused_chunks,
            "embedded_sentences": self.embedded_sentences, "reused_sentences": self.reused_sentences, "mode": self.mode,
            "previous_build": self.previous_build,
        }


@dataclass
class PreviousBuild:
    """The parts of the current build that a new build may take over, grouped by report."""

    name: str
    documents: dict[str, dict[str, Any]]  # documents.json: name → {sha256, title, text, offsets}
    chunks: dict[str, list[dict[str, Any]]]  # chunks.json records per report, in order
    figures: dict[str, list[dict[str, Any]]]  # figures.json records per report, in order
    vectors: dict[str, np.ndarray]  # passage_key → vector
    sentences: SentenceVectors = field(default_factory=SentenceVectors.empty)  # by text (same model and prefix)

    @classmethod
    def from_records(cls, name: str, documents: dict[str, dict[str, Any]], chunks: list[dict[str, Any]],
                     figures: list[dict[str, Any]], vectors: dict[str, np.ndarray],
                     sentences: SentenceVectors | None = None) -> "PreviousBuild":
        by_source: dict[str, list[dict[str, Any]]] = {}
        for record in chunks:
            by_source.setdefault(record["source"], []).append(record)
        figures_by_source: dict[str, list[dict[str, Any]]] = {}
        for record in figures:
            figures_by_source.setdefault(record["source"], []).append(record)
        return cls(name, documents, by_source, figures_by_source, vectors,
                   sentences if sentences is not None else SentenceVectors.empty())

    def report(self, name: str, sha256: str) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]] | None:
        """(stored document, chunk records, figure records) of report ``name`` if the previous build indexed exactly
        this content (same sha256), else None (the report is read again)."""
        stored = self.documents.get(name)
        if stored is None or stored.get("sha256") != sha256:
            return None
        return stored, self.chunks.get(name, []), self.figures.get(name, [])


def read_vectors(collection, model: str, passage_prefix: str, dimension: int) -> dict[str, np.ndarray]:
    """{passage_key: vector} of every passage in a build's Chroma collection (embedded or on a server), read
    through Chroma's public API page by page. The key is computed from the stored passage text, which is exactly the
    text that was embedded (minus the prefix)."""
    vectors: dict[str, np.ndarray] = {}
    offset = 0
    while True:
        page = collection.get(include=["embeddings", "documents"], limit=_READ_PAGE, offset=offset)
        ids = page["ids"]
        for text, vector in zip(page["documents"], page["embeddings"]):
            if len(vector) == dimension:  # a vector of another shape cannot be this model's
                # Chroma keeps float32, so this is exactly the stored vector.
                vectors[passage_key(model, passage_prefix, text)] = np.asarray(vector, dtype=np.float32)
        if len(ids) < _READ_PAGE:
            return vectors
        offset += len(ids)
