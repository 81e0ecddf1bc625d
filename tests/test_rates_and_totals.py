"""A rate asked (出生率是多少) is answered by a rate stated per mille (8.47‰) as by one in %, and 总额 asked is
answered by 总值 written (进出口总额 ↔ 货物进出口总值): both are how the answer is counted, not what it measures. On
two shared statistical communiques (PDF and Markdown, copied from ``../shared/dev-reports/`` at test time) with the
packaged model; the PDF's questions were refused before."""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

from aidqa.qa.analysis import asked_measure
from aidqa.zh.numbers import has_number_with_unit

ZHOUKOU = "zhoukou-2023-statistical-communique.pdf"
QIANDONGNAN = "qiandongnan-2023-statistical-communique.md"


def test_a_per_mille_rate_is_a_rate():
    assert has_number_with_unit("出生率8.47‰", "%") and has_number_with_unit("增长9%", "%")
    assert not has_number_with_unit("出生人口7.40万人", "%")


def test_total_words_are_no_measure_of_their_own():
    assert asked_measure("2023年进出口总额是多少？") == ("进出口",)
    assert asked_measure("货物进出口总值是多少？") == ("货物", "进出口")


@pytest.mark.parametrize(("name", "question", "figure"), [
    (ZHOUKOU, "周口2023年出生率是多少？", "8.47‰"),
    (QIANDONGNAN, "黔东南2023年出生率是多少？", "9.1‰"),
    (ZHOUKOU, "2023年周口进出口总额是多少？", "109.26亿元"),
    (QIANDONGNAN, "2023年黔东南州进出口总额是多少？", "90111万元"),
])
def test_rates_per_mille_and_totals_by_another_name_are_answered(tmp_path_factory, name, question, figure):
    answer = one_report_assistant(tmp_path_factory, name).ask(question)
    assert not answer.refused and answer.figures and answer.figures[0].raw.endswith(figure), answer.answer
    assert figure in answer.citations[0].quote
