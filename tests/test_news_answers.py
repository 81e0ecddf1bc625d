"""Answers on a news article (the shared 网易财经 page on a listed developer, GPL-3.0, read from ``../shared/`` at
test time): a page that prints one sentence twice quotes it once, and an English question in percentage points is
answered in 个百分点. The news page's question set (tests/data/reports/longfor-…jsonl) was written after the code
these tests check was last tuned; it is the one set of this kind."""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

NEWS = "longfor-2019-netease-finance-news.html"


@pytest.fixture(scope="module")
def news(tmp_path_factory):
    return one_report_assistant(tmp_path_factory, NEWS)


def test_a_sentence_the_page_prints_twice_is_quoted_once(news):
    result = news.ask("2019年上半年龙湖的资产报酬率和投入资本回报率较去年同期下滑了多少？")
    assert not result.refused and "0.21个百分点" in result.answer
    quotes = [c.quote for c in result.citations]
    assert any("0.21个百分点" in q for q in quotes)
    assert len(quotes) == len(set(quotes))


def test_an_english_question_in_percentage_points(news):
    result = news.ask("By how many percentage points did Longfor's return on assets and return on invested capital "
                      "each fall year on year in the first half of 2019?")
    assert not result.refused
    assert any(f.raw.endswith("0.21个百分点") for f in result.figures)
