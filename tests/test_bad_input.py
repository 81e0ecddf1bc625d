"""Bad input never crashes anything: each gets a clear message or a normal answer — through Python and HTTP."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aidqa.qa.assistant import InvalidQuestion, clean_question

ODD = {
    "nul": "天津\x00累计投入了多少资金？",
    "zero-width": "天\u200b津\u200d累计\ufeff投入了多少资金？",
    "right-to-left": "\u202e天津累计投入了多少资金？\u202c",
    "lone-surrogate": "天津\ud800累计投入了多少资金？",
    "emoji": "天津累计投入了多少资金？😀🇨🇳",
    "mixed-scripts": "Tianjin 累计 investment 多少 деньги 資金？",
    "combining": "天津累计投入了多少资金？\u0301\u0301",
    "private-use": "天津\ue000累计投入了多少资金？",
    "full-width": "天津累计投入了多少资金？ＡＢＣ１２３",
    "newlines-and-tabs": "天津\n累计\t投入了\r\n多少资金？",
}


@pytest.fixture(scope="module")
def client(settings, assistant):
    from aidqa.web.app import create_app

    with TestClient(create_app(settings, assistant), base_url="http://localhost") as c:
        yield c


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_characters_get_a_normal_answer(assistant, name):
    answer = assistant.ask(ODD[name])
    json.loads(answer.model_dump_json())  # valid JSON, no lone surrogate left
    assert "\x00" not in answer.question and "\u202e" not in answer.question and "\ud800" not in answer.question
    if name not in ("mixed-scripts", "full-width", "combining", "private-use"):
        assert "18.51亿元" in answer.answer, answer.answer


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_characters_over_http(client, name):
    # json.dumps escapes a lone surrogate as \ud800, which is how a client would send it.
    r = client.post("/api/ask", content=json.dumps({"question": ODD[name]}), headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["question"] and isinstance(body["answer"], str)


@pytest.mark.parametrize("blank", ["", " ", "\u3000\u3000", "\n\t", "\x00\x01", "\u200b\u200c\u200d", "\ud800", "\u202e"])
def test_blank_questions_get_the_empty_message(assistant, client, blank):
    with pytest.raises(InvalidQuestion, match="empty"):
        assistant.ask(blank)
    r = client.post("/api/ask", content=json.dumps({"question": blank}), headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_question" and "请输入问题" in r.json()["error"]["message"]


def test_overlong_question_is_rejected_with_the_limit_not_truncated(assistant, client):
    question = "天津" + "很" * 600 + "累计投入了多少资金？"
    with pytest.raises(InvalidQuestion, match=r"is 612 characters long; the limit is 500"):
        assistant.ask(question)
    r = client.post("/api/ask", json={"question": question})
    assert r.status_code == 422 and "500" in r.json()["error"]["message"]
    # Exactly at the limit is fine.
    at_limit = "天津累计投入了多少资金？" + " " * 10 + "的" * 487  # spaces collapse to one: 500 characters
    assert len(assistant.ask(at_limit).question) == 500


def test_enormous_request_body_is_refused_cleanly(client):
    r = client.post("/api/ask", content=b'{"question": "' + b"a" * (3 * 1024 * 1024) + b'"}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code in (413, 422) and "error" in r.json()


def test_binary_body_is_a_clean_422(client):
    r = client.post("/api/ask", content=bytes(range(256)), headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80))
def test_any_text_is_cleaned_or_refused_with_a_message(text):
    try:
        cleaned = clean_question(text, 500)
    except InvalidQuestion as exc:
        assert str(exc)
        return
    assert cleaned == cleaned.strip() and cleaned
    cleaned.encode("utf-8")  # no lone surrogates
    assert not any(ch in cleaned for ch in "\x00\u200b\u202e\ufeff")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]), min_size=1, max_size=40))
def test_any_question_gets_an_answer_or_a_clear_message(assistant, text):
    try:
        answer = assistant.ask(text)
    except InvalidQuestion as exc:
        assert "empty" in str(exc) or "limit" in str(exc)
        return
    assert answer.refused or answer.citations
    json.loads(answer.model_dump_json())


@pytest.mark.parametrize("question, cleaned", [
    ("天津 累计\t投入了\n多少资金？", "天津累计投入了多少资金？"),  # Chinese does not space its words
    ("Gitee 上 大家 干得最多的是什么？", "Gitee 上大家干得最多的是什么？"),  # a space next to Latin stays
    ("What is GDP  growth？", "What is GDP growth？"),
    ("天津累计投入了多少资金？ 的", "天津累计投入了多少资金？ 的"),  # only between two Chinese characters
])
def test_spaces_between_chinese_words_are_dropped(question, cleaned):
    assert clean_question(question, 500) == cleaned
