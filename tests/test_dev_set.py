"""The dev set on the real report with the real packaged model: retrieval, figures, refusals, quotes."""

from __future__ import annotations

import re

import pytest
from conftest import CORPUS

from aidqa.answering import ungrounded_numbers
from aidqa.ingest import read_document
from aidqa.text import fold_for_match as fold


@pytest.fixture(scope="module")
def results(assistant, dev_items):
    return [(item, assistant.ask(item["question"], history=[tuple(t) for t in item.get("history", [])])) for item in dev_items]


def _answerable(results):
    return [(i, a) for i, a in results if i["type"] != "unanswerable"]


def test_dev_set_is_big_and_varied(dev_items):
    types = [i["type"] for i in dev_items]
    assert len(dev_items) >= 100
    assert types.count("english") >= 5 and types.count("unanswerable") >= 10 and types.count("followup") >= 10


def test_right_chunk_in_top3_for_95_percent(results):
    answerable = _answerable(results)
    hits = [any(fold(i["evidence"]) in fold(p.text) for p in a.retrieved[:3]) for i, a in answerable]
    assert sum(hits) / len(hits) >= 0.95, [i["id"] for (i, _), h in zip(answerable, hits) if not h]


def test_expected_figure_or_entity_in_answer_for_95_percent(results):
    answerable = _answerable(results)
    ok = [not a.refused and all(fold(m) in fold(a.answer) for m in i["must"]) for i, a in answerable]
    assert sum(ok) / len(ok) >= 0.95, [i["id"] for (i, _), good in zip(answerable, ok) if not good]


def test_every_unanswerable_question_is_refused(results):
    wrong = [(i["id"], a.answer) for i, a in results if i["type"] == "unanswerable" and not a.refused]
    assert not wrong
    for i, a in results:
        if i["type"] == "unanswerable":
            assert a.citations == [] and a.answer in ("报告中没有找到这个问题的答案。", "The reports do not contain an answer to this question.")


def test_every_quote_is_real_source_text_at_its_offsets(results):
    doc = read_document(CORPUS / "tianjin-huangnan-report.txt", CORPUS)
    raw = doc.raw
    checked = 0
    for _, a in results:
        for c in a.citations:
            assert doc.text[c.start : c.end] == c.quote
            assert c.passage[c.start - c.passage_start : c.end - c.passage_start] == c.quote
            assert fold(raw[c.raw_start : c.raw_end]) == fold(c.quote)
            checked += 1
    assert checked >= 100


def test_answers_cite_what_they_say(results):
    for _, a in results:
        if a.refused:
            continue
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", a.answer)}
        assert markers == {c.id for c in a.citations}
        assert ungrounded_numbers(a.answer, a.citations) == []
        for c in a.citations:
            assert c.quote in a.answer
