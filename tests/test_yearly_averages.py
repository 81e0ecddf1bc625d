"""A change stated as the yearly average of a period (年均增长5.3%, in a work report's five-year review) does not
answer how much something grew in one year: the work report gives the year's own growth elsewhere (分别增长4.4%), and
was answered with the five-year average. An average asked (年均增长多少) is still answered by one, and 年均浓度 (a
yearly mean level) is no average change. On the shared work report (text), copied from ``../shared/dev-reports/``
at test time, with the packaged model."""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

from aidqa.qa.analysis import asks_change
from aidqa.qa.answerers.extractive import _only_averages_over_years

SICHUAN = "sichuan-2026-government-work-report.txt"


@pytest.mark.parametrize(("sentence", "only_averages"), [
    ("城镇新增就业52万人、城乡居民人均可支配收入年均分别增长5.3%、7.1%。", True),
    ("工业增加值年均增长6.1%、规模升至全国第7位", True),
    ("全年增长5%，五年年均增长6%", False),  # the year's own growth is there too
    ("首批城市细颗粒物年均浓度比2013年下降23.6%", False),  # a yearly mean level that fell
    ("新增就业52万人", False),
])
def test_which_sentences_give_only_yearly_averages(sentence, only_averages):
    assert _only_averages_over_years(sentence) is only_averages


def test_which_questions_ask_a_change():
    assert asks_change("2025年城镇居民人均可支配收入增长了多少？") and asks_change("How much did GDP grow in 2025?")
    assert not asks_change("过去五年工业增加值年均增长多少？")  # an average asked
    assert not asks_change("What was the average annual growth rate?") and not asks_change("常住人口是多少？")


@pytest.fixture(scope="module")
def sichuan(tmp_path_factory):
    return one_report_assistant(tmp_path_factory, SICHUAN)


@pytest.mark.parametrize("question", ["2025年四川城镇居民人均可支配收入增长了多少？",
                                      "How much did the per capita disposable income of urban residents in Sichuan grow in 2025?"])
def test_a_year_s_growth_is_not_answered_with_a_five_year_average(sichuan, question):
    answer = sichuan.ask(question)
    assert not answer.refused and answer.figures[0].raw.endswith("4.4%"), answer.answer
    assert "年均" not in answer.citations[0].quote


def test_an_average_asked_is_answered_with_one(sichuan):
    answer = sichuan.ask("过去五年四川工业增加值年均增长多少？")
    assert not answer.refused and answer.figures[0].raw.endswith("6.1%"), answer.answer
