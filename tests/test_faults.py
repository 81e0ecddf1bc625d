"""Index faults, with the real packaged model: a missing, corrupt or read-only index, an index being rebuilt by
another process, two builders at once, and corpus files that break while they are read. What test_index.py covers
(missing → built, stale → rebuilt, a crash mid-build, garbled chunks.json, empty/binary/GBK files) is not repeated.

Other processes are real processes (``subprocess``), synchronised on files and on the lock itself, never on sleeps.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import logging
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import REPORT

from aidqa import Assistant
from aidqa.index.store import IndexStore, IndexUnavailable
from aidqa.ingest import CorpusError
from aidqa.settings import Settings

QUESTION = "天津对口支援黄南州累计投入了多少资金？"
ANSWER = "18.51亿元"
CHILD_TIMEOUT = 300  # a hang guard for child processes, not a performance bound


# ---- helpers -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embeddings(assistant):
    return assistant.embeddings  # the session's packaged model, loaded once


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, embeddings) -> tuple[Path, Path]:
    """(corpus, index folder) built once; tests that break an index break a copy of it. (A copy also has a path
    this process never opened: chromadb caches clients per path, so a store broken after it was opened in the same
    process would still be served from the cache.)"""
    root = tmp_path_factory.mktemp("pristine")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(REPORT, corpus / REPORT.name)
    IndexStore(Settings(corpus_dir=corpus, index_dir=root / "index"), embeddings).ensure()
    return corpus, root / "index"


def _copy_of(pristine, tmp_path, embeddings) -> IndexStore:
    corpus, index = pristine
    shutil.copytree(index, tmp_path / "index", symlinks=True)
    return IndexStore(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"), embeddings)


def _assistant(settings: Settings, embeddings) -> Assistant:
    """An Assistant that reuses the already-loaded model (loading it again would only cost time)."""
    a = Assistant(settings)
    a._embeddings = embeddings
    return a


def _tmp_builds(store: IndexStore) -> list[str]:
    return [p.name for p in (store.root / "builds").iterdir() if p.name.startswith("tmp-")]


def _child_env(corpus: Path, index_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIDQA_")}
    return {**env, "AIDQA_CORPUS_DIR": str(corpus), "AIDQA_INDEX_DIR": str(index_dir), "PYTHONUNBUFFERED": "1"}


def _wait_for(condition, what: str, proc: subprocess.Popen | None = None, timeout: float = CHILD_TIMEOUT) -> None:
    """Poll ``condition`` (an event another process signals through a file), failing if ``proc`` dies first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"child exited with {proc.returncode} before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


# ---- missing ---------------------------------------------------------------------------------------------------


def test_missing_corpus_is_a_clear_error(embeddings, tmp_path):
    gone = tmp_path / "no-such-corpus"
    with pytest.raises(CorpusError, match=f"corpus folder {re.escape(str(gone))} does not exist"):
        IndexStore(Settings(corpus_dir=gone, index_dir=tmp_path / "index"), embeddings).ensure()
    a_file = tmp_path / "corpus.txt"
    a_file.write_text("不是文件夹", encoding="utf-8")
    with pytest.raises(CorpusError, match="is not a folder"):
        IndexStore(Settings(corpus_dir=a_file, index_dir=tmp_path / "index2"), embeddings).ensure()


def test_load_never_builds_a_missing_index(embeddings, corpus, tmp_path):
    store = IndexStore(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"), embeddings)
    with pytest.raises(IndexUnavailable, match=r"no index in .*; run `aidqa index`"):
        store.load()
    assert not (tmp_path / "index").exists()


def test_index_dir_that_is_a_file_is_a_clear_error(embeddings, corpus, tmp_path):
    blocker = tmp_path / "index"
    blocker.write_text("a file where the index folder should be", encoding="utf-8")
    store = IndexStore(Settings(corpus_dir=corpus, index_dir=blocker), embeddings)
    with pytest.raises(IndexUnavailable, match=f"cannot build the index in {re.escape(str(store.root))}"):
        store.ensure()


# ---- corrupt ---------------------------------------------------------------------------------------------------


def _garble(path: Path) -> None:
    path.write_text("{garbled", encoding="utf-8")


def _truncate_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _drop_last_chunk(path: Path) -> None:
    chunks = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(chunks[:-1], ensure_ascii=False), encoding="utf-8")


def _figures_wrong_shape(path: Path) -> None:
    path.write_text(json.dumps([{"id": 1, "value": "many"}]), encoding="utf-8")


# (what to break, how, is status() already "corrupt", a regex the load() message must match)
CORRUPTIONS = {
    "figures-garbled": ("figures.json", _garble, False, r"keyword index in {build} is unreadable"),
    "figures-wrong-shape": ("figures.json", _figures_wrong_shape, False, r"keyword index in {build} is unreadable"),
    "figures-deleted": ("figures.json", Path.unlink, False, r"keyword index in {build} is unreadable.*figures\.json"),
    "documents-truncated": ("documents.json", _truncate_half, False, r"keyword index in {build} is unreadable"),
    "chunks-one-missing": ("chunks.json", _drop_last_chunk, False, r"index in {build} is inconsistent: (\d+) vectors, (?!\1)\d+ chunks"),
    "sqlite-emptied": ("chroma/chroma.sqlite3", lambda p: p.write_bytes(b""), False, r"vector index in {build} is unreadable"),
    "sqlite-truncated": ("chroma/chroma.sqlite3", _truncate_half, False, r"vector index in {build} is unreadable: .*malformed"),
    "chroma-deleted": ("chroma", shutil.rmtree, False, r"vector index in {build} is missing"),
    "manifest-garbled": ("manifest.json", _garble, True, r"index manifest in {build} is unreadable"),
    "manifest-deleted": ("manifest.json", Path.unlink, True, r"index manifest in {build} is unreadable"),
}
POINTERS = {
    "current-names-no-build": (b"20990101-000000-abcdef\n", r"names build '20990101-000000-abcdef', which is not in"),
    "current-empty": (b"", r"holds '', which is not a build name"),
    "current-escapes": (b"../../..\n", r"holds '\.\./\.\./\.\.', which is not a build name"),
    "current-not-text": (b"\xff\xfe\x00garbage", r"CURRENT is unreadable"),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS) + list(POINTERS))
def test_corrupt_index_load_is_clear_and_ensure_warns_and_rebuilds(case, pristine, embeddings, tmp_path, caplog):
    store = _copy_of(pristine, tmp_path, embeddings)
    broken = store.current_build()
    assert broken is not None
    chunk_count = json.loads((broken / "manifest.json").read_text(encoding="utf-8"))["chunk_count"]
    if case in CORRUPTIONS:
        target, breaker, status_sees_it, message = CORRUPTIONS[case]
        breaker(broken / target)
        message = message.format(build=re.escape(str(broken)))
    else:
        content, message = POINTERS[case]
        (store.root / "CURRENT").write_bytes(content)
        status_sees_it = True

    with pytest.raises(IndexUnavailable, match=message):
        store.load()
    state, reason = store.status()
    assert state == ("corrupt" if status_sees_it else "ready"), reason

    with caplog.at_level(logging.WARNING, logger="aidqa.index.store"):
        repaired = store.ensure()
    warnings = [r.getMessage() for r in caplog.records if r.name == "aidqa.index.store" and r.levelno == logging.WARNING]
    assert any(w.startswith("index unusable, rebuilding:") for w in warnings), warnings
    assert repaired.path != broken and repaired.path.parent == store.root / "builds"
    assert len(repaired.chunks) == chunk_count and repaired.vectorstore._collection.count() == chunk_count
    assert store.status()[0] == "ready" and store.load().path == repaired.path
    assert _tmp_builds(store) == []
    answering = _assistant(store.settings, embeddings)
    assert answering.ensure_ready().path == repaired.path and ANSWER in answering.ask(QUESTION).answer


def test_current_that_is_a_folder_is_corrupt_not_a_crash(pristine, embeddings, tmp_path):
    store = _copy_of(pristine, tmp_path, embeddings)
    (store.root / "CURRENT").unlink()
    (store.root / "CURRENT").mkdir()
    assert store.status()[0] == "corrupt"
    with pytest.raises(IndexUnavailable, match="CURRENT is unreadable"):
        store.load()
    # The builder cannot replace a folder with its pointer file: it says so, naming the folder.
    with pytest.raises(IndexUnavailable, match=f"cannot write the index build in {re.escape(str(store.root / 'builds'))}"):
        store.ensure()
    assert _tmp_builds(store) == []


# ---- read-only -------------------------------------------------------------------------------------------------

# The child below is the reader. It prints one JSON line: whether it could write into the index folder (the probe
# shows the read-only setup is real), the served build, the answer, what a needed rebuild raised (Python API) and
# what `aidqa index` printed and returned (CLI, through click's runner in the same process).
READ_ONLY_CHILD = textwrap.dedent('''
    import json, logging, sys
    from pathlib import Path
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    root, corpus = Path(sys.argv[1]), Path(sys.argv[2])
    try:
        (root / "probe").write_text("x")
        probe = "written"
    except OSError as exc:
        probe = exc.errno
    from click.testing import CliRunner
    from aidqa import Assistant
    from aidqa.cli import main
    from aidqa.index import IndexUnavailable
    assistant = Assistant()
    loaded = assistant.ensure_ready()
    answer = assistant.ask(sys.argv[3]).answer
    (corpus / "added.md").write_text("# 新报告\\n\\n河南县新建了3座桥梁。\\n", encoding="utf-8")  # now stale
    try:
        assistant.rebuild()
        rebuild = "rebuilt"
    except IndexUnavailable as exc:
        rebuild = "IndexUnavailable: " + str(exc)
    except Exception as exc:
        rebuild = "other " + type(exc).__name__ + ": " + str(exc)
    cli = CliRunner().invoke(main, ["index"])
    print(json.dumps({"probe": probe, "path": str(loaded.path), "answer": answer, "rebuild": rebuild,
                      "cli_exit": cli.exit_code, "cli_output": cli.output, "cli_exception": repr(cli.exception)},
                     ensure_ascii=False))
''')


def _cannot_write_as_this_user() -> tuple[dict, str]:
    """Popen arguments that make `chmod a-w` effective for the child, and an honest note of how.

    As an ordinary user, chmod a-w is enough. As root (these tests run as root here), permission bits do not stop
    writes: root's CAP_DAC_OVERRIDE overrides them. The child then drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
    from its capability bounding set before exec (prctl PR_CAPBSET_DROP), so the exec'd Python runs as root
    *without* them: the real kernel permission checks apply to it exactly as to a non-owner, and writes into the
    a-w folder fail with EACCES. Only the capabilities are simulated; the files, the modes and the errors are real.
    (setuid to nobody does not work here: the interpreter's stdlib lives under /root, mode 700.)"""
    if os.geteuid() != 0:
        return {}, "non-root: chmod a-w applies as is"
    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop, cap_dac_override, cap_dac_read_search = 24, 1, 2

    def drop_override() -> None:  # runs in the forked child, before exec
        for cap in (cap_dac_override, cap_dac_read_search):
            if libc.prctl(pr_capbset_drop, cap, 0, 0, 0) != 0:
                os._exit(97)

    return {"preexec_fn": drop_override}, "root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH (bounding set dropped)"


def _chmod_tree(root: Path, writable: bool) -> None:
    for p in [root, *root.rglob("*")]:
        mode = p.stat().st_mode
        p.chmod(mode | stat.S_IWUSR if writable else mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    return {p.relative_to(root).as_posix(): (p.stat().st_mode, p.stat().st_size, p.stat().st_mtime_ns)
            for p in [root, *root.rglob("*")]}


@pytest.mark.parametrize("build", ["current", "without sentence vectors"])
def test_read_only_index_still_serves_and_a_needed_rebuild_fails_clearly(pristine, tmp_path, build):
    corpus_src, index_src = pristine
    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_src, corpus)
    index = tmp_path / "index"
    shutil.copytree(index_src, index)
    store_root = next(index.iterdir())
    if build == "without sentence vectors":
        # A build from before they were stored: where it can be rebuilt it is stale; here it must still serve.
        served = store_root / "builds" / (store_root / "CURRENT").read_text(encoding="utf-8").strip()
        (served / "sentences.npy").unlink()
        (served / "sentences.json").unlink()
        manifest = json.loads((served / "manifest.json").read_text(encoding="utf-8"))
        del manifest["sentence_count"]
        (served / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    popen_extra, how = _cannot_write_as_this_user()
    _chmod_tree(index, writable=False)
    before = _snapshot(index)
    try:
        r = subprocess.run([sys.executable, "-c", READ_ONLY_CHILD, str(store_root), str(corpus), QUESTION],
                           capture_output=True, text=True, env=_child_env(corpus, index), cwd=tmp_path,
                           timeout=CHILD_TIMEOUT, **popen_extra)
    finally:
        after = _snapshot(index)
        _chmod_tree(index, writable=True)
    if r.returncode == 97:
        pytest.skip("cannot drop CAP_DAC_OVERRIDE here, so a read-only folder cannot be simulated as root")
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["probe"] == errno.EACCES, f"the index folder was writable for the child ({how})"
    # An existing build still loads and answers, and nothing in the folder changed.
    assert ANSWER in out["answer"]
    assert Path(out["path"]).parent == store_root / "builds"
    assert "is read-only; serving its vector store from a private copy" in r.stderr
    assert ("no stored sentence vectors" in r.stderr) == (build == "without sentence vectors")
    assert after == before
    # A rebuild that is needed (the corpus changed) fails with a message that names the folder, not a traceback
    # from inside chromadb; `aidqa index` prints it and exits 1.
    expected = f"cannot build the index: the index folder {store_root} is not writable (Permission denied)"
    assert out["rebuild"].startswith("IndexUnavailable: " + expected), out["rebuild"]
    assert out["cli_exit"] == 1 and f"Error: {expected}" in out["cli_output"], out
    assert "Traceback" not in out["cli_output"] and "chromadb" not in out["rebuild"]


# ---- another process is building ---------------------------------------------------------------------------------

# Process B: a real build (force) whose embedding step, once the build holds the lock and has written its tmp-
# folder, signals through ``marker`` and waits for ``gate``.
SLOW_BUILDER = textwrap.dedent('''
    import json, os, sys, time
    from pathlib import Path
    from aidqa.settings import Settings
    from aidqa.index.embeddings import SentenceEmbeddings
    from aidqa.index import IndexStore
    marker, gate = Path(sys.argv[1]), Path(sys.argv[2])
    settings = Settings()
    embeddings = SentenceEmbeddings.from_settings(settings)
    real = embeddings.embed_passages
    def gated(texts):
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            deadline = time.monotonic() + 300
            while not gate.exists():
                if time.monotonic() > deadline:
                    sys.exit("the gate never opened")
                time.sleep(0.01)
        return real(texts)
    embeddings.embed_passages = gated
    print(json.dumps({"path": str(IndexStore(settings, embeddings).build(force=True).path)}))
''')


class _Signal(logging.Handler):
    """Sets ``event`` when a record's message starts with ``prefix``; keeps the message."""

    def __init__(self, prefix: str) -> None:
        super().__init__(logging.INFO)
        self.prefix, self.event, self.message = prefix, threading.Event(), ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith(self.prefix):
            self.message = record.getMessage()
            self.event.set()


def test_readers_serve_the_current_build_while_another_process_builds(embeddings, corpus, tmp_path, caplog):
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    store = IndexStore(settings, embeddings)
    first = store.ensure()
    serving = _assistant(settings, embeddings)  # a server that loaded the index before the rebuild started
    serving.ensure_ready()

    marker, gate = tmp_path / "building", tmp_path / "go"
    with open(tmp_path / "b.out", "w") as out, open(tmp_path / "b.err", "w") as err:
        b = subprocess.Popen([sys.executable, "-c", SLOW_BUILDER, str(marker), str(gate)], stdout=out, stderr=err,
                             env=_child_env(corpus, settings.index_dir), cwd=tmp_path)
    try:
        _wait_for(marker.exists, "B started building", b)
        b_pid = int(marker.read_text())
        # B holds the build lock, and its half-written build sits beside the current one.
        with open(store.root / ".lock") as fh, pytest.raises(BlockingIOError):
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert (store.root / ".lock.pid").read_text().strip() == str(b_pid)
        assert len(_tmp_builds(store)) == 1 and store.current_build() == first.path

        # Readers do not take the lock: a new process-level reader loads the current build and answers (in a
        # thread, so that a reader wrongly waiting for B fails this test instead of hanging it).
        result: dict = {}

        def read() -> None:
            reader = _assistant(settings, embeddings)
            result["path"] = reader.ensure_ready().path
            result["answer"] = reader.ask(QUESTION).answer

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(CHILD_TIMEOUT)
        assert not reader.is_alive(), "a reader waited for the builder's lock"
        assert result["path"] == first.path and ANSWER in result["answer"]
        assert ANSWER in serving.ask(QUESTION).answer

        # A builder that is not forced waits for B's lock, then finds the index ready and builds nothing itself.
        signal = _Signal("waiting for the index lock")
        logging.getLogger("aidqa.index.store").addHandler(signal)
        caplog.set_level(logging.INFO, logger="aidqa.index.store")
        waited: dict = {}
        waiter = threading.Thread(target=lambda: waited.update(path=IndexStore(settings, embeddings).build().path))
        waiter.start()
        try:
            assert signal.event.wait(CHILD_TIMEOUT), "the second builder never waited for the lock"
            assert f"held by another process (pid {b_pid})" in signal.message
        finally:
            logging.getLogger("aidqa.index.store").removeHandler(signal)
            gate.touch()
        assert b.wait(CHILD_TIMEOUT) == 0, (tmp_path / "b.err").read_text()[-3000:]
        waiter.join(CHILD_TIMEOUT)
        assert not waiter.is_alive()
    finally:
        gate.touch()
        if b.poll() is None:
            b.kill()
            b.wait()

    new = Path(json.loads((tmp_path / "b.out").read_text().strip().splitlines()[-1])["path"])
    assert new != first.path and store.current_build() == new
    assert waited["path"] == new
    assert sorted(p.name for p in (store.root / "builds").iterdir()) == sorted([first.path.name, new.name])
    # After B: new readers see the new build; the one loaded before still answers from the kept previous build.
    fresh = _assistant(settings, embeddings)
    assert fresh.ensure_ready().path == new and ANSWER in fresh.ask(QUESTION).answer
    assert ANSWER in serving.ask(QUESTION).answer


# ---- two builders at once ----------------------------------------------------------------------------------------


def test_two_index_commands_at_once_are_serialised_by_the_lock(embeddings, corpus, tmp_path):
    """Two real `aidqa -v index --rebuild` processes. This test holds the lock first and lets go only when both
    have logged that they wait for it, so they really contend (no reliance on start-up timing). Both append to one
    stderr file (O_APPEND, one write per log line), which gives the real order of their lock lines."""
    index_dir = tmp_path / "index"
    settings = Settings(corpus_dir=corpus, index_dir=index_dir)
    store = IndexStore(settings, embeddings)
    store.root.mkdir(parents=True)
    log = tmp_path / "both.err"
    env = _child_env(corpus, index_dir)
    procs, outs = [], []
    with open(store.root / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            with open(log, "a") as err:
                for i in range(2):
                    outs.append(tmp_path / f"cli{i}.out")
                    with open(outs[-1], "w") as out:
                        procs.append(subprocess.Popen([sys.executable, "-m", "aidqa.cli", "-v", "index", "--rebuild"],
                                                      stdout=out, stderr=err, env=env, cwd=tmp_path))

            def both_waiting() -> bool:
                return log.read_text(encoding="utf-8", errors="replace").count("waiting for the index lock") >= 2

            for p in procs:
                _wait_for(lambda p=p: both_waiting() or p.poll() is not None, "both builders wait for the lock")
            assert both_waiting(), log.read_text(encoding="utf-8", errors="replace")[-3000:]
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
        codes = [p.wait(CHILD_TIMEOUT) for p in procs]
    text = log.read_text(encoding="utf-8", errors="replace")
    assert codes == [0, 0], text[-3000:]

    events = []
    for line in text.splitlines():
        if m := re.search(r"(acquired|released) the index lock .* \(pid (\d+)\)", line):
            events.append((m.group(1), int(m.group(2))))
        elif m := re.search(r"building index in (\S+):", line):
            events.append(("building", m.group(1)))
        elif m := re.search(r"built index (\S+):", line):
            events.append(("built", m.group(1)))
    # One whole build, then the other: the lock was never held by both and no build interleaved another.
    assert [e[0] for e in events] == ["acquired", "building", "built", "released"] * 2, events
    first_pid, second_pid = events[0][1], events[4][1]
    assert {first_pid, second_pid} == {p.pid for p in procs}
    assert [e[1] for e in events if e[0] in ("acquired", "released")] == [first_pid] * 2 + [second_pid] * 2

    second_out = outs[[p.pid for p in procs].index(second_pid)].read_text(encoding="utf-8")
    final = Path(re.search(r"\((\S+)\)\s*$", second_out).group(1))
    assert final == Path(events[6][1]) and store.current_build() == final
    loaded = store.load()
    assert loaded.path == final and len(loaded.chunks) == loaded.manifest["chunk_count"] > 10
    assert _tmp_builds(store) == []
    assert len([p for p in (store.root / "builds").iterdir()]) == 2


# ---- corpus files that break ---------------------------------------------------------------------------------------


def test_corpus_faults_are_skipped_with_a_reason_and_the_rest_is_indexed(embeddings, corpus, tmp_path, monkeypatch, caplog):
    from aidqa import ingest
    from aidqa.index import store as index_module
    from aidqa.ingest import MAX_FILE_BYTES

    with open(corpus / "huge.txt", "wb") as fh:  # sparse: 21 MB on paper, nothing on disk, made at once
        fh.truncate(MAX_FILE_BYTES + 1024 * 1024)
    (corpus / "nul.txt").write_bytes("天津累计投入\x0018.51亿元。".encode())
    (corpus / "utf16.txt").write_text("天津累计投入18.51亿元。", encoding="utf-16")  # read: UTF-16 with its BOM
    (corpus / "folder.txt").mkdir()  # a folder named like a report: its reports count, the folder is no file
    (corpus / "folder.txt" / "inner.md").write_text("# 桥梁报告\n\n河南县新建了3座桥梁，总投资4500万元。\n", encoding="utf-8")
    (corpus / "loop.txt").symlink_to("loop.txt")  # a link to itself
    (corpus / "dangling.md").symlink_to(tmp_path / "nowhere.md")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "up").symlink_to("..", target_is_directory=True)  # a folder loop: must not be walked forever
    os.mkfifo(corpus / "pipe.txt")  # opening it would block until a writer came
    # A file deleted between listing and reading: every listing still names it, but it is gone.
    ghost = corpus / "ghost.txt"
    real_listing = ingest.corpus_files

    def listing_with_ghost(corpus_dir: Path) -> list[Path]:
        return sorted([*real_listing(corpus_dir), ghost])

    monkeypatch.setattr(ingest, "corpus_files", listing_with_ghost)
    monkeypatch.setattr(index_module, "corpus_files", listing_with_ghost)

    store = IndexStore(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"), embeddings)
    with caplog.at_level(logging.INFO):
        loaded = store.ensure()
    assert loaded.manifest["documents"] == ["folder.txt/inner.md", REPORT.name, "utf16.txt"]
    assert sorted(loaded.manifest["skipped_files"]) == ["ghost.txt", "huge.txt", "nul.txt"]
    assert loaded.manifest["files"]["ghost.txt"] == ingest.UNREADABLE
    text = caplog.text
    assert f"skipping huge.txt: {MAX_FILE_BYTES + 1024 * 1024} bytes is over the {MAX_FILE_BYTES}-byte limit" in text
    assert "skipping nul.txt: binary file" in text
    assert "skipping ghost.txt: cannot read it (No such file or directory)" in text
    for name in ("loop.txt", "dangling.md", "pipe.txt"):
        assert f"skipping {name}: not a regular file" in text
    assert not any("sub/up" in d for d in loaded.manifest["documents"])
    assert store.status()[0] == "ready"  # the unreadable file is remembered as such: no rebuild on every use
    monkeypatch.undo()
    assert store.status()[0] == "stale"  # once the listing changes, the index follows
