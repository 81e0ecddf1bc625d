"""The Python API, input validation and the typed result."""

from __future__ import annotations

import json

import pytest

from aidqa import Answer
from aidqa.assistant import InvalidQuestion
from aidqa.models import Citation


def test_python_api_returns_typed_cited_answer(assistant):
    a = assistant.ask("天津对口支援黄南州累计投入了多少资金？")
    assert isinstance(a, Answer) and not a.refused
    assert "18.51亿元" in a.answer and "[1]" in a.answer
    c = a.citations[0]
    assert isinstance(c, Citation) and "18.51亿元" in c.quote
    assert c.source == "tianjin-huangnan-report.txt"
    assert set(a.timings_ms) == {"retrieval", "answer", "total"}
    data = json.loads(a.model_dump_json())
    assert set(data) >= {"question", "answer", "refused", "citations", "timings_ms"}
    assert set(data["citations"][0]) >= {"id", "source", "section", "quote", "start", "end", "score"}


def test_english_question_answered_with_chinese_quote(assistant):
    a = assistant.ask("How many projects has Tianjin implemented in Huangnan?")
    assert a.language == "en" and not a.refused
    assert "567个" in a.answer and a.citations


def test_refusal_in_the_questions_language(assistant):
    assert assistant.ask("天津明天的天气怎么样？").answer == "报告中没有找到这个问题的答案。"
    en = assistant.ask("What is the total population of Huangnan?")
    assert en.refused and en.answer == "The reports do not contain an answer to this question."


def test_compound_question_answers_each_part(assistant):
    a = assistant.ask("青洽会黄南州专场签约额是多少？累计召开了几场招商推介会？")
    assert "52亿元" in a.answer and "6场" in a.answer


@pytest.mark.parametrize("bad", ["", "   ", "\u200b\u200b", "\x00"])
def test_empty_questions_get_a_clear_error(assistant, bad):
    with pytest.raises(InvalidQuestion, match="empty"):
        assistant.ask(bad)


def test_overlong_question_is_rejected_not_truncated(assistant):
    with pytest.raises(InvalidQuestion, match="limit is 500"):
        assistant.ask("天" * 501)


@pytest.mark.parametrize("odd", ["天津投入了多少资金？😀", "\u202e天津投入了多少资金？", "天津\ud800投入了多少资金？", "Tianjin 投入了 how much 资金？"])
def test_odd_unicode_does_not_crash(assistant, odd):
    a = assistant.ask(odd)
    assert isinstance(a.answer, str) and a.answer
    a.model_dump_json()  # serialisable (no lone surrogates left)


def test_retriever_is_a_langchain_retriever(assistant):
    from langchain_core.retrievers import BaseRetriever

    r = assistant.retriever(k=3)
    assert isinstance(r, BaseRetriever)
    docs = r.invoke("举办了多少场招聘活动？")
    assert len(docs) == 3 and any("招聘活动18场" in d.page_content for d in docs)
    assert {"source", "section", "start", "end", "score"} <= set(docs[0].metadata)
