"""Whose figure: a measure qualified otherwise in the sentence than in the question is another population's or
branch's figure. 全体居民人均可支配收入 asked of a communique that gives only 城镇常住居民 and 农村常住居民 was answered
with the rural figure (14239元), while 农村居民 asked was refused (jieba tags it as a person's name, which the
communique's 农村常住居民 does not write); a communique that writes 全市居民 for all residents still answers it, and a sentence
that qualifies nothing or only by a period (上半年, 归属于股东的净利润) is not another's figure. On the two shared
statistical communiques (Markdown and PDF) and the news page, copied from ``../shared/dev-reports/`` at test time,
with the packaged model."""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

from aidqa.qa.analysis import measure_modifiers, word_parts

QIANDONGNAN = "qiandongnan-2023-statistical-communique.md"
ZHOUKOU = "zhoukou-2023-statistical-communique.pdf"
LONGFOR = "longfor-2019-netease-finance-news.html"
INCOME = ("支配", "收入")


@pytest.mark.parametrize(("text", "measure", "modifiers"), [
    ("全州农村常住居民人均可支配收入14239元，比上年增长8.3%。", INCOME, ("农村", "常住", "居民")),
    ("全年全市居民人均可支配收入23102元", INCOME, ("居民",)),  # the whole place and the year qualify nothing
    ("某公司上半年净利润是多少？", ("净利润",), ("公司",)),  # a period is for the year and date checks
    ("人均可支配收入是多少？", INCOME, ()),
    ("居民收入稳步增长", INCOME, None),  # the measure is not written in a row
])
def test_what_qualifies_a_measure(text, measure, modifiers):
    assert measure_modifiers(text, measure) == modifiers


def test_a_name_of_two_ordinary_words_has_parts():
    assert word_parts("农村居民") == ("农村", "居民")
    assert word_parts("黔东南") == ("黔东南",) and word_parts("周口市") == ("周口市",)


def test_another_population_s_figure_does_not_answer(tmp_path_factory):
    answer = one_report_assistant(tmp_path_factory, QIANDONGNAN).ask("2023年黔东南州全体居民人均可支配收入是多少元？")
    assert answer.refused, answer.answer


@pytest.mark.parametrize(("name", "question", "figure"), [
    (ZHOUKOU, "2023年周口全体居民人均可支配收入是多少？", "23102元"),  # written 全市居民
    (ZHOUKOU, "周口城镇居民人均可支配收入是多少？", "33084元"),
    (QIANDONGNAN, "2023年黔东南州城镇常住居民人均可支配收入是多少元？", "40867元"),
    # jieba tags 农村居民 as a person's name; the communique writes 农村常住居民 (it was refused as a name not held)
    (QIANDONGNAN, "2023年黔东南州农村居民人均可支配收入是多少元？", "14239元"),
    (LONGFOR, "龙湖2019年上半年净利润是多少？", "63.1亿元"),  # 归属于股东的 qualifies, 上半年 is a period
])
def test_the_asked_population_s_figure_answers(tmp_path_factory, name, question, figure):
    answer = one_report_assistant(tmp_path_factory, name).ask(question)
    assert not answer.refused and answer.figures and answer.figures[0].raw.endswith(figure), answer.answer
