"""Shared fixtures: the real packaged model on the real report, index built once per test session in a temp dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "docs_corpus"
REPORT = CORPUS / "tianjin-huangnan-report.txt"
DEV_SET = Path(__file__).parent / "data" / "dev.jsonl"


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    from aidqa.config import Settings

    return Settings(corpus_dir=CORPUS, index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def assistant(settings):
    from aidqa import Assistant

    a = Assistant(settings)
    a.ensure_ready()
    return a


@pytest.fixture(scope="session")
def dev_items() -> list[dict]:
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
