"""scripts/load.py, the bounded load generator: a short real run against the real app (API + Gradio) in this
process, with the session's assistant; errors and busy answers are told apart; it never leaves loopback. No latency
is asserted: only that both endpoints answered and nothing failed."""

from __future__ import annotations

import importlib.util
import json
import sys

import httpx
import pytest
from conftest import REPO

spec = importlib.util.spec_from_file_location("aidqa_load_script", REPO / "scripts" / "load.py")
load = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = load  # dataclasses look their module up
spec.loader.exec_module(load)


def test_short_load_run_has_no_errors_and_both_endpoints_answer(assistant, capsys):
    code = load.main(["--clients", "8", "--duration", "5", "--json"], assistant=assistant)
    out = capsys.readouterr().out
    report = json.loads(out)
    assert code == 0, out
    assert report["errors"] == 0 and report["clients"] == 8
    api, gradio = report["endpoints"]["/api/ask"], report["endpoints"]["gradio /ask_json"]
    assert api["clients"] == gradio["clients"] == 4
    assert api["answered"] > 0 and gradio["answered"] > 0
    assert report["answered"] + report["busy"] == report["requests"]
    assert api["p50_ms"] is not None and gradio["max_ms"] is not None
    assert report["peak_rss_mb"] > 0


def test_failures_are_counted_as_errors_and_fail_the_run(assistant, monkeypatch):
    def broken(question, history=None, top_k=None):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(assistant, "ask", broken)
    with load.serve_in_process(assistant=assistant) as base:
        report = load.run_load(base, clients=2, duration=1.5, timeout=60)
    api, gradio = report.endpoints["/api/ask"], report.endpoints["gradio /ask_json"]
    assert api.errors == api.requests > 0 and api.ok == 0
    assert any(detail.startswith("HTTP 500 internal_error") for detail in api.error_samples)
    assert gradio.errors == gradio.requests > 0 and gradio.ok == 0
    assert report.errors == api.errors + gradio.errors and report.busy == 0


def _response(status: int, body: dict, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_busy_is_not_an_error():
    busy = load.classify_api(_response(503, {"error": {"code": "busy", "message": "busy"}}, {"Retry-After": "2"}), 0.1)
    assert (busy.kind, busy.retry_after) == ("busy", 2.0)
    building = load.classify_api(_response(503, {"error": {"code": "index_building", "message": "wait"}}), 0.1)
    assert building.kind == "error" and building.detail == "HTTP 503 index_building"
    assert load.classify_api(_response(200, {"answer": "18.51亿元"}), 0.1).kind == "ok"
    assert load.classify_api(_response(200, {"unexpected": 1}), 0.1).kind == "error"
    assert load.classify_gradio_event("complete", json.dumps([{"answer": "是"}]), 0.1).kind == "ok"
    assert load.classify_gradio_event("complete", json.dumps([{"error": "the index failed"}]), 0.1).kind == "error"
    assert load.classify_gradio_event("error", "null", 0.1).kind == "error"


@pytest.mark.parametrize("url", ["http://example.com:7860", "http://10.0.0.5:7860", "http://127.0.0.2:80",
                                 "http://localhost.example.org", "ftp://127.0.0.1/", "http://[::2]:7860"])
def test_refuses_anything_but_loopback(url, capsys):
    assert load.main(["--url", url, "--duration", "1"]) == 2
    assert "only targets a server on this machine" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["http://127.0.0.1:7860", "http://localhost:1/", "http://[::1]:7860"])
def test_accepts_loopback(url):
    load.check_loopback(url)


@pytest.mark.parametrize(("args", "message"), [
    (["--clients", "201"], "--clients must be between 1 and 200"),
    (["--clients", "0"], "--clients must be between 1 and 200"),
    (["--duration", "601"], "--duration must be more than 0 and at most 600"),
    (["--duration", "0"], "--duration must be more than 0"),
    (["--timeout", "0"], "--timeout must be more than 0"),
])
def test_is_bounded(args, message, capsys):
    assert load.main(["--url", "http://127.0.0.1:9", *args]) == 2
    assert message in capsys.readouterr().err
