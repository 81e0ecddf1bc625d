"""The packaged default model and the real sentence-transformers loading path for other models."""

from __future__ import annotations

import numpy as np
import pytest

from aidqa.index.embeddings import EmbeddingModelError, SentenceEmbeddings, load_sentence_transformer, prefixes_for
from aidqa.settings import Settings


def test_packaged_model_is_multilingual(assistant):
    emb = assistant.embeddings
    assert emb.dimension == 512
    q_zh = emb.embed_queries(["天津累计投入了多少资金？"])[0]
    q_en = emb.embed_queries(["How much money did Tianjin invest in total?"])[0]
    p = emb.embed_passages(["累计投入18.51亿元，实施567个项目。", "航天员刘洋为孩子们带来了面授课。"])
    assert np.isclose(np.linalg.norm(p[0]), 1.0, atol=1e-4)
    assert q_zh @ p[0] > q_zh @ p[1]
    assert q_en @ p[0] > q_en @ p[1]


def test_saved_model_folder_loads_through_sentence_transformers(assistant, tmp_path):
    # The same code path as any local sentence-transformers folder (modules.json → module classes).
    assistant.embeddings.model.save(str(tmp_path / "model"))
    with pytest.raises(EmbeddingModelError, match="trust_remote_code"):
        load_sentence_transformer(str(tmp_path / "model"))
    model = load_sentence_transformer(str(tmp_path / "model"), trust_remote_code=True)
    a = model.encode(["黄南州"], normalize_embeddings=True)
    b = assistant.embeddings.model.encode(["黄南州"], normalize_embeddings=True)
    assert np.allclose(a, b, atol=1e-5)


def test_hub_model_not_in_cache_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmbeddingModelError, match="Hugging Face cache"):
        SentenceEmbeddings.from_settings(Settings(embedding_model="BAAI/bge-small-zh-v1.5"))


def test_known_prefixes_and_overrides():
    assert prefixes_for(Settings(embedding_model="BAAI/bge-small-zh-v1.5"))[0].startswith("为这个句子")
    assert prefixes_for(Settings(embedding_model="intfloat/multilingual-e5-small")) == ("query: ", "passage: ")
    assert prefixes_for(Settings()) == ("", "")
    assert prefixes_for(Settings(embedding_query_prefix="Q: ")) == ("Q: ", "")
