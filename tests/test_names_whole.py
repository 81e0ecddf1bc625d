"""A name the question gives whole counts once: jieba's search cut also lists its parts (黔东南州 → 东南, 黔东南), and
a sentence that leaves the name to its report's title (全年全州生产总值…) lost it three times over and was refused.
Checked on a shared statistical communique (Markdown, copied from ``../shared/dev-reports/`` at test time) and on
CMRC 2018 (Wikipedia, read from ``../shared/data/cmrc2018/``), where the same triple count let a neighbouring
article's 纽西兰 sentence answer for a tree the corpus does not hold. Also: a multiple (增长32.2倍) is not a count,
and a footnote mark stays out of the short answer."""

from __future__ import annotations

import pytest
from conftest import cmrc_assistant_for, one_report_assistant

from aidqa.index.figures import short_phrase
from aidqa.qa.analysis import analyse
from aidqa.zh.numbers import figure_dimensions

QIANDONGNAN = "qiandongnan-2023-statistical-communique.md"


@pytest.mark.parametrize(("question", "name", "parts"), [
    ("2023年黔东南州生产总值是多少？", "黔东南州", ("黔东南", "东南")),
    ("纽西兰鸡毛松有多高？", "纽西兰", ("西兰",)),
])
def test_a_named_place_is_one_term(question, name, parts):
    heads = [g[0] for g in analyse(question, "zh").terms]
    assert name in heads and not set(parts) & set(heads), heads
    # Words that are not parts of a name keep their parts: 生产总值 is matched by 生产 and 总值 as well.
    assert {"生产", "总值"} <= set(heads) or "生产总值" not in question


def test_a_figure_in_the_report_named_by_its_title_answers(tmp_path_factory):
    answer = one_report_assistant(tmp_path_factory, QIANDONGNAN).ask("2023年黔东南州生产总值是多少？")
    assert not answer.refused and answer.figures and answer.figures[0].raw == "1329.65亿元", answer.answer
    first = answer.answer.splitlines()[0]
    assert "[2]" not in first and first.endswith("1329.65亿元 [1]"), first


def test_a_count_is_not_answered_by_a_multiple(tmp_path_factory):
    assert figure_dimensions("利润总额2.13亿元，比上年增长32.2倍。") == {"money", "share"}
    answer = one_report_assistant(tmp_path_factory, QIANDONGNAN).ask("黔东南州2023年规模以上工业企业一共有多少家？")
    assert answer.refused or "32.2倍" not in answer.answer, answer.answer


def test_a_footnote_mark_is_not_part_of_what_a_figure_measures():
    assert short_phrase("根据市（州）生产总值统一核算结果，全年全州生产总值[2]") == "全年全州生产总值"


def test_a_neighbouring_article_does_not_answer_for_a_tree_it_does_not_name(tmp_path_factory):
    # The corpus holds the article on 吉斯伯恩大区 (a region of 纽西兰, with an earthquake sentence), not the tree's.
    assistant = cmrc_assistant_for(tmp_path_factory, {"吉斯伯恩大区的首府在哪里？"})
    answer = assistant.ask("纽西兰鸡毛松有多高？")
    assert answer.refused and not answer.citations, answer.answer
