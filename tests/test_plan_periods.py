"""A five-year plan's period (十三五) is named like a year: a question on one period is not answered by a sentence
on another. On the national plan (a 十三五 plan that reviews 十二五) and the Sichuan work report (which reviews 十四五
and names no 十五五), both text files copied from ``../shared/dev-reports/`` at test time, with the packaged model.
Both near misses were answered before with the other period's figure."""

from __future__ import annotations

from conftest import one_report_assistant

from aidqa.qa.analysis import anchors

PLAN = "state-council-2016-eco-environment-plan.txt"
WORK_REPORT = "sichuan-2026-government-work-report.txt"


def test_a_plan_period_is_an_anchor():
    assert ("十五五",) in anchors("“十五五”期间高速公路通车里程突破了多少？", "zh")
    assert not any("十五" in a[0] for a in anchors("十五个县的面积是多少？", "zh"))  # fifteen, no period
    # English names the period by its ordinal: the 13th is no number a passage must hold.
    named = anchors("What is the 13th Five-Year Plan target for forest stock volume in 2020?", "en")
    assert ("十三五",) in named and ("2020",) in named and not any(a[0] == "13" for a in named)


def test_another_periods_sentence_does_not_answer(tmp_path_factory):
    plan = one_report_assistant(tmp_path_factory, PLAN)
    review = "“十二五”期间全国化学需氧量排放总量下降了多少？"
    assert "12.9%" in plan.ask(review).answer
    target = plan.ask("“十三五”期间全国化学需氧量排放总量要减少多少？")
    assert "“十二五”期间" not in target.answer, target.answer  # the review's 12.9% is not the plan's target


def test_a_period_the_report_never_names_is_refused(tmp_path_factory):
    work_report = one_report_assistant(tmp_path_factory, WORK_REPORT)
    assert "1.1万公里" in work_report.ask("“十四五”期间四川高速公路通车里程突破了多少？").answer
    assert work_report.ask("“十五五”期间四川高速公路通车里程突破了多少？").refused
