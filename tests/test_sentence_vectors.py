"""Candidate sentences are embedded when the index is built (aidqa.index.sentences), not per question.

With the real packaged model, on the seed report and a Markdown ESG report (headings, a table). Embedding is
counted by wrapping the real model's ``embed_passages`` (it still embeds).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import SHARED_REPORTS

from aidqa import Assistant
from aidqa.index.embeddings import SentenceEmbeddings
from aidqa.index.sentences import SENTENCE_TEXTS, SENTENCE_VECTORS, SentenceVectors
from aidqa.index.store import IndexStore
from aidqa.settings import Settings

ESG = "fuxiang-pharma-2024-esg-report.md"
QUESTIONS = [
    "天津对口支援黄南州累计投入了多少资金？",
    "举办了多少场招聘活动？",
    "How many people were trained?",
    "富祥药业的报告时间范围是什么？",
    "富祥药业2024年营业收入是多少？",
    "火星基地建设投入了多少资金？",  # refused
]


class CountingEmbeddings(SentenceEmbeddings):
    """The real model, counting the passages (not questions) it embeds."""

    def __init__(self, real: SentenceEmbeddings) -> None:
        super().__init__(real.model, real.query_prefix, real.passage_prefix, real.batch_size, real.name)
        self.passages = 0

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.passages += len(texts)
        return super().embed_passages(texts)


@pytest.fixture(scope="module")
def model() -> SentenceEmbeddings:
    return SentenceEmbeddings.from_settings(Settings())


@pytest.fixture()
def built(corpus, tmp_path, model) -> tuple[Settings, CountingEmbeddings]:
    """A fresh index over the seed report and the ESG report, and a counting model over it."""
    if not (SHARED_REPORTS / ESG).is_file():
        pytest.skip(f"shared dev report {ESG} not found")
    shutil.copy(SHARED_REPORTS / ESG, corpus / ESG)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    counting = CountingEmbeddings(model)
    IndexStore(settings, counting).build()
    counting.passages = 0
    return settings, counting


def ask_all(settings: Settings, embeddings: SentenceEmbeddings, strip_sentences: bool = False) -> list[dict]:
    """Every question's Answer as JSON (no timings); ``strip_sentences``: as if the build had no sentence vectors."""
    assistant = Assistant(settings)
    assistant._embeddings = embeddings
    index = assistant.ensure_ready()
    if strip_sentences:
        index.sentences = SentenceVectors.empty()
        assistant._serve(index)
    try:
        return [assistant.ask(q).model_dump(exclude={"timings_ms"}) for q in QUESTIONS]
    finally:
        assistant.unload()


def test_answers_embed_no_passage_and_equal_those_embedded_per_question(built):
    settings, counting = built
    stored = ask_all(settings, counting)
    assert counting.passages == 0  # every candidate (sentence, heading) was looked up in the index
    assert sum(not a["refused"] for a in stored) >= 4 and stored[-1]["refused"]

    per_question = ask_all(settings, counting, strip_sentences=True)
    assert counting.passages > 100  # the same questions without stored vectors embed their candidates
    assert per_question == stored


def test_a_build_without_sentence_vectors_still_answers_and_is_rebuilt_embedding_only_sentences(built, caplog):
    settings, counting = built
    store = IndexStore(settings, counting)
    build = store.load().path
    expected = ask_all(settings, counting)
    # What a build from before sentence vectors were stored looks like.
    (build / SENTENCE_VECTORS).unlink()
    (build / SENTENCE_TEXTS).unlink()
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    del manifest["sentence_count"]
    (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    state, reason = store.status()
    assert state == "stale" and "sentence vectors" in reason
    assert len(store.load().sentences) == 0 and "no stored sentence vectors" in caplog.text

    rebuilt = store.ensure()  # incremental: the passages keep their vectors, the sentences are embedded
    assert rebuilt.changes.mode == "incremental" and rebuilt.changes.embedded_chunks == 0
    assert rebuilt.changes.embedded_sentences == len(rebuilt.sentences) == counting.passages > 100
    counting.passages = 0
    assert ask_all(settings, counting) == expected and counting.passages == 0


@pytest.mark.parametrize("damage", ["garbage", "wrong shape", "texts not a list"])
def test_unreadable_sentence_vectors_fall_back_to_embedding_per_question(built, caplog, damage):
    settings, counting = built
    expected = ask_all(settings, counting)
    build = IndexStore(settings, counting).load().path
    if damage == "garbage":
        (build / SENTENCE_VECTORS).write_bytes(b"\x93NUMPY not really" + bytes(range(256)))
    elif damage == "wrong shape":
        np.save(build / SENTENCE_VECTORS, np.zeros((3, 7), dtype=np.float32))
    else:
        (build / SENTENCE_TEXTS).write_text('{"a": 1}', encoding="utf-8")

    assert ask_all(settings, counting) == expected
    assert "sentence vectors of build" in caplog.text and counting.passages > 100


@pytest.mark.unit
def test_sentence_vectors_round_trip_and_refuse_a_mismatch(tmp_path):
    vectors = SentenceVectors(["一。", "二。"], np.array([[1, 0], [0, 1]], dtype=np.float32))
    vectors.save(tmp_path)
    loaded = SentenceVectors.load(tmp_path, 2)
    assert len(loaded) == 2 and loaded.get("二。").tolist() == [0, 1] and loaded.get("三。") is None
    assert len(SentenceVectors.load(tmp_path, 512)) == 0  # another model's dimension: not used
    with pytest.raises(ValueError, match="2 sentence texts but 1 vectors"):
        SentenceVectors(["一。", "二。"], np.zeros((1, 2), dtype=np.float32))
