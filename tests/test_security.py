"""Web security of the app (aidqa.web): file routes serve nothing but this app's own cached files, no server-side
rendering, optional HTTP Basic authentication over UI and API, cross-origin requests refused, rendered report text
inert, security headers, and "busy" instead of an unbounded wait. Uses the packaged model; several tests run a real
uvicorn server on a loopback port (a raw socket sends the paths that HTTP clients would normalise)."""

import asyncio
import base64
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import serve_app
from fastapi.testclient import TestClient
from gradio import utils as gradio_utils
from pydantic import ValidationError

from aidqa.models import Answer
from aidqa.qa import figures_table as fv
from aidqa.qa.assistant import Assistant
from aidqa.settings import Settings
from aidqa.web.app import create_app
from aidqa.web.service import AskLimiter
from aidqa.web.ui.render import new_key, render_message, sources_html

QUESTION = "天津对口支援黄南州累计投入了多少资金？"
SECRET = "sk-aidqa-test-secret-3f9c1e"  # in the test server's .env: must never appear in a response
EVIL = "http://evil.example"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
}


# ---- helpers -----------------------------------------------------------------------------------------------


def _raw_get(base: str, target: str) -> tuple[int, str]:
    """GET ``target`` exactly as written (no dot-segment normalisation, no re-encoding): (status, body)."""
    url = httpx.URL(base)
    with socket.create_connection((url.host, url.port), timeout=30) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace")


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _fn_index(app, name: str) -> int:
    """The Gradio event whose function is called ``name`` (e.g. FiguresView.results)."""
    found = [i for i, fn in app.state.demo.fns.items() if getattr(fn.fn, "__name__", "") == name]
    assert len(found) == 1, found
    return found[0]


def _gradio_event(http: httpx.Client, fn_index: int, data: list, event_data: dict | None = None) -> list:
    """Run one UI event the way the page does (queue/join, then the SSE stream); returns its output values."""
    session = f"test-{fn_index}-{time.monotonic_ns()}"
    r = http.post("/gradio_api/queue/join", json={"data": data, "fn_index": fn_index, "session_hash": session,
                                                  "event_data": event_data, "trigger_id": None})
    assert r.status_code == 200, r.text
    with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    assert message.get("success"), message
                    return message["output"]["data"]
    raise AssertionError("the event never completed")


def _error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    return error


# ---- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Iterator[Path]:
    """The test server's working directory, with a .env holding a secret (the app must never serve it)."""
    cwd = tmp_path_factory.mktemp("cwd")
    (cwd / ".env").write_text(f"OPENAI_API_KEY={SECRET}\nAIDQA_TOP_K=5\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        yield cwd


@pytest.fixture(scope="module")
def app(workdir, settings, assistant):
    return create_app(settings, assistant)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, base_url="http://localhost") as c:
        app.state.loader.join(60)
        yield c


@pytest.fixture(scope="module")
def server(app) -> Iterator[str]:
    app.state.loader.join(60)
    with serve_app(app) as base:
        yield base


# ---- 1. file routes ----------------------------------------------------------------------------------------


def _csv_url(app, http: httpx.Client) -> str:
    """Filter the 数据一览 table like the page does; returns the path the browser downloads the CSV from."""
    _summary, _table, csv, _chart, _note = _gradio_event(http, _fn_index(app, "results"),
                                                         ["医疗", fv.ALL, fv.ALL, "", "", False, fv.SORT_REPORT])
    url = httpx.URL(csv["url"])
    assert url.path.startswith("/gradio_api/file=")  # served from Gradio's cache
    return url.raw_path.decode()


def _attack_targets(settings: Settings, workdir: Path) -> list[str]:
    index = Path(settings.index_dir).resolve()
    index_files = [next(index.rglob(name)) for name in ("manifest.json", "figures.json", "CURRENT")]
    report = next(Path(settings.corpus_dir).resolve().glob("*.txt"))
    config_py = Path(__file__).resolve().parent.parent / "src" / "aidqa" / "config.py"
    return [
        "/gradio_api/file=/etc/passwd",
        "/file=/etc/passwd",
        "/gradio_api/file=../../../../../../../../etc/passwd",
        "/gradio_api/file=..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/gradio_api/file=%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/gradio_api/file=%252e%252e%252f%252e%252e%252f%252e%252e%252f%252e%252e%252f%252e%252e%252fetc%252fpasswd",
        "/gradio_api/file=..%5c..%5c..%5c..%5c..%5c..%5c..%5c..%5cetc%5cpasswd",
        "/gradio_api/file=/tmp/gradio/../../etc/passwd",
        "/GRADIO_API/FILE=/etc/passwd",
        "/Gradio_Api/file=/etc/passwd",
        "/gradio_api/File=/etc/passwd",
        "/gradio_api/file=//etc/passwd",
        "/gradio_api/file=file:///etc/passwd",
        "/gradio_api/file=http://example.com/x",
        "/gradio_api/file=https://example.com/x",
        "/gradio_api/file/etc/passwd",
        "/gradio_api/file//etc/passwd",
        "/gradio_api/proxy=https://example.com/x",
        "/?file=/etc/passwd",
        "/gradio_api/info?file=../../etc/passwd",
        f"/gradio_api/file={config_py}",
        "/gradio_api/file=src/aidqa/config.py",
        "/gradio_api/file=.env",
        f"/gradio_api/file={workdir / '.env'}",
        f"/gradio_api/file={workdir}/%2eenv",
        "/gradio_api/file=%2eenv",
        "/.env",
        f"/gradio_api/file={index}",
        *[f"/gradio_api/file={p}" for p in index_files],
        f"/gradio_api/file={report}",
        f"/gradio_api/file={settings.corpus_dir}/{report.name}",
        "/gradio_api/file=docs_corpus/" + report.name,
        "/static/../../../../../../etc/passwd",
        "/assets/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/gradio_api/file=/etc/passwd%00.csv",
    ]


def test_file_routes_serve_only_the_apps_cached_files(app, server, settings, workdir):
    with httpx.Client(base_url=server, timeout=60) as http:
        csv_path = _csv_url(app, http)
        r = http.get(csv_path)
        assert r.status_code == 200, r.text
        assert r.text.lstrip("\ufeff").startswith("原文数字,数值,单位") and "7000000" in r.text
        assert r.headers["content-disposition"].startswith("attachment")

    secrets_ = ("root:", SECRET, "OPENAI_API_KEY", "chunk_count", "AIDQA_TOP_K", "class Settings", "天津")
    for target in _attack_targets(settings, workdir):
        status, body = _raw_get(server, target)
        assert status in (403, 404), (target, status, body[:200])
        assert not any(s in body for s in secrets_), (target, body[:200])
    # The CSV's own folder and a cached file under another name are refused too: only the exact file is served.
    folder = csv_path.rsplit("/", 1)[0]
    for target in (folder, folder + "/other.csv", csv_path + "/..", csv_path.replace("/gradio_api/", "/gradio_api/./")):
        assert _raw_get(server, target)[0] in (403, 404), target


def test_file_refusals_are_the_guards(client, settings, workdir):
    """The guard refuses them with its own 403 JSON (not only Gradio's or the router's 404), whatever the case."""
    for target in ["/gradio_api/file=/etc/passwd", "/GRADIO_API/FILE=/etc/passwd", "/gradio_api/file=http://example.com/x",
                   f"/gradio_api/file={workdir / '.env'}", f"/gradio_api/file={Path(settings.index_dir).resolve()}",
                   "/gradio_api/file=%252e%252e%252fetc/passwd", "/gradio_api/file=/etc/passwd%00.csv"]:
        _error(client.get(target), 403, "forbidden")
    # Routes this app never needs: uploads and the Spaces proxy.
    _error(client.post("/gradio_api/upload", files={"files": ("x.txt", b"hello")}), 403, "forbidden")
    _error(client.post("/gradio_api/process_recording", files={"video": ("x.mp4", b"0")}), 403, "forbidden")
    _error(client.get("/gradio_api/upload_progress?upload_id=1"), 403, "forbidden")


def test_files_in_gradios_cache_that_this_app_did_not_create_are_refused(app, server):
    """Gradio serves any file under its temp folder (shared by every Gradio app and upload on the machine); the
    guard serves only the files this app's components put there."""
    cache = Path(app.state.demo.GRADIO_CACHE)
    stray = cache / f"aidqa-test-{os.getpid()}-{time.monotonic_ns()}" / "other-app.txt"
    stray.parent.mkdir(parents=True)
    stray.write_text(SECRET, encoding="utf-8")
    try:
        allowed, reason = gradio_utils.is_allowed_file(stray, [], [], [str(cache)])
        assert (allowed, reason) == (True, "created")  # what Gradio alone would do
        status, body = _raw_get(server, f"/gradio_api/file={stray}")
        assert status == 403 and SECRET not in body
    finally:
        stray.unlink()
        stray.parent.rmdir()


def test_gradio_blocked_paths_are_the_second_layer(app, settings, workdir):
    demo = app.state.demo
    assert demo.allowed_paths == []
    manifest = next(Path(settings.index_dir).resolve().rglob("manifest.json"))
    report = next(Path(settings.corpus_dir).resolve().glob("*.txt"))
    for path in (manifest, report, workdir / ".env"):
        # Even if the guard let it through, and even inside a folder Gradio considers its own, Gradio refuses it.
        allowed, reason = gradio_utils.is_allowed_file(path, demo.blocked_paths, demo.allowed_paths, [str(path.parent)])
        assert (allowed, reason) == (False, "in_blocklist"), path


# ---- 2. no server-side rendering ---------------------------------------------------------------------------


def test_server_side_rendering_is_off(settings, assistant, monkeypatch):
    monkeypatch.setenv("GRADIO_SSR_MODE", "true")  # the explicit ssr_mode=False wins over the environment
    app = create_app(settings, assistant)
    demo = app.state.demo
    assert demo.ssr_mode is False
    assert getattr(demo, "node_process", None) is None  # no Node server was started
    with TestClient(app, base_url="http://localhost") as c:
        html = c.get("/").text
    # Client-side rendering: the page is an empty <gradio-app> shell plus the config; nothing rendered on the server.
    shell = html.split("<gradio-app", 1)[1].split(">", 1)[1].split("</gradio-app>", 1)[0]
    assert shell.strip() == ""
    assert "window.gradio_config" in html


# ---- 3. authentication -------------------------------------------------------------------------------------

USERS = "alice:s3cret-pw, bob:pässwörd:2"


@pytest.fixture(scope="module")
def auth_settings(settings):
    return Settings(corpus_dir=settings.corpus_dir, index_dir=settings.index_dir, auth=USERS)


@pytest.fixture(scope="module")
def auth_app(workdir, auth_settings, assistant):
    return create_app(auth_settings, assistant)


@pytest.fixture(scope="module")
def auth_client(auth_app):
    with TestClient(auth_app, base_url="http://localhost") as c:
        yield c


def test_auth_setting_is_parsed_and_validated(monkeypatch):
    monkeypatch.setenv("AIDQA_AUTH", "alice:Xyzzy1,bob:pw:2")
    s = Settings()
    assert s.auth_users() == {"alice": "Xyzzy1", "bob": "pw:2"}
    assert "Xyzzy1" not in repr(s) and "Xyzzy1" not in str(s.model_dump())  # a SecretStr
    monkeypatch.delenv("AIDQA_AUTH")
    assert Settings().auth is None and Settings().auth_users() == {}
    for bad, needle in [("aliceXyzzy1", "entry 1 of 1 has no ':'"), ("alice:Xyzzy1,bobXyzzy2", "entry 2 of 2 has no ':'"),
                        (":Xyzzy1", "empty user name"), ("alice:", "empty user name or password"),
                        ("alice:Xyzzy1,alice:Xyzzy2", "repeats the user name 'alice'"), ("", "set but empty"),
                        (" , ", "set but empty")]:
        with pytest.raises(ValidationError) as info:
            Settings(auth=bad)
        assert needle in str(info.value)
        assert "Xyzzy" not in str(info.value)  # the message names the entry, never echoes the value


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/ask"), ("POST", "/api/ask/batch"), ("GET", "/api/docs"), ("GET", "/api/openapi.json"),
    ("GET", "/"), ("GET", "/config"), ("GET", "/gradio_api/info"), ("POST", "/gradio_api/call/ask"),
    ("POST", "/gradio_api/queue/join"), ("GET", "/gradio_api/queue/data?session_hash=x"), ("POST", "/login"),
    ("GET", "/theme.css"),
])
def test_auth_required_everywhere(auth_client, method, path):
    body = {"question": QUESTION} if path == "/api/ask" else {"questions": [{"question": QUESTION}]} \
        if path == "/api/ask/batch" else {"data": [QUESTION, []]}
    for headers in ({}, _basic("alice", "wrong"), _basic("mallory", "s3cret-pw"), _basic("alice", "s3cret-pw ")):
        r = auth_client.request(method, path, headers=headers, json=body if method == "POST" else None)
        _error(r, 401, "unauthorized")
        assert r.headers["www-authenticate"].startswith('Basic realm="aidqa"')
    for headers in ({"Authorization": "Basic !!!"}, {"Authorization": "Bearer s3cret-pw"},
                    {"Authorization": "Basic " + base64.b64encode(b"alice").decode()}):
        _error(auth_client.request(method, path, headers=headers), 401, "unauthorized")


def test_right_credentials_open_ui_and_api(auth_client):
    for headers in (_basic("alice", "s3cret-pw"), _basic("bob", "pässwörd:2")):
        r = auth_client.post("/api/ask", json={"question": QUESTION}, headers=headers)
        assert r.status_code == 200 and "18.51亿元" in r.json()["answer"]
        r = auth_client.post("/api/ask/batch", json={"questions": [{"question": QUESTION}]}, headers=headers)
        assert r.status_code == 200 and r.json()["results"][0]["ok"] is True
        r = auth_client.get("/", headers=headers)
        assert r.status_code == 200 and "报告问答" in r.text
        assert auth_client.get("/gradio_api/info", headers=headers).status_code == 200
        assert auth_client.get("/api/docs", headers=headers).status_code == 200
        r = auth_client.post("/gradio_api/call/ask_json", json={"data": [QUESTION]}, headers=headers)
        assert r.status_code == 200 and r.json()["event_id"]


def test_health_is_public_but_says_only_its_status(auth_client, client):
    r = auth_client.get("/api/health")
    assert r.status_code == 200 and r.json() == {"status": "ready"}
    r = auth_client.get("/api/health", headers=_basic("alice", "wrong"))
    assert r.status_code == 200 and r.json() == {"status": "ready"}
    full = auth_client.get("/api/health", headers=_basic("alice", "s3cret-pw")).json()
    assert full["status"] == "ready" and full["index"]["chunk_count"] > 0 and full["corpus_files"]
    # Without AIDQA_AUTH nothing changes: the full body, no credentials needed.
    assert client.get("/api/health").json()["index"]["chunk_count"] > 0
    assert client.post("/api/ask", json={"question": QUESTION}).status_code == 200


def test_gradio_client_with_credentials(auth_app):
    from gradio_client import Client

    auth_app.state.loader.join(60)
    with serve_app(auth_app) as base:
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own error types for a 401
            Client(base + "/", verbose=False)
        c = Client(base + "/", verbose=False, headers=_basic("alice", "s3cret-pw"))
        result = c.predict(QUESTION, api_name="/ask_json")
        assert "18.51亿元" in result["answer"]
        chat = c.predict(QUESTION, [], api_name="/ask")
        assert chat[-1]["role"] == "assistant" and "18.51亿元" in str(chat[-1]["content"]) and "<mark" in str(chat[-1]["content"])
        with httpx.Client(base_url=base, timeout=60) as http:
            assert http.get("/").status_code == 401
            assert http.get("/", headers=_basic("bob", "pässwörd:2")).status_code == 200


# ---- 4. cross-origin requests ------------------------------------------------------------------------------


def _no_cors(response: httpx.Response) -> None:
    assert not [h for h in response.headers if h.startswith("access-control-")], dict(response.headers)


@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/batch", "/gradio_api/queue/join", "/gradio_api/call/ask", "/"])
def test_foreign_preflight_gets_no_cors_headers(client, path):
    for origin in (EVIL, "null", "http://localhost.evil.example", "http://localhost:81"):
        r = client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                          "Access-Control-Request-Headers": "content-type"})
        _error(r, 403, "forbidden")
        _no_cors(r)


def test_cross_origin_post_is_refused(client):
    for origin in (EVIL, "null"):
        r = client.post("/api/ask", json={"question": QUESTION}, headers={"Origin": origin})
        _error(r, 403, "forbidden")
        _no_cors(r)
        _error(client.post("/gradio_api/call/ask", json={"data": [QUESTION, []]}, headers={"Origin": origin}), 403,
               "forbidden")
        _error(client.post("/gradio_api/queue/join", json={}, headers={"Origin": origin}), 403, "forbidden")
    # Gradio echoes any Origin back (with credentials) when the host is not localhost: not here.
    for path in ("/", "/gradio_api/info", "/config", "/api/health"):
        r = client.get(path, headers={"Origin": EVIL})
        assert r.status_code == 200
        _no_cors(r)


def test_same_origin_and_originless_requests_work(client, server):
    assert client.post("/api/ask", json={"question": QUESTION}).status_code == 200  # curl, scripts: no Origin
    r = client.post("/api/ask", json={"question": QUESTION}, headers={"Origin": "http://localhost"})
    assert r.status_code == 200
    _no_cors(r)
    # Behind a proxy that keeps the public host in X-Forwarded-Host: that name must be listed in AIDQA_ALLOWED_HOSTS
    # (tests/test_security_depth.py), else it is refused like any other name.
    r = client.post("/api/ask", json={"question": QUESTION},
                    headers={"Origin": "https://qa.example.org", "X-Forwarded-Host": "qa.example.org"})
    _error(r, 400, "bad_host")
    with httpx.Client(base_url=server, timeout=60) as http:
        r = http.post("/api/ask", json={"question": QUESTION}, headers={"Origin": server})
        assert r.status_code == 200 and "18.51亿元" in r.json()["answer"]
        r = http.post("/gradio_api/call/ask_json", json={"data": [QUESTION]}, headers={"Origin": server})
        assert r.status_code == 200
        _error(http.post("/api/ask", json={"question": QUESTION}, headers={"Origin": EVIL}), 403, "forbidden")
        # Another port on the same host is another origin.
        other = server.rsplit(":", 1)[0] + ":1"
        _error(http.post("/api/ask", json={"question": QUESTION}, headers={"Origin": other}), 403, "forbidden")


def test_listed_origins_get_cors_headers(workdir, settings, assistant, monkeypatch):
    monkeypatch.setenv("AIDQA_CORS_ORIGINS", '["https://Portal.example.org/"]')
    listed = Settings(corpus_dir=settings.corpus_dir, index_dir=settings.index_dir)
    assert listed.cors_origins == ["https://portal.example.org"]
    portal = "https://portal.example.org"
    with TestClient(create_app(listed, assistant), base_url="http://localhost") as c:
        r = c.options("/api/ask", headers={"Origin": portal, "Access-Control-Request-Method": "POST",
                                           "Access-Control-Request-Headers": "content-type"})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == portal
        r = c.post("/api/ask", json={"question": QUESTION}, headers={"Origin": portal})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == portal
        r = c.get("/gradio_api/info", headers={"Origin": portal})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == portal
        _error(c.post("/api/ask", json={"question": QUESTION}, headers={"Origin": EVIL}), 403, "forbidden")
        _no_cors(c.get("/gradio_api/info", headers={"Origin": EVIL}))
    for bad in (["*"], ["https://portal.example.org/path"], ["portal.example.org"]):
        with pytest.raises(ValidationError, match="is not an origin"):
            Settings(cors_origins=bad)


# ---- 5. inert text, security headers -----------------------------------------------------------------------

XSS_REPORT = """测试报告

一、资金投入

天津市累计投入援青资金<img src=x onerror=alert(1)>18.51亿元，实施援青项目567个。<script>alert("x")</script>

二、人才交流

选派干部人才<b onmouseover=alert(2)>120</b>名到黄南州挂职。
"""


def _inert(html: str) -> None:
    assert "&lt;img" in html
    for raw in ("<img", "<script", "<b ", "onerror=alert(1)>"):
        assert raw not in html, (raw, html)


def test_report_markup_is_shown_as_text_end_to_end(tmp_path, workdir):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "xss-report.txt").write_text(XSS_REPORT, encoding="utf-8")
    assistant = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    app = create_app(assistant.settings, assistant)
    app.state.loader.join(120)
    assert assistant.is_ready, app.state.loader.error
    question = "天津市累计投入了多少援青资金？"
    from gradio_client import Client

    with serve_app(app) as base, httpx.Client(base_url=base, timeout=60) as http:
        # The JSON API returns the report's text as data (JSON, never sniffed as HTML) ...
        r = http.post("/api/ask", json={"question": question})
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.headers["x-content-type-options"] == "nosniff"
        answer = Answer.model_validate(r.json())
        assert "<img src=x onerror=alert(1)>" in answer.citations[0].passage
        # ... and what the UI renders from it is inert.
        _inert(render_message(answer))
        _inert(sources_html(answer, new_key()))

        # The chat as the page gets it, through Gradio's /ask endpoint.
        chat = Client(base + "/", verbose=False).predict(question, [], api_name="/ask")
        message = chat[-1]["content"]
        message = message if isinstance(message, str) else message[0]["text"]
        assert "18.51亿元" in message and "<mark" in message  # the answer carries its sources
        _inert(message)

        # The 数据一览 tab: click the 18.51亿元 row; the source passage comes back escaped.
        figure = next(f for f in assistant.figures() if f.raw == "18.51亿元")
        row = [None] * len(fv.TABLE_COLUMNS)
        row[fv.TABLE_COLUMNS.index(fv.COL_SOURCE)] = figure.source
        row[fv.TABLE_COLUMNS.index(fv.COL_START)] = figure.start
        (passage,) = _gradio_event(http, _fn_index(app, "select"), [],
                                   {"index": [0, 0], "value": figure.raw, "row_value": row, "selected": True})
        assert "18.51亿元" in passage
        _inert(passage)


def test_security_headers_on_every_response(client):
    responses = [
        client.get("/"), client.get("/gradio_api/info"), client.get("/config"), client.get("/api/health"),
        client.get("/api/docs"), client.post("/api/ask", json={"question": QUESTION}),
        client.post("/api/ask", json={}),  # 422
        client.get("/gradio_api/file=/etc/passwd"),  # 403
        client.post("/api/ask", json={"question": QUESTION}, headers={"Origin": EVIL}),  # 403
        client.get("/api/nope"),  # 404
    ]
    for r in responses:
        for name, value in SECURITY_HEADERS.items():
            assert r.headers.get(name) == value, (r.request.url, name, dict(r.headers))
    # Gradio still loads: the page and its API info.
    assert responses[0].status_code == 200 and "报告问答" in responses[0].text
    assert responses[1].status_code == 200 and "/ask" in responses[1].json()["named_endpoints"]


def test_security_headers_on_401(auth_client):
    r = auth_client.get("/")
    assert r.status_code == 401
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value


# ---- 6. busy instead of hang -------------------------------------------------------------------------------


class SlowAssistant(Assistant):
    """Its answers wait until the test releases them; ``entered`` counts answers started."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)

    def ask(self, question, history=None, top_k=None):
        self.entered.release()
        assert self.release.wait(120), "the test never released the answers"
        return super().ask(question, history=history, top_k=top_k)


def _wait_for(condition, what: str) -> None:
    """Liveness wait (not a timing assertion): polls until ``condition()`` or fails after a generous minute."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def test_third_request_is_busy_at_once(workdir, settings):
    limited = Settings(corpus_dir=settings.corpus_dir, index_dir=settings.index_dir, max_concurrent_asks=1,
                       max_waiting_asks=1)
    slow = SlowAssistant(limited)
    app = create_app(limited, slow)
    limiter = app.state.service.limiter
    app.state.loader.join(120)
    # The UI's Gradio queue has the same limits.
    assert app.state.demo._queue.default_concurrency_limit == 1 and app.state.demo._queue.max_size == 1
    results: dict[str, httpx.Response] = {}
    with serve_app(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        try:
            def post(name: str) -> None:
                with httpx.Client(base_url=base, timeout=60) as own:
                    results[name] = own.post("/api/ask", json={"question": QUESTION})

            first = threading.Thread(target=post, args=("first",))
            first.start()
            assert slow.entered.acquire(timeout=60), "the first question was never answered"
            second = threading.Thread(target=post, args=("second",))
            second.start()
            _wait_for(lambda: limiter.waiting == 1, "the second request waits for the slot")

            # The slot is taken and the queue is full: the third request (or a batch) is refused at once, while
            # the first two are still held (release is not set yet; a waiting request would time out here).
            r = http.post("/api/ask", json={"question": QUESTION})
            assert not slow.release.is_set()
            error = _error(r, 503, "busy")
            assert r.headers["retry-after"] == "1" and "busy" in error["message"]
            _error(http.post("/api/ask/batch", json={"questions": [{"question": QUESTION}]}), 503, "busy")
            assert limiter.active == 1 and limiter.waiting == 1
        finally:
            slow.release.set()  # before the server stops, also when an assertion failed
        first.join(60)
        second.join(60)
        assert results["first"].status_code == 200 and "18.51亿元" in results["first"].json()["answer"]
        assert results["second"].status_code == 200
        assert limiter.active == 0 and limiter.waiting == 0
        assert http.post("/api/ask", json={"question": QUESTION}).status_code == 200  # free again


def test_a_cancelled_waiter_does_not_leak_its_slot():
    limiter = AskLimiter(1, 1)

    async def scenario() -> None:
        assert await limiter.acquire()
        waiter = asyncio.ensure_future(limiter.acquire())
        await asyncio.sleep(0)  # lets the waiter run up to its wait
        assert limiter.waiting == 1
        assert not await limiter.acquire()  # one holds the slot, one waits: a third is refused at once
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert limiter.waiting == 0
        limiter.release()
        assert limiter.active == 0
        assert await limiter.acquire()  # the slot is free again
        limiter.release()

        # Handed the slot just as it is cancelled: the slot passes on, not lost.
        assert await limiter.acquire()
        waiter = asyncio.ensure_future(limiter.acquire())
        await asyncio.sleep(0)  # lets the waiter run up to its wait
        assert limiter.waiting == 1
        limiter.release()  # hands the slot to the waiter ...
        waiter.cancel()  # ... which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert limiter.active == 0 and limiter.waiting == 0

    asyncio.run(scenario())


def test_settings_for_the_limits(monkeypatch):
    monkeypatch.setenv("AIDQA_MAX_CONCURRENT_ASKS", "2")
    monkeypatch.setenv("AIDQA_MAX_WAITING_ASKS", "10")
    s = Settings()
    assert (s.max_concurrent_asks, s.max_waiting_asks) == (2, 10)
    assert (Settings.model_fields["max_concurrent_asks"].default, Settings.model_fields["max_waiting_asks"].default) == (4, 64)
    for bad in ({"max_concurrent_asks": 0}, {"max_waiting_asks": 0}):
        with pytest.raises(ValidationError):
            Settings(**bad)
