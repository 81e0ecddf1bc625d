"""Security in depth, tried the way an attacker would, through HTTP against a real uvicorn server on loopback:
file data in Gradio event inputs (the file-read hole), DNS rebinding (Host check), body limits on every route,
health that tells the truth when the vector store breaks under the server, a big figures table, and the small
ones (non-internal errors, malformed JSON, nonsense questions). Real packaged model, real report."""

from __future__ import annotations

import json
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import REPORT, serve_app

from aidqa.qa import figures_table as fv
from aidqa.qa.assistant import Assistant
from aidqa.settings import Settings
from aidqa.web import security
from aidqa.web.app import create_app
from aidqa.web.service import public_error
from aidqa.web.ui.figures import FiguresView

QUESTION = "天津对口支援黄南州累计投入了多少资金？"


# ---- helpers -----------------------------------------------------------------------------------------------


def _cache_files(app) -> set[str]:
    root = Path(app.state.demo.GRADIO_CACHE)
    return {str(p) for p in root.rglob("*")} if root.exists() else set()


def _gradio_call(http: httpx.Client, name: str, data: list) -> tuple[int, str]:
    """POST /gradio_api/call/<name>; when accepted, also read the event's result stream. (status, all text)."""
    r = http.post(f"/gradio_api/call/{name}", json={"data": data})
    text = r.text
    if r.status_code == 200 and "event_id" in r.text:
        event = r.json()["event_id"]
        for line in http.get(f"/gradio_api/call/{name}/{event}", timeout=60).text.splitlines():
            if line.startswith("data:"):
                try:  # Gradio escapes non-ASCII: decode, so that assertions read the real text
                    line = "data: " + json.dumps(json.loads(line[5:]), ensure_ascii=False)
                except ValueError:
                    pass
            text += "\n" + line
    return r.status_code, text


def _message(role: str, text: str) -> dict:
    """A chat message as Gradio 6's Chatbot sends it."""
    return {"role": role, "content": [{"type": "text", "text": text}]}


def _raw(base: str, request: bytes) -> tuple[int, bytes]:
    """Send ``request`` bytes as they are; (status, body)."""
    url = httpx.URL(base)
    with socket.create_connection((url.host, url.port), timeout=60) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def _error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text[:500]
    error = r.json()["error"]
    assert error["code"] == code and error["message"], error
    return error


# ---- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def canary(tmp_path_factory) -> Path:
    """A file the server can read but must never serve, copy or echo."""
    path = tmp_path_factory.mktemp("secret") / "canary.txt"
    path.write_text(f"CANARY-{uuid.uuid4().hex}\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def app(settings, assistant):
    return create_app(settings, assistant)


@pytest.fixture(scope="module")
def server(app) -> Iterator[str]:
    app.state.loader.join(60)
    with serve_app(app) as base:
        yield base


# ---- 1. file data in event inputs ----------------------------------------------------------------------------


def _file_data(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


def _shapes(canary: Path, base: str) -> list[tuple[str, list]]:
    """(endpoint, data) pairs that try to make Gradio read the canary, each shape the issue names and a few more."""
    p = str(canary)
    file_part = {"type": "file", "file": _file_data(p)}
    return [
        ("ask_json", [_file_data(p)]),  # top-level FileData, as found
        ("ask_json", [{"path": p}]),  # without meta
        ("ask_json", [{"url": f"file://{p}", "meta": {"_type": "gradio.FileData"}}]),  # a url instead of a path
        ("ask_json", [{"url": f"{base}/gradio_api/file={p}", "meta": {"_type": "gradio.FileData"}}]),
        ("ask_json", [{"a": [{"b": {"c": _file_data(p)}}]}]),  # nested
        ("ask_json", [[_file_data(p)]]),
        ("ask", [QUESTION, [{"role": "user", "content": [file_part]}, {"role": "assistant", "content": "好"}]]),
        ("ask", [QUESTION, [{"role": "user", "content": file_part}]]),
        ("ask", [QUESTION, [{"role": "user", "content": {"path": p, "meta": {"_type": "gradio.FileData"}}}]]),
        ("ask", [_file_data(p), []]),
    ]


def test_no_event_input_can_read_a_file(app, server, canary):
    secret = canary.read_text(encoding="utf-8").strip()
    before = _cache_files(app)
    with httpx.Client(base_url=server, timeout=60) as http:
        for name, data in _shapes(canary, server):
            status, text = _gradio_call(http, name, data)
            assert status == 422, (name, data, status, text[:300])
            assert secret not in text and str(canary) not in text and "gradio.FileData" not in text, text[:300]
            assert json.loads(text)["error"]["code"] == "invalid_request"
        # The page's own route (queue/join) refuses the same, for every event of the app.
        ask_index = next(i for i, fn in app.state.demo.fns.items() if getattr(fn, "api_name", None) == "ask")
        r = http.post("/gradio_api/queue/join", json={
            "data": [QUESTION, [{"role": "user", "content": [{"type": "file", "file": _file_data(str(canary))}]}]],
            "fn_index": ask_index, "session_hash": "attacker", "event_data": None, "trigger_id": None})
        _error(r, 422, "invalid_request")
        # Nothing was copied into Gradio's cache, and the canary is not served under any cache path.
        assert _cache_files(app) == before
        cache = Path(app.state.demo.GRADIO_CACHE)
        for guess in (cache / "canary.txt", *(d / "canary.txt" for d in cache.glob("*") if d.is_dir())):
            assert http.get(f"/gradio_api/file={guess}").status_code in (403, 404)
        # Text questions still work on both endpoints.
        status, text = _gradio_call(http, "ask_json", [QUESTION])
        assert status == 200 and "18.51亿元" in text
        status, text = _gradio_call(http, "ask", [QUESTION, [_message("user", "你好"), _message("assistant", "你好！")]])
        assert status == 200 and "18.51亿元" in text


def test_a_file_already_in_gradios_cache_is_not_served_unless_the_app_made_it(app, server, canary):
    """Second layer: even a file that does sit in Gradio's cache set (as Gradio's own preprocessing would have put
    it) is served only when it is one of the app's own files (the 数据一览 CSV)."""
    demo = app.state.demo
    folder = Path(demo.GRADIO_CACHE) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    copied = folder / "canary.txt"
    shutil.copy(canary, copied)
    demo.temp_file_sets.append({str(copied)})
    try:
        with httpx.Client(base_url=server, timeout=60) as http:
            assert http.get(f"/gradio_api/file={copied}").status_code == 403
            # The app's own CSV, once Gradio has cached it for the page, is served.
            view = FiguresView(app.state.assistant)
            csv_path = view.results("", fv.ALL, fv.ALL, "", "", False)[2]
            cached = demo.move_resource_to_block_cache(csv_path)  # what Gradio does with an output file
            demo.temp_file_sets.append({cached})
            r = http.get(f"/gradio_api/file={cached}")
            assert r.status_code == 200 and "原文数字" in r.text.splitlines()[0]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_json_that_is_not_text_data_is_refused_before_gradio(server):
    with httpx.Client(base_url=server, timeout=60) as http:
        r = http.post("/gradio_api/call/ask_json", content=b"{not json", headers={"Content-Type": "application/json"})
        _error(r, 422, "invalid_request")
        deep: list = [QUESTION]
        for _ in range(security.MAX_JSON_DEPTH + 2):
            deep = [deep]
        _error(http.post("/gradio_api/call/ask_json", json={"data": deep}), 422, "invalid_request")


# ---- 2. DNS rebinding --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method,path", [("GET", "/"), ("GET", "/api/health"), ("POST", "/api/ask"),
                                         ("POST", "/gradio_api/call/ask_json"), ("GET", "/gradio_api/info")])
def test_a_foreign_host_is_refused_on_every_route(server, method, path):
    port = httpx.URL(server).port
    host = f"attacker.example:{port}"
    body = json.dumps({"question": QUESTION} if path.startswith("/api") else {"data": [QUESTION]}).encode()
    request = (f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nConnection: close\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body) if method == 'POST' else 0}\r\n\r\n")
    status, reply = _raw(server, request.encode() + (body if method == "POST" else b""))
    assert status == 400, reply[:300]
    assert json.loads(reply)["error"]["code"] == "bad_host"


def test_loopback_names_are_served(server):
    port = httpx.URL(server).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "127.0.0.2"):
        status, _ = _raw(server, f"GET /api/health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        assert status == 200, host
    # No Host at all (HTTP/1.0) cannot be checked: refused.
    status, _ = _raw(server, b"GET /api/health HTTP/1.0\r\n\r\n")
    assert status == 400


def test_allowed_hosts_for_a_proxy(settings, assistant, monkeypatch):
    monkeypatch.setenv("AIDQA_ALLOWED_HOSTS", '["qa.example.org"]')
    listed = Settings(corpus_dir=settings.corpus_dir, index_dir=settings.index_dir)
    app = create_app(listed, assistant)
    with serve_app(app) as base, httpx.Client(base_url=base, timeout=60) as http:
        r = http.post("/api/ask", json={"question": QUESTION},
                      headers={"Host": "qa.example.org", "Origin": "https://qa.example.org"})
        assert r.status_code == 200 and "18.51亿元" in r.json()["answer"]
        r = http.post("/api/ask", json={"question": QUESTION},
                      headers={"X-Forwarded-Host": "qa.example.org", "Origin": "https://qa.example.org"})
        assert r.status_code == 200
        _error(http.get("/api/health", headers={"Host": "other.example.org"}), 400, "bad_host")
        _error(http.get("/api/health", headers={"X-Forwarded-Host": "evil.example"}), 400, "bad_host")
    monkeypatch.setenv("AIDQA_ALLOWED_HOSTS", '["*"]')
    assert security.server_names(Settings()) is None  # any name: a proxy in front checks it


# ---- 3. one body limit, and the history cap, on every route ------------------------------------------------


def test_body_limit_on_gradio_routes(server):
    big = "问" * (security.MAX_BODY_BYTES // 3 + 10)  # over the limit in UTF-8
    with httpx.Client(base_url=server, timeout=60) as http:
        _error(http.post("/gradio_api/call/ask_json", json={"data": [big]}), 413, "payload_too_large")
        _error(http.post("/gradio_api/queue/join", json={"data": [big], "fn_index": 0, "session_hash": "x"}),
               413, "payload_too_large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: the guard counts what arrives
            yield b'{"data": ["'
            for _ in range(40):
                yield ("问" * 30_000).encode()
            yield b'"]}'

        _error(http.post("/gradio_api/call/ask_json", content=chunks(), headers={"Content-Type": "application/json"}),
               413, "payload_too_large")
        _error(http.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"}),
               413, "payload_too_large")


def test_history_cap_on_gradio_ask(server):
    turn = [_message("user", "问"), _message("assistant", "答")]
    with httpx.Client(base_url=server, timeout=60) as http:
        started = time.monotonic()
        r = http.post("/gradio_api/call/ask", json={"data": [QUESTION, turn * 20_000]})  # 40,000 messages
        _error(r, 413, "payload_too_large")  # over the body limit already
        r = http.post("/gradio_api/call/ask", json={"data": [QUESTION, turn * 2_000]})  # within it
        _error(r, 413, "payload_too_large")
        assert f"{security.MAX_HISTORY_TURNS} turns" in r.json()["error"]["message"]
        refused_in = time.monotonic() - started
        # 50 turns are answered, and the chat that comes back keeps at most 50 turns.
        status, text = _gradio_call(http, "ask", [QUESTION, turn * security.MAX_HISTORY_TURNS])
        assert status == 200 and "18.51亿元" in text
        messages = json.loads(text.split("data:", 1)[1].strip().splitlines()[0])[0]
        assert len(messages) == 2 * security.MAX_HISTORY_TURNS and messages[-1]["role"] == "assistant"
    print(f"over-long histories refused in {refused_in:.3f} s")


# ---- 4. health tells the truth when the store breaks under the server ---------------------------------------


@pytest.fixture()
def own_server(tmp_path) -> Iterator[tuple[str, Assistant]]:
    """A server over an index of its own (it is broken on purpose), probing the store on every health call."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(REPORT, corpus / REPORT.name)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", health_probe_seconds=0)
    assistant = Assistant(settings)
    app = create_app(settings, assistant)
    app.state.loader.join(120)
    with serve_app(app) as base:
        yield base, assistant


def _wait_for(http: httpx.Client, status: int, seconds: float = 120) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        r = http.get("/api/health")
        if r.status_code == status or time.monotonic() > deadline:
            return r
        time.sleep(0.2)  # polling the server's background reload


@pytest.mark.parametrize("damage", ["overwrite", "delete"])
def test_health_and_answers_when_the_store_breaks(own_server, damage):
    base, assistant = own_server
    with httpx.Client(base_url=base, timeout=60) as http:
        assert http.get("/api/health").status_code == 200
        assert http.head("/api/health").status_code == 200
        build = Path(assistant.ensure_ready().path)
        chroma = build / "chroma"
        if damage == "overwrite":
            (chroma / "chroma.sqlite3").write_bytes(b"this is not a database" * 1000)
        else:
            shutil.rmtree(chroma)
        r = http.get("/api/health")
        assert r.status_code == 503 and r.json()["status"] in ("building", "error"), r.text
        assert http.head("/api/health").status_code == 503
        assert "loading again" in r.json()["message"] and "not a database" not in r.text
        status, text = _gradio_call(http, "ask_json", [QUESTION])  # the UI's endpoint: no library text either
        assert status == 200 and "not a database" not in text and "Traceback" not in text
        answer = http.post("/api/ask", json={"question": QUESTION})
        assert answer.status_code in (200, 503), answer.text  # never a 500
        if answer.status_code == 503:
            assert answer.json()["error"]["code"] in ("index_building", "index_unavailable")
        # Without a restart, the store is rebuilt and questions are answered again.
        r = _wait_for(http, 200)
        assert r.status_code == 200 and r.json()["status"] == "ready", r.text
        assert Path(r.json()["index"]["path"]) != build  # a new build
        answer = http.post("/api/ask", json={"question": QUESTION})
        assert answer.status_code == 200 and "18.51亿元" in answer.json()["answer"]
        status, text = _gradio_call(http, "ask_json", [QUESTION])
        assert status == 200 and "18.51亿元" in text


# ---- 6. a big figures table --------------------------------------------------------------------------------


def test_figures_table_is_bounded_through_http(tmp_path):
    """Twelve copies of the report (about 800 figures): the table holds at most MAX_TABLE_ROWS rows, says so, and
    the CSV has every matching figure."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(12):
        shutil.copy(REPORT, corpus / f"report-{n:02d}.txt")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    assistant = Assistant(settings)
    app = create_app(settings, assistant)
    app.state.loader.join(300)
    total = len(fv.select_figures(assistant.figures()))
    assert total > fv.MAX_TABLE_ROWS
    from test_security import _fn_index, _gradio_event

    with serve_app(app) as base, httpx.Client(base_url=base, timeout=120) as http:
        out = _gradio_event(http, _fn_index(app, "results"), ["", fv.ALL, fv.ALL, "", "", False, fv.SORT_REPORT])
        summary, table, csv_file = out[0], out[1], out[2]
        assert len(table["data"]) == fv.MAX_TABLE_ROWS
        assert f"前 **{fv.MAX_TABLE_ROWS}** 条" in summary and str(total) in summary
        csv = http.get(f"/gradio_api/file={csv_file['path']}")
        assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == total + 1


def test_figures_tab_handlers_never_fail(assistant, monkeypatch):
    """40,000 figures (the real ones, repeated) do not break the table, and a failing fill is a message, once."""
    many = assistant.figures() * (40_000 // len(assistant.figures()) + 1)
    view = FiguresView(assistant)
    monkeypatch.setattr(assistant, "figures", lambda: many)
    summary, table, _csv, _chart, _note = view.results("", fv.ALL, fv.ALL, "", "", False)
    assert len(table.data) == fv.MAX_TABLE_ROWS and "前 **500** 条" in summary
    table.to_html()  # the styled table renders (pandas refuses past 262,144 cells)


# ---- 7. the small ones -------------------------------------------------------------------------------------


def test_malformed_json_is_invalid_request(server):
    with httpx.Client(base_url=server, timeout=60) as http:
        for body in (b"{", b'{"question": "\xff\xfe"}', b"\x00\x01", b'{"question": "a",}'):
            _error(http.post("/api/ask", content=body, headers={"Content-Type": "application/json"}),
                   422, "invalid_request")


@pytest.mark.parametrize("question", ["1", "alert(1)", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "？？"])
def test_nonsense_questions_are_refused(server, question):
    with httpx.Client(base_url=server, timeout=60) as http:
        r = http.post("/api/ask", json={"question": question})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["refused"] and not body["citations"], body


def test_gradio_clients_get_no_internal_error_text(server):
    with httpx.Client(base_url=server, timeout=60) as http:
        for data in ([QUESTION, "not a chat"], [QUESTION, [{"role": "user"}]], [QUESTION, [1, 2, 3]], [None, None]):
            status, text = _gradio_call(http, "ask", data)
            assert "Traceback" not in text and "validation error" not in text.lower() and "pydantic" not in text
        status, text = _gradio_call(http, "ask_json", [12345])
        result = text.split("event:", 1)[1]
        assert status == 200 and "the question must be text" in result and "12345" not in result


def test_load_errors_shown_to_clients_are_not_library_internals(tmp_path):
    assert public_error(RuntimeError("Database error: file is not a database /x/y")) == (
        "unexpected RuntimeError while loading the index; the details are in the server log")
    from aidqa.index.store import IndexUnavailable

    assert public_error(IndexUnavailable("no index in x; run `aidqa index`")) == "no index in x; run `aidqa index`"


def test_docs_state_the_guarantees():
    root = Path(__file__).resolve().parent.parent
    security_doc = (root / "docs" / "security.md").read_text(encoding="utf-8")
    for phrase in ("AIDQA_ALLOWED_HOSTS", "file data", str(security.MAX_BODY_BYTES), "Threat model"):
        assert phrase in security_doc, phrase
    assert "AIDQA_ALLOWED_HOSTS" in (root / "README.md").read_text(encoding="utf-8")


# ---- 5. a link out of the corpus -----------------------------------------------------------------------------


def test_a_link_out_of_the_corpus_is_not_indexed_or_served(tmp_path, canary, caplog):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(REPORT, corpus / REPORT.name)
    (corpus / "outside.txt").symlink_to(canary)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    assistant = Assistant(settings)
    app = create_app(settings, assistant)
    with caplog.at_level("WARNING"):
        app.state.loader.join(120)
    assert "outside.txt" in caplog.text and "outside the corpus folder" in caplog.text
    secret = canary.read_text(encoding="utf-8").strip()
    with serve_app(app) as base, httpx.Client(base_url=base, timeout=60) as http:
        health = http.get("/api/health").json()
        assert health["corpus_files"] == [REPORT.name]
        r = http.post("/api/ask", json={"question": f"{secret} 是什么？"})
        assert r.status_code == 200
        body = r.json()
        quoted = [body["answer"], *(c["passage"] for c in body["citations"]), *(p["text"] for p in body["retrieved"])]
        assert not any(secret in text for text in quoted)  # the question echoes it; nothing else may
