"""Incremental index builds, with the real packaged model on real reports copied into temporary folders.

What is embedded is counted by wrapping the real model's ``embed_passages`` (it still embeds: nothing is faked). A
build embeds its new passages first, then the answerer's candidate sentences it cannot reuse (``split``).
Each scenario starts from one base build (two reports) made once per module and copied, so that a test pays only
for the builds it is about.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, REPORT

from aidqa import Assistant
from aidqa.index.embeddings import SentenceEmbeddings
from aidqa.index.incremental import IndexChanges
from aidqa.index.naming import index_name
from aidqa.index.sentences import candidate_texts
from aidqa.index.store import IndexStore, LoadedIndex
from aidqa.settings import Settings

SHARED = REPO.parent / "shared" / "dev-reports"
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared dev reports not found at {SHARED}")

TIANJIN = REPORT.name
PHARMA = "fuxiang-pharma-2024-esg-report.md"  # Markdown, with headings and a table
SICHUAN = "sichuan-2026-government-work-report.txt"  # the report that gets added
BASE = (TIANJIN, PHARMA)
QUESTIONS = [
    "天津对口支援黄南州累计投入了多少资金？",
    "举办了多少场招聘活动？",
    "四川2025年地区生产总值是多少？",
    "发行用于项目建设的专项债券多少亿元？",
    "富祥药业的报告时间范围是什么？",
    "火星基地建设投入了多少资金？",  # refused
]
CHILD_TIMEOUT = 300  # a hang guard for the child process, not a performance bound


class CountingEmbeddings(SentenceEmbeddings):
    """The real model, recording every passage it is asked to embed. ``fail_after``: raise once that many passages
    have been embedded (a build that breaks mid-way, after it has embedded some)."""

    def __init__(self, real: SentenceEmbeddings) -> None:
        super().__init__(real.model, real.query_prefix, real.passage_prefix, real.batch_size, real.name)
        self.embedded: list[str] = []
        self.fail_after: int | None = None

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if self.fail_after is not None and len(self.embedded) + len(texts) > self.fail_after:
            raise RuntimeError("simulated crash while embedding")
        self.embedded.extend(texts)
        return super().embed_passages(texts)

    def take(self) -> list[str]:
        """The passages embedded since the last call."""
        taken, self.embedded = self.embedded, []
        return taken


def source(name: str) -> Path:
    return REPORT if name == TIANJIN else SHARED / name


@pytest.fixture(scope="module")
def model() -> SentenceEmbeddings:
    return SentenceEmbeddings.from_settings(Settings())


@pytest.fixture(scope="module")
def base(tmp_path_factory, model) -> tuple[Path, Path]:
    """(corpus, index folder) of the two base reports, built once; every test works on a copy."""
    root = tmp_path_factory.mktemp("base")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in BASE:
        shutil.copy(source(name), corpus / name)
    IndexStore(Settings(corpus_dir=corpus, index_dir=root / "index"), model).build()
    return corpus, root / "index"


@pytest.fixture()
def copied(base, tmp_path, model) -> tuple[Settings, CountingEmbeddings, IndexStore]:
    """A copy of the base corpus and index (new paths: chromadb caches clients per path) with a counting model."""
    corpus, index = base
    shutil.copytree(corpus, tmp_path / "corpus")
    shutil.copytree(index, tmp_path / "index", symlinks=True)
    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    counting = CountingEmbeddings(model)
    return settings, counting, IndexStore(settings, counting)


def texts_of(index: LoadedIndex, name: str) -> list[str]:
    return [c.text for c in index.chunks if c.source == name]


def sentences_of(index: LoadedIndex, name: str | None = None) -> list[str]:
    """The distinct candidate texts (headings, sentences) of one report's chunks, or of every chunk."""
    return list(dict.fromkeys(t for c in index.chunks if name in (None, c.source) for t in candidate_texts(c)))


def fresh_sentences(after: LoadedIndex, before: LoadedIndex) -> list[str]:
    """The candidate texts of ``after`` that ``before`` did not have: what the build had to embed."""
    known = set(sentences_of(before))
    return [t for t in sentences_of(after) if t not in known]


def split(embedded: list[str], changes: IndexChanges) -> tuple[list[str], list[str]]:
    """(passages, sentences) of what a build embedded, in that order."""
    assert len(embedded) == changes.embedded_chunks + changes.embedded_sentences
    return embedded[: changes.embedded_chunks], embedded[changes.embedded_chunks :]


def answers(settings: Settings, embeddings: SentenceEmbeddings) -> list[dict]:
    """The Answer of every question, as JSON without the timings."""
    assistant = Assistant(settings)
    assistant._embeddings = embeddings  # the already-loaded model
    assistant.ensure_ready()
    try:
        return [assistant.ask(q).model_dump(exclude={"timings_ms"}) for q in QUESTIONS]
    finally:
        assistant.unload()


# ---- the file-level difference (no model) ------------------------------------------------------------------------


@pytest.mark.unit
def test_changes_between_two_manifests():
    before = {"a.txt": "1", "b.md": "2", "c.txt": "3"}
    after = {"a.txt": "1", "b.md": "22", "d.pdf": "4"}
    changes = IndexChanges.between(before, after)
    assert (changes.added, changes.updated, changes.removed, changes.unchanged) == (["d.pdf"], ["b.md"], ["c.txt"], ["a.txt"])
    changes.embedded_chunks, changes.reused_chunks = 7, 30
    changes.embedded_sentences, changes.reused_sentences = 40, 200
    assert changes.summary() == ("added 1, updated 1, removed 1, unchanged 1; embedded 7 chunk(s), reused 30; "
                                 "embedded 40 sentence(s), reused 200")
    assert IndexChanges.between({}, after).added == sorted(after)


# ---- the scenarios ---------------------------------------------------------------------------------------------------


def test_first_build_embeds_every_chunk_and_an_unchanged_rerun_none(tmp_path, model):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in BASE:
        shutil.copy(source(name), corpus / name)
    counting = CountingEmbeddings(model)
    store = IndexStore(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"), counting)

    first = store.build()
    embedded, sentences = split(counting.take(), first.changes)
    assert sorted(embedded) == sorted(c.text for c in first.chunks) and len(embedded) > 50
    # Every candidate sentence once, so that answering embeds none (test_sentence_vectors).
    assert sentences == sentences_of(first) and len(sentences) > 2 * len(embedded)
    assert first.changes.summary() == (f"added 2, updated 0, removed 0, unchanged 0; embedded {len(embedded)} chunk(s), "
                                       f"reused 0; embedded {len(sentences)} sentence(s), reused 0")
    recorded = first.manifest["changes"]
    assert recorded == {"added": sorted(BASE), "updated": [], "removed": [], "unchanged": [],
                        "embedded_chunks": len(embedded), "reused_chunks": 0, "embedded_sentences": len(sentences),
                        "reused_sentences": 0, "mode": "full", "previous_build": None}
    assert first.manifest["sentence_count"] == len(first.sentences) == len(sentences)
    assert {"files", "documents", "skipped_files", "chunk_count", "figure_count", "build_seconds"} <= set(first.manifest)

    again = store.build()
    assert counting.take() == []
    assert again.path == first.path and again.changes.built is False
    assert again.changes.unchanged == sorted(BASE) and not (again.changes.added or again.changes.updated or again.changes.removed)
    assert again.changes.summary().startswith("added 0, updated 0, removed 0, unchanged 2; embedded 0 chunk(s)")
    assert store.ensure().path == first.path and counting.take() == []


def test_adding_a_report_embeds_only_its_chunks(copied):
    settings, counting, store = copied
    before = store.load()
    shutil.copy(source(SICHUAN), Path(settings.corpus_dir) / SICHUAN)
    assert store.status()[0] == "stale"

    after = store.ensure()
    embedded, sentences = split(counting.take(), after.changes)
    new_texts = texts_of(after, SICHUAN)
    assert len(new_texts) > 20 and sorted(embedded) == sorted(new_texts)
    assert sentences == fresh_sentences(after, before) and set(sentences) <= set(sentences_of(after, SICHUAN))
    assert after.changes.reused_sentences == len(sentences_of(before)) == len(after.sentences) - len(sentences)
    assert after.changes.added == [SICHUAN] and after.changes.unchanged == sorted(BASE)
    assert after.changes.embedded_chunks == len(new_texts)
    assert after.changes.reused_chunks == len(before.chunks) == len(after.chunks) - len(new_texts)
    assert after.manifest["changes"]["mode"] == "incremental"
    assert after.manifest["changes"]["previous_build"] == before.path.name
    # The unchanged reports were copied as they were: same chunks, same figures.
    for name in BASE:
        assert [c for c in after.chunks if c.source == name] == [c for c in before.chunks if c.source == name]
        assert [f for f in after.figures if f.source == name] == [f for f in before.figures if f.source == name]
    assert any(f.source == SICHUAN for f in after.figures)
    assert after.vectorstore._collection.count() == len(after.chunks)


def test_modifying_a_report_embeds_at_most_its_chunks(copied):
    settings, counting, store = copied
    before = store.load()
    path = Path(settings.corpus_dir) / PHARMA
    text = path.read_text(encoding="utf-8")
    marker = "## 报告承诺"
    assert marker in text
    added = "本公司2024年新建了3座污水处理站，总投资4500万元。"
    path.write_text(text.replace(marker, f"## 新增项目\n\n{added}\n\n{marker}", 1), encoding="utf-8")

    after = store.build()
    embedded, sentences = split(counting.take(), after.changes)
    assert sentences == fresh_sentences(after, before) and any(added in t for t in sentences)
    pharma = texts_of(after, PHARMA)
    assert after.changes.updated == [PHARMA] and after.changes.unchanged == [TIANJIN]
    assert 0 < len(embedded) <= len(pharma)
    assert set(embedded) <= set(pharma)
    # Only passages whose text is new were embedded: the rest of the report kept its vectors though its offsets moved.
    assert not set(embedded) & set(texts_of(before, PHARMA))
    assert any(added in t for t in embedded)
    assert after.changes.embedded_chunks == len(embedded)
    assert after.changes.reused_chunks == len(after.chunks) - len(embedded)
    assert any(added in c.text for c in after.chunks)
    assert after.documents[PHARMA].sha256 != before.documents[PHARMA].sha256
    assert any(f.source == PHARMA and f.raw == "4500万元" for f in after.figures)


def test_deleting_a_report_embeds_nothing_and_it_is_gone(copied):
    settings, counting, store = copied
    before = store.load()
    assert texts_of(before, PHARMA) and any(f.source == PHARMA for f in before.figures)
    (Path(settings.corpus_dir) / PHARMA).unlink()

    after = store.build()
    assert counting.take() == []
    assert after.changes.removed == [PHARMA] and after.changes.unchanged == [TIANJIN]
    assert (after.changes.embedded_chunks, after.changes.reused_chunks) == (0, len(texts_of(before, TIANJIN)))
    assert not texts_of(after, PHARMA) and not any(f.source == PHARMA for f in after.figures)
    assert PHARMA not in after.documents and after.manifest["documents"] == [TIANJIN]
    # Gone from the vector store and from search: its exact passage text no longer finds it.
    assert after.vectorstore.get(where={"source": PHARMA})["ids"] == []
    probe = texts_of(before, PHARMA)[3]
    assert not [d for d in after.vectorstore.similarity_search(probe, k=10) if d.metadata["source"] == PHARMA]
    assistant = Assistant(settings)
    assistant._embeddings = counting
    assistant.ensure_ready()
    try:
        answer = assistant.ask("富祥药业的报告时间范围是什么？")
        assert all(p.source != PHARMA for p in answer.retrieved) and all(c.source != PHARMA for c in answer.citations)
    finally:
        assistant.unload()


def test_a_crash_mid_embedding_leaves_the_previous_build_serving(copied):
    settings, counting, store = copied
    settings = settings.model_copy(update={"embedding_batch_size": 8})  # several batches: the crash is mid-way
    store = IndexStore(settings, counting)
    before = store.load()
    shutil.copy(source(SICHUAN), Path(settings.corpus_dir) / SICHUAN)
    counting.fail_after = 16
    with pytest.raises(RuntimeError, match="simulated crash"):
        store.build()
    assert len(counting.take()) == 16  # it really had embedded some of the new report
    assert store.current_build() == before.path and store.status()[0] == "stale"
    assert not [p for p in (store.root / "builds").iterdir() if p.name.startswith("tmp-")]
    assert len(store.load().chunks) == len(before.chunks)

    counting.fail_after = None
    after = store.build()
    assert after.changes.added == [SICHUAN] and after.changes.previous_build == before.path.name
    embedded, sentences = split(counting.take(), after.changes)
    assert sorted(embedded) == sorted(texts_of(after, SICHUAN)) and sentences == fresh_sentences(after, before)
    assert after.changes.reused_chunks == len(before.chunks)


# A builder in another process that is killed (SIGKILL: no clean-up of any kind) while it embeds.
KILLED_BUILDER = textwrap.dedent('''
    import os, sys, time
    from pathlib import Path
    from aidqa.settings import Settings
    from aidqa.index.embeddings import SentenceEmbeddings
    from aidqa.index import IndexStore
    marker = Path(sys.argv[1])
    settings = Settings()
    embeddings = SentenceEmbeddings.from_settings(settings)
    real = embeddings.embed_passages
    def embed_then_hang(texts):
        vectors = real(texts)  # one real batch embedded, then the process is killed
        marker.write_text(str(os.getpid()))
        time.sleep(600)
        return vectors
    embeddings.embed_passages = embed_then_hang
    IndexStore(settings, embeddings).ensure()
    sys.exit("the builder was not killed")
''')


def test_a_killed_build_leaves_the_previous_build_serving_and_the_next_run_finishes(copied, tmp_path):
    settings, counting, store = copied
    before = store.load()
    shutil.copy(source(SICHUAN), Path(settings.corpus_dir) / SICHUAN)
    marker = tmp_path / "embedding"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIDQA_")}
    env.update(AIDQA_CORPUS_DIR=str(settings.corpus_dir), AIDQA_INDEX_DIR=str(settings.index_dir), PYTHONUNBUFFERED="1",
               # This checkout's code, even where the installed package points at another checkout.
               PYTHONPATH=os.pathsep.join(p for p in (str(REPO / "src"), env.get("PYTHONPATH", "")) if p))
    with open(tmp_path / "child.err", "w") as err:
        child = subprocess.Popen([sys.executable, "-c", KILLED_BUILDER, str(marker)], stdout=subprocess.DEVNULL,
                                 stderr=err, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + CHILD_TIMEOUT
        while not marker.exists():
            assert child.poll() is None, (tmp_path / "child.err").read_text()[-3000:]
            assert time.monotonic() < deadline, "the child never started embedding"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(CHILD_TIMEOUT)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    # Its half-written build is left behind, but the previous build still serves.
    assert [p.name for p in (store.root / "builds").iterdir() if p.name.startswith("tmp-")]
    assert store.current_build() == before.path and store.status()[0] == "stale"
    assert len(store.load().chunks) == len(before.chunks)

    after = store.ensure()  # the lock died with the child
    assert after.changes.added == [SICHUAN] and after.changes.unchanged == sorted(BASE)
    embedded, sentences = split(counting.take(), after.changes)
    assert sorted(embedded) == sorted(texts_of(after, SICHUAN)) and sentences == fresh_sentences(after, before)
    assert after.changes.reused_chunks == len(before.chunks)
    assert not [p for p in (store.root / "builds").iterdir() if p.name.startswith("tmp-")]


def test_an_incremental_build_equals_a_full_rebuild(copied, tmp_path):
    settings, counting, store = copied
    corpus = Path(settings.corpus_dir)
    shutil.copy(source(SICHUAN), corpus / SICHUAN)  # added
    path = corpus / TIANJIN  # changed: a paragraph in the middle goes, so later offsets move
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    del lines[len(lines) // 2]
    path.write_text("".join(lines), encoding="utf-8")
    incremental = store.build()
    assert incremental.changes.mode == "incremental" and incremental.changes.reused_chunks > 0

    full_settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "full")
    full = IndexStore(full_settings, counting).build()
    assert full.changes.mode == "full" and full.changes.reused_chunks == 0
    # Same files, byte for byte (the unchanged report copied, the rest read), and the same vectors.
    for name in ("chunks.json", "documents.json", "figures.json", "sentences.json"):
        assert (incremental.path / name).read_bytes() == (full.path / name).read_bytes(), name
    mine = incremental.vectorstore.get(include=["embeddings"])
    theirs = full.vectorstore.get(include=["embeddings"])
    by_id = dict(zip(theirs["ids"], theirs["embeddings"]))
    assert sorted(mine["ids"]) == sorted(by_id)
    assert max(float(np.abs(v - by_id[i]).max()) for i, v in zip(mine["ids"], mine["embeddings"])) < 1e-5
    assert float(np.abs(np.load(incremental.path / "sentences.npy") - np.load(full.path / "sentences.npy")).max()) < 1e-5
    ask_incremental, ask_full = answers(settings, counting), answers(full_settings, counting)
    assert ask_incremental == ask_full
    assert any("67665亿元" in a["answer"] for a in ask_full) and ask_full[-1]["refused"]


def test_forced_rebuild_embeds_everything_again(copied):
    _settings, counting, store = copied
    current = store.load()
    rebuilt = store.build(force=True)
    assert split(counting.take(), rebuilt.changes) == ([c.text for c in current.chunks], sentences_of(current))
    assert rebuilt.changes.mode == "full" and rebuilt.changes.unchanged == sorted(BASE)
    assert (rebuilt.changes.embedded_chunks, rebuilt.changes.reused_chunks) == (len(current.chunks), 0)


def test_model_prefix_or_chunking_change_reuses_nothing(copied, model):
    """They change the index name: the new index has no previous build, so everything is embedded."""
    settings, _counting, store = copied
    size = len(store.load().chunks)
    for update in ({"chunking": settings.chunking.model_copy(update={"max_chars": 300})},
                   {"embedding_passage_prefix": "passage: "}):
        other = settings.model_copy(update=update)
        assert index_name(other) != store.name
        counting = CountingEmbeddings(model)
        counting.passage_prefix = other.embedding_passage_prefix or ""
        built = IndexStore(other, counting).build()
        assert built.changes.previous_build is None and built.changes.reused_chunks == 0
        assert len(counting.take()) == built.changes.embedded_chunks + built.changes.embedded_sentences
        assert built.changes.embedded_chunks == len(built.chunks) and built.changes.reused_sentences == 0
        if "chunking" in update:
            assert len(built.chunks) != size


def test_an_unreadable_previous_build_means_a_full_build_not_a_failure(copied, caplog):
    settings, counting, store = copied
    before = store.load()
    shutil.rmtree(before.path / "chroma")  # the vectors to reuse are gone
    (Path(settings.corpus_dir) / PHARMA).unlink()
    after = store.build()
    assert "not reusing the previous build" in caplog.text
    assert split(counting.take(), after.changes) == (texts_of(after, TIANJIN), sentences_of(after))
    assert after.changes.mode == "full" and after.changes.removed == [PHARMA]


def test_index_command_prints_what_it_did(copied):
    from click.testing import CliRunner

    from aidqa.cli import main

    settings, _counting, store = copied
    shutil.copy(source(SICHUAN), Path(settings.corpus_dir) / SICHUAN)
    env = {"AIDQA_CORPUS_DIR": str(settings.corpus_dir), "AIDQA_INDEX_DIR": str(settings.index_dir)}
    result = CliRunner().invoke(main, ["index"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    changes = store.load().manifest["changes"]
    lines = result.stdout.splitlines()
    assert lines[1].startswith(f"index {store.name}: ") and "from 3 file(s)" in lines[1]
    assert lines[0] == (f"added 1, updated 0, removed 0, unchanged 2; embedded {changes['embedded_chunks']} chunk(s), "
                        f"reused {changes['reused_chunks']}; embedded {changes['embedded_sentences']} sentence(s), "
                        f"reused {changes['reused_sentences']}")
    assert changes["embedded_chunks"] > 0 and changes["reused_chunks"] > 0
    assert "embedding" in result.stderr  # the progress bar
    again = CliRunner().invoke(main, ["index"], env=env, catch_exceptions=False)
    assert again.stdout.splitlines()[0] == ("added 0, updated 0, removed 0, unchanged 3; embedded 0 chunk(s), reused 0; "
                                            "embedded 0 sentence(s), reused 0 (index already up to date)")
