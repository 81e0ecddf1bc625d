"""Shared fixtures: the real packaged model on the real report, index built once per test session in a temp dir."""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "docs_corpus"
REPORT = CORPUS / "tianjin-huangnan-report.txt"
DEV_SET = Path(__file__).parent / "data" / "dev.jsonl"
SHARED_REPORTS = REPO.parent / "shared" / "dev-reports"


def one_report_settings(tmp_path_factory, name: str):
    """Settings over a corpus holding only the shared dev report ``name`` (copied at test time), with its own index."""
    from aidqa.settings import Settings

    corpus = tmp_path_factory.mktemp(Path(name).stem[:20]) / "corpus"
    corpus.mkdir()
    shutil.copy(SHARED_REPORTS / name, corpus / name)
    return Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("index"))


CMRC = REPO.parent / "shared" / "data" / "cmrc2018" / "cmrc2018_trial.json"


def cmrc_settings(tmp_path_factory, questions: set[str]):
    """Settings over the CMRC 2018 trial passages (Wikipedia, CC BY-SA 4.0, read from ``../shared/data/cmrc2018/``
    at test time) that ``questions`` are asked on, plus the first six as distractors, each a report of its own as
    scripts/eval_cmrc.py indexes them; skips when the set is not there."""
    if not CMRC.is_file():
        pytest.skip(f"CMRC 2018 trial set not found at {CMRC}")
    from aidqa.settings import Settings

    data = json.loads(CMRC.read_text(encoding="utf-8"))["data"]
    corpus = tmp_path_factory.mktemp("cmrc") / "corpus"
    corpus.mkdir()
    for doc in data:
        for para in doc["paragraphs"]:
            if any(qa["question"] in questions for qa in para["qas"]) or len(list(corpus.iterdir())) < 6:
                (corpus / f"{para['id']}.txt").write_text(f"{doc.get('title', '')}\n\n{para['context']}\n", encoding="utf-8")
    return Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("cmrc-index"))


def cmrc_assistant_for(tmp_path_factory, questions: set[str]):
    """A ready Assistant over the CMRC passages ``questions`` are asked on (``cmrc_settings``)."""
    from aidqa import Assistant

    a = Assistant(cmrc_settings(tmp_path_factory, questions))
    a.ensure_ready()
    return a


def quoted_only_with_the_weight(assistant, question: str, span: str, **answering) -> None:
    """``span`` is in a quote of the answer to ``question``, and no longer is on the same index with the
    ``answering`` settings changed (a feature's weight at 0): the weight is what ranks it in."""
    answer = assistant.ask(question)
    assert not answer.refused and any(span in c.quote for c in answer.citations), answer.answer
    without = ask_with(assistant, question, **answering)
    assert not any(span in c.quote for c in without.citations), without.answer


def ask_with(assistant, question: str, **answering):
    """``question`` asked of a second Assistant over ``assistant``'s index with some answering settings changed
    (the same index, so what changes the answer is the setting)."""
    from aidqa import Assistant

    settings = assistant.settings
    changed = settings.model_copy(update={"answering": settings.answering.model_copy(update=answering)})
    return Assistant(changed).ask(question)


_ONE_REPORT: dict[str, object] = {}


def one_report_assistant(tmp_path_factory, name: str):
    """A ready Assistant over the shared dev report ``name`` alone (``one_report_settings``), built once per test
    session (an Assistant keeps no conversation state; a test that needs other settings asks through ``ask_with``);
    skips the test when the shared reports are not there."""
    if not (SHARED_REPORTS / name).is_file():
        pytest.skip(f"shared dev report {name} not found")
    if name not in _ONE_REPORT:
        from aidqa import Assistant

        a = Assistant(one_report_settings(tmp_path_factory, name))
        a.ensure_ready()
        _ONE_REPORT[name] = a
    return _ONE_REPORT[name]


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    from aidqa.settings import Settings

    return Settings(corpus_dir=CORPUS, index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture()
def corpus(tmp_path) -> Path:
    """A corpus folder of its own holding a copy of the report, for tests that change or break files."""
    d = tmp_path / "corpus"
    d.mkdir()
    shutil.copy(REPORT, d / REPORT.name)
    return d


@pytest.fixture(scope="session")
def assistant(settings):
    from aidqa import Assistant

    a = Assistant(settings)
    a.ensure_ready()
    return a


@pytest.fixture(scope="session")
def dev_items() -> list[dict]:
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(app, start_seconds: float = 60) -> Iterator[str]:
    """Run an ASGI ``app`` with uvicorn on a free loopback port in a thread; yields the base URL, then shuts the
    server down (and fails if it does not stop)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_seconds
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)  # polling the server thread
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
    assert not thread.is_alive(), "uvicorn did not shut down"


# ---- markers: every test gets exactly one of unit / integration / browser / quality -------------------------------

KINDS = ("unit", "integration", "browser", "quality")
FILE_KINDS = {"test_browser.py": "browser", "test_dev_set.py": "quality"}
# What makes a test an integration test: it (or a fixture it uses, directly or through another fixture) loads the
# real embedding model, builds or opens an index, starts a server or the Gradio app, or runs a process. Read from
# the source, so a new test is classified without anyone remembering to mark it; an explicit mark wins.
HEAVY = re.compile(r"\b(?:Assistant|_assistant|IndexStore|SentenceEmbeddings|embeddings|create_app|serve_app|build_ui"
                   r"|subprocess|Popen|from_settings|gradio_client)\b")


@functools.cache
def _heavy_source(func) -> bool:
    try:
        return HEAVY.search(inspect.getsource(func)) is not None
    except (OSError, TypeError):
        return False


def _kind(item) -> str:
    kind = FILE_KINDS.get(item.path.name)
    if kind is not None:
        return kind
    funcs = [getattr(item, "function", None)]
    for defs in getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).values():
        funcs.extend(d.func for d in defs if d.baseid != "" or d.argname in ("assistant", "settings"))
    return "integration" if any(_heavy_source(f) for f in funcs if f is not None) else "unit"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if not any(item.get_closest_marker(k) is not None for k in KINDS):
            item.add_marker(getattr(pytest.mark, _kind(item)))
