"""Figures counted in other ways than the question says: a rate asked (出生率是多少) is answered by one stated per
mille (8.47‰) as by one in %, and 总额 asked by 总值 written (进出口总额 ↔ 货物进出口总值); a people question needs
a count of people; 斤 is a unit (732.5亿斤). On two shared statistical communiques (PDF and Markdown) and the work
report (text), copied from ``../shared/dev-reports/`` at test time, with the packaged model; the PDF's rate and
total questions were refused before, and the work report's population near miss was answered."""

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


def test_a_people_question_needs_a_count_of_people(tmp_path_factory):
    from aidqa.zh.numbers import has_number_with_unit

    assert has_number_with_unit("带动就地就近就业万余人", "人")  # a count in words with 余
    # The work report gives no population: its sentence on 常住人口城镇化率 (and 100个 towns) does not answer.
    work_report = one_report_assistant(tmp_path_factory, "sichuan-2026-government-work-report.txt")
    assert work_report.ask("四川2025年常住人口是多少？").refused
    answer = one_report_assistant(tmp_path_factory, ZHOUKOU).ask("2023年周口常住人口是多少？")
    assert not answer.refused and answer.figures[0].raw.endswith("866.60万人"), answer.answer


def test_jin_is_a_unit(tmp_path_factory):
    # 斤 (half a kilogram) is how the work report states grain: 粮食产量达到732.5亿斤 is the figure, not just the quote.
    from aidqa.index.figures import extract_figures

    assert [f.raw for f in extract_figures("粮食产量达到732.5亿斤。", "r", lambda _: "")] == ["732.5亿斤"]
    work_report = one_report_assistant(tmp_path_factory, "sichuan-2026-government-work-report.txt")
    answer = work_report.ask("2025年四川粮食产量是多少？")
    assert not answer.refused and answer.figures[0].raw.endswith("732.5亿斤"), answer.answer


def test_a_total_is_money(tmp_path_factory):
    from aidqa.qa.analysis import asked_units

    assert asked_units("公司2024年纳税总额是多少？", "zh") == ["元"]
    assert asked_units("2023年社会消费品零售总额是多少？", "zh") == ["元"]
    # The ESG report gives no tax total: an award for paying tax (纳税二十强) was the answer before.
    esg = one_report_assistant(tmp_path_factory, "fuxiang-pharma-2024-esg-report.md")
    assert esg.ask("公司2024年纳税总额是多少？").refused


@pytest.mark.parametrize(("question", "units"), [
    ("营业收入利润率是多少？", ["%"]),  # the word nearest the question word names the measure: a rate
    ("收入增长率是多少？", ["%"]),
    ("人均可支配收入是多少？", ["元"]),
    ("龙湖2019年上半年净利润是多少？", ["元"]),  # profit is money
    ("城镇化率提高了多少？", ["个百分点"]),
    ("2023年周口GDP是多少？", ["元"]),  # a level of output is money, not its growth
    ("第一产业增加值是多少？", ["元"]),
    ("周口GDP增速是多少？", ["%"]),  # a speed of growth is a rate
    ("2023年GDP增长多少？", []),  # a change asked: told as the report states it
])
def test_the_unit_word_nearest_the_question_word_decides(question, units):
    from aidqa.qa.analysis import asked_units

    assert asked_units(question, "zh") == units


def test_a_rate_after_money_words_and_profit_are_answered(tmp_path_factory):
    # Refused before (营业收入 made it a money question), and answered with a change in 个百分点 of 毛利率和净利率.
    communique = one_report_assistant(tmp_path_factory, QIANDONGNAN)
    answer = communique.ask("2023年黔东南州规上工业企业营业收入利润率是多少？")
    assert not answer.refused and answer.figures[0].raw.endswith("0.59%"), answer.answer
    news = one_report_assistant(tmp_path_factory, "longfor-2019-netease-finance-news.html")
    answer = news.ask("龙湖2019年上半年净利润是多少？")
    assert not answer.refused and answer.figures[0].raw.endswith("63.1亿元"), answer.answer


def test_the_three_sectors_are_no_count(tmp_path_factory):
    # 三次产业 (a communique's primary, secondary and tertiary sectors) is no "three times": as a figure it made the
    # footnote on how 地区生产总值、三次产业增加值 are computed the answer, with the short answer "]地区生产总值三次".
    from aidqa.index.figures import extract_figures
    from aidqa.zh.numbers import has_count

    text = "[2]地区生产总值、三次产业增加值绝对数按现价计算。开展三次培训。"
    assert [f.raw for f in extract_figures(text, "r", lambda _: "")] == ["三次"]  # the training's, not the sectors'
    assert not has_count("三次产业增加值绝对数按现价计算") and has_count("开展三次培训")
    answer = one_report_assistant(tmp_path_factory, QIANDONGNAN).ask("黔东南州2023年生产总值增长了多少？")
    assert not answer.refused and answer.figures[0].raw.endswith("4.0%"), answer.answer


def test_a_level_of_output_is_not_answered_by_its_growth(tmp_path_factory):
    # Both reports give these measures' growth only, which was the answer (增长4.8%, 增长12.3%); the communique of
    # another prefecture gives the level, which is the answer there (it was its share, 20.9%, before).
    assert one_report_assistant(tmp_path_factory, ZHOUKOU).ask("2023年周口GDP是多少？").refused
    assert one_report_assistant(tmp_path_factory, "sichuan-2026-government-work-report.txt").ask(
        "四川高技术制造业增加值是多少？").refused
    answer = one_report_assistant(tmp_path_factory, QIANDONGNAN).ask("黔东南2023年第一产业增加值是多少？")
    assert not answer.refused and answer.figures[0].raw.endswith("277.25亿元"), answer.answer
