"""Server mode against a real Chroma server: `chroma run` (the CLI that ships with chromadb) on a free loopback port,
started once for this module and always stopped. The indexer writes a build's vectors to the server, readers in
this and in other processes answer from it, and a reader follows a new build without a restart."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import CORPUS, DEV_SET, REPORT, free_port

from aidqa.eval.dataset import load_items

START_SECONDS = 60  # a cold `chroma run` on a busy 2-core machine takes a few seconds; this bounds the wait


def chroma_executable() -> str | None:
    """The `chroma` CLI of the chromadb package installed beside this Python (else on PATH)."""
    beside = Path(sys.executable).parent / "chroma"
    return str(beside) if beside.is_file() else shutil.which("chroma")


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    exe = chroma_executable()
    if exe is None:
        pytest.skip("the `chroma` executable of the chromadb package is not installed beside this Python or on PATH")
    data = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = (data / "server.log").open("wb")
    server = subprocess.Popen([exe, "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert server.poll() is None, f"chroma run exited: {(data / 'server.log').read_text(errors='replace')}"
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, f"chroma run did not answer within {START_SECONDS} s"
                time.sleep(0.2)  # polling the server process until it listens
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        log.close()


@pytest.fixture(scope="module")
def server_settings(chroma_url, tmp_path_factory):
    from aidqa.settings import Settings

    return Settings(corpus_dir=CORPUS, index_dir=tmp_path_factory.mktemp("server-index"), chroma_url=chroma_url)


@pytest.fixture(scope="module")
def server_assistant(server_settings):
    from aidqa import Assistant

    a = Assistant(server_settings)
    a.ensure_ready()
    yield a
    a.unload()


def _collections(url: str) -> dict[str, int]:
    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=int(url.rsplit(":", 1)[1]))
    try:
        return {c.name: c.count() for c in client.list_collections()}
    finally:
        client.close()


def test_the_build_keeps_its_vectors_on_the_server(server_assistant, chroma_url):
    index = server_assistant.ensure_ready()
    record = index.manifest["vector_store"]
    assert record["kind"] == "server" and record["url"] == chroma_url
    assert not (index.path / "chroma").exists()  # nothing of the vector store on the local disk
    assert (index.path / "keywords" / "format.json").is_file()  # the keyword index stays with the build
    assert _collections(chroma_url)[record["collection"]] == len(index.chunks)


def test_retrieval_from_the_server_equals_the_embedded_store(server_assistant, assistant):
    for item in load_items(DEV_SET)[:40]:
        served = [d.id for d in server_assistant.retriever(k=5).invoke(item.question)]
        embedded = [d.id for d in assistant.retriever(k=5).invoke(item.question)]
        assert served == embedded, item.question


def test_answers_from_the_server_equal_the_embedded_store(server_assistant, assistant):
    for item in load_items(DEV_SET):
        served = server_assistant.ask(item.question, history=item.history)
        embedded = assistant.ask(item.question, history=item.history)
        assert (served.answer, served.refused) == (embedded.answer, embedded.refused), item.question
        assert [(c.source, c.start, c.end) for c in served.citations] == [(c.source, c.start, c.end) for c in embedded.citations]


def test_two_processes_answer_from_one_server(server_assistant, server_settings):
    question = "举办了多少场招聘活动？"
    expected = server_assistant.ask(question)
    builds_before = sorted(p.name for p in (server_assistant.store().root / "builds").iterdir())
    env = {**os.environ, "AIDQA_CORPUS_DIR": str(CORPUS), "AIDQA_INDEX_DIR": str(server_settings.index_dir),
           "AIDQA_CHROMA_URL": server_settings.chroma.url}
    processes = [subprocess.Popen([sys.executable, "-m", "aidqa.cli", "ask", "--json", question], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        answer = json.loads(out)
        assert answer["answer"] == expected.answer and not answer["refused"]
        assert "18场" in answer["answer"]
    # Readers never build: the index folder holds the same builds as before.
    assert sorted(p.name for p in (server_assistant.store().root / "builds").iterdir()) == builds_before


def test_a_reader_follows_a_new_build_without_restart(server_settings, chroma_url, tmp_path):
    """The indexer (another process) builds again; a running reader switches at its next probe and answers from
    the new build, and the replaced build's collection stays for readers still on it until it is pruned."""
    from aidqa import Assistant

    reader = Assistant(server_settings)
    old = reader.ensure_ready()
    env = {**os.environ, "AIDQA_CORPUS_DIR": str(CORPUS), "AIDQA_INDEX_DIR": str(server_settings.index_dir),
           "AIDQA_CHROMA_URL": chroma_url}
    indexer = subprocess.run([sys.executable, "-m", "aidqa.cli", "index", "--rebuild"], env=env, capture_output=True,
                             text=True, timeout=600)
    assert indexer.returncode == 0, indexer.stderr
    assert reader.probe() is None
    new = reader.ensure_ready()
    assert new.path != old.path
    assert new.manifest["vector_store"]["collection"] != old.manifest["vector_store"]["collection"]
    collections = _collections(chroma_url)
    assert old.manifest["vector_store"]["collection"] in collections  # kept: the build before the current one
    assert "18场" in reader.ask("举办了多少场招聘活动？").answer
    reader.unload()


def test_an_unreachable_server_is_a_clear_error(server_assistant, server_settings):
    from aidqa.index.store import IndexStore, IndexUnavailable

    dead = server_settings.model_copy(update={"chroma": server_settings.chroma.model_copy(
        update={"url": f"http://127.0.0.1:{free_port()}"})})
    with pytest.raises(IndexUnavailable, match=r"Chroma server http://127\.0\.0\.1"):
        IndexStore(dead, server_assistant.embeddings).load()


def test_an_embedded_build_is_not_read_as_a_server_build(assistant, chroma_url):
    from aidqa.index.store import IndexStore, IndexUnavailable

    server = assistant.settings.model_copy(update={"chroma": assistant.settings.chroma.model_copy(
        update={"url": chroma_url})})
    with pytest.raises(IndexUnavailable, match="embedded store"):
        IndexStore(server, assistant.embeddings).load()


def test_the_credential_goes_in_the_configured_header():
    from aidqa.index.vectorstore import server_headers
    from aidqa.settings import ChromaSettings

    assert server_headers(ChromaSettings(url="http://h:1")) == {}
    assert server_headers(ChromaSettings(url="http://h:1", token="t0k")) == {"Authorization": "Bearer t0k"}
    assert server_headers(ChromaSettings(url="http://h:1", token="t0k", auth_header="X-Chroma-Token")) == {
        "X-Chroma-Token": "t0k"}


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "http://h:1/path", "ftp://h:1"])
def test_a_bad_chroma_url_is_refused(url):
    from pydantic import ValidationError

    from aidqa.settings import Settings

    with pytest.raises(ValidationError, match=r"chroma\.url must be"):
        Settings(corpus_dir=REPORT.parent, chroma_url=url)
