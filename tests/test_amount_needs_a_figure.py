"""A how-much question is answered by a figure (issue 12, item 5: near misses). On two shared dev reports of different
kinds (a standard's draft as DOCX, a provincial government work report as text, two
statistical communiqués as Markdown and PDF), a question whose amount the report does not
give is refused even though a neighbouring sentence shares its words, while a question whose figure is there is
still answered with it; a figure in another dimension than the one asked (money for a count) does not answer. Uses the packaged model; the reports are copied from ``../shared/dev-reports/`` at test time.
"""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

from aidqa.qa.analysis import asked_units, asks_amount
from aidqa.zh.numbers import figure_dimensions, has_count

NUCLEAR = "nuclear-psr-part1-standard-draft-2023.docx"
SICHUAN = "sichuan-2026-government-work-report.txt"
QIANDONGNAN = "qiandongnan-2023-statistical-communique.md"
ZHOUKOU = "zhoukou-2023-statistical-communique.pdf"


@pytest.fixture(scope="module", params=[NUCLEAR, SICHUAN, QIANDONGNAN, ZHOUKOU])
def report_assistant(request, tmp_path_factory):
    return request.param, one_report_assistant(tmp_path_factory, request.param)


# (report, a near miss: the amount is not in the report, answerable question, figure its answer must quote)
CASES = {
    NUCLEAR: ("PSR总体评价报告需要在评价完成后多少天内报送国家核安全局？",
              "HAD 103/11要求运行核电厂开展多少个要素的定期安全评价？", "14个"),
    # The report gives no 2026 targets; its first heading (一、2025年工作回顾…过去一年…) shares the words but no figure.
    SICHUAN: ("2026年四川地区生产总值的预期增长目标是多少？", "2025年全省城镇新增就业多少人？", "522万人"),
    # A count asked, and the nearest sentence (the definition of 规模以上) holds only an amount of money.
    QIANDONGNAN: ("黔东南州2023年规模以上工业企业一共有多少家？", "2023年黔东南州一共发生了多少起生产安全事故？", "27起"),
    # A table row whose unit is in a 单位 column still answers a question asking for 吨.
    ZHOUKOU: (None, "周口2023年规模以上工业钢材产量多少吨？", "1577693"),
}


def refused_and_answered(assistant, near_miss: str | None, answerable: str, figure: str) -> None:
    """The near miss (if any) is refused; the answerable question is answered with ``figure``, quoted."""
    if near_miss is not None:
        refused = assistant.ask(near_miss)
        assert refused.refused, refused.answer
    answered = assistant.ask(answerable)
    assert not answered.refused and figure in answered.answer, answered.answer
    assert any(figure in c.quote for c in answered.citations)


def test_an_amount_the_report_does_not_give_is_refused_and_one_it_gives_is_answered(report_assistant):
    name, assistant = report_assistant
    refused_and_answered(assistant, *CASES[name])


# (report, a near miss: the total is given but not the figure of the scope asked (规模以上 / 限额以上: enterprises or
# businesses above a size), the scope asked where the report gives it, its figure). None: no such near miss.
SCOPE_CASES = {
    NUCLEAR: None,
    # The work report gives 工业增加值年均增长6.1% (all industry, five years), not 规模以上 for 2025.
    # 2025's 城镇新增就业 is 107万人; the 522万人 of the five-year review (五年来…) is not the year's.
    SICHUAN: ("2025年四川规模以上工业增加值增长了多少？", "2025年全省城镇新增就业多少人？", "107万人"),
    # The communique gives 社会消费品零售总额 (all retail), and 限额以上 only as growth by kind of goods.
    QIANDONGNAN: ("2023年黔东南州限额以上社会消费品零售总额是多少？", "黔东南州2023年规模以上工业企业利润总额是多少？",
                  "2.13亿元"),
    ZHOUKOU: (None, "周口2023年限额以上消费品零售额是多少？", "332.58亿元"),
}


def test_a_figure_of_the_whole_does_not_answer_for_a_scope_and_the_scope_s_own_does(report_assistant):
    name, assistant = report_assistant
    if SCOPE_CASES[name] is None:
        pytest.skip(f"{name} has no scope near miss")
    refused_and_answered(assistant, *SCOPE_CASES[name])


@pytest.mark.parametrize("text", ["全港共有四所高中书院", "高英是第二位皇后", "年仅两岁", "一半以上病人", "分为两类", "增长6.1%",
                                  "2023年末常住人口390万人", "地图3张", "表中美国总人数（40.9万）"])
def test_counts_in_words_and_figures_are_amounts(text):
    assert has_count(text)


@pytest.mark.parametrize("text", ["2019-2022年地区生产总值数据为最终核实数，2023年为初步核算数。", "一、2025年工作回顾",
                                  "[3]规模以上工业统计口径", "过去一年，面对复杂严峻形势",
                                  "今天天气很好",
                                  # a table's or figure's label (an English how-much question quoted a caption)
                                  "表2 2023年农林牧渔业总产值及其增长速度", "图 1.16 使用木兰系列许可证的活跃仓库数量累加图",
                                  "如表1.2所示",
                                  # a date's month and day
                                  "从2022年9月开始，使用木兰许可证的仓库开始增长。", "该银行创立于1957年4月26日"])
def test_years_and_footnote_marks_are_not_amounts(text):
    assert not has_count(text)


@pytest.mark.parametrize("question, amount", [("“鹿鸣课堂”是哪几位嘉宾上的课？", False), ("几乎所有村都通了路吗？", False),
                                              ("共有几所学校？", True), ("投入了多少资金？", True)])
def test_which_and_almost_do_not_ask_how_many(question, amount):
    assert asks_amount(question) is amount


@pytest.mark.parametrize("text, dimensions", [
    # (The communique's 2000万元及以上工业企业 is a threshold and measures nothing: tests/test_thresholds_and_captions.py.)
    ("全年工业企业营业收入361.14亿元。", {"money"}),
    ("高速公路1236公里，全州实现2158个建制村通油路", {"length", "count"}),
    ("钢材·单位：吨；产量：1577693；比上年增长（%）：48.8。", {"weight", "count", "share"}),  # a 单位 column
    ("受污染耕地安全利用率（%）70.690左右", {"share", "count"}),  # a PDF table: the header's unit, then numbers
    ("巴黎第四区的土地面积为1.601 km²", {"area"}),
    ("2023年末常住人口390万人", {"count"}),
    ("一、2025年工作回顾", set()),
])
def test_what_the_figures_of_a_sentence_measure(text, dimensions):
    assert figure_dimensions(text) >= dimensions
    if not dimensions:
        assert figure_dimensions(text) == set()
    if dimensions == {"money"}:
        assert figure_dimensions(text) == {"money"}  # so a 多少家 (count) question is not answered by it


FUXIANG = "fuxiang-pharma-2024-esg-report.md"


@pytest.fixture(scope="module")
def fuxiang(tmp_path_factory):
    return one_report_assistant(tmp_path_factory, FUXIANG)


def test_how_many_is_answered_with_a_count_not_the_sentences_money(fuxiang):
    """The ESG report's key-figures table is one line of many figures (people, money, suppliers, a rate): "how many
    suppliers" must state the count of suppliers, not an amount of money that a bigram happens to match."""
    answer = fuxiang.ask("How many suppliers signed the sunshine cooperation agreement (or pledge) with the company?")
    assert not answer.refused and answer.figures, answer.answer
    assert {f.raw for f in answer.figures} == {"454家"}, answer.answer


@pytest.mark.parametrize("question, units", [
    # what is counted follows "how many"; investment names the team, not the unit
    ("How many data companies did the green computing investment team get in touch with?", ["家"]),
    ("How many projects were funded?", ["个"]),
    ("How many suppliers signed the agreement?", []),  # a count the table does not name: no unit
    ("How much money did Tianjin invest?", ["元"]),
    ("How many days of good air quality did the city have?", ["天"]),
    ("How many operators were trained?", []),  # a unit word starts a word: the rate inside operators is none
])
def test_an_english_how_many_asks_for_what_follows_it(question, units):
    assert asked_units(question, "en") == units


@pytest.mark.parametrize("question, amount, units", [
    # "what was the <quantity noun>" is English's 是多少
    ("What was the total value of the city's goods imports and exports in 2023?", True, []),
    ("What was Sichuan's average annual economic growth rate over the plan period?", True, ["%"]),
    ("By 2015, what share of the land area was affected by acid rain?", True, ["%"]),
    ("What is the name of the regulation issued in 2022?", False, []),
    # what is counted names the topic outside "how many": profits are money, a growth rate is a rate
    ("What were the total profits of the industrial enterprises above designated size in 2023?", True, []),
    ("What was the growth rate of value added for collectively owned enterprises?", True, ["%"]),
    ("What was the R&D investment ratio in 2024?", True, ["%"]),  # a ratio of an amount is a rate
    ("What was the main task of the plan?", False, []),
])
def test_an_english_what_is_the_quantity_asks_for_an_amount(question, amount, units):
    assert asks_amount(question) is amount
    assert asked_units(question, "en") == units
