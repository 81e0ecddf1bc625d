"""A definition question (什么是X？ / X是什么？) is answered by the sentence that defines X — the one that opens with X
and says what it is (X是/为/指…, X（…），是…), or names it for what it has described (…，称为X) — not by one that
only uses X (碱可以破坏放线菌酮). The weight of that flag is fitted by scripts/fit_answerer.py. Checked on public CMRC
2018 trial passages (Wikipedia, CC BY-SA 4.0, read from ``../shared/data/cmrc2018/`` at test time), where a
sentence using the term ranked above its definition. Uses the packaged model."""

from __future__ import annotations

import pytest
from conftest import ask_with, cmrc_assistant_for

from aidqa.qa.analysis import analyse, defined_term
from aidqa.zh.structure import states_definition

CASES = [("什么是放线菌酮？", "放线菌酮是一种具苦味的物质"), ("什么是标准杆？", "标准杆，是一个高尔夫球运动术语")]


@pytest.mark.parametrize("question, term", [
    ("什么是放线菌酮？", "放线菌酮"), ("何谓“乡里制”？", "乡里制"), ("《宇宙奇兵》是什么？", "宇宙奇兵"),
    ("MIT OpenCourseWare指什么？", "MIT OpenCourseWare"), ("西班牙语言的定义是什么？", "西班牙语言"),
    ("新质生产力到底是什么意思？", "新质生产力"),
    ("猴面包树的别名是什么？", None),  # an attribute of X, not X
    ("这是什么？", None), ("该书是什么？", None),  # a pointer, not a term
    ("全年地区生产总值是多少？", None),
])
def test_what_a_definition_question_asks_about(question, term):
    assert defined_term(question) == term


def test_the_analysis_carries_the_defined_term():
    assert analyse("营商环境是什么？", "zh").defines == "营商环境"
    assert analyse("What is GDP?", "en").defines is None  # English definitions are not read


@pytest.mark.parametrize("sentence, term, defines", [
    ("放线菌酮是一种具苦味的物质。", "放线菌酮", True),
    ("标准杆，是一个高尔夫球运动术语。", "标准杆", True),
    ("暴发户（），也称为新贵（，），指一个人在短时间内就取得了可观的财富。", "暴发户", True),
    ("在数学中，约化群是幂单根为平凡群的代数群。", "约化群", True),
    ("所谓三鹰就是单一洞低于标准杆4杆。", "三鹰", True),
    ("“一轴”为南北贯穿整个旅游区的浣江风景带。", "一轴", True),
    ("总杆数低于标准杆数一杆完成比赛，称为小鸟球（Birdie）。", "小鸟球", True),
    ("碱可以破坏放线菌酮。", "放线菌酮", False),  # uses the term
    ("标准杆数是指在单一球场预先估计的完成杆数。", "标准杆", False),  # defines a longer term
    ("总杆数等于标准杆数，称为平标准杆（Par）。", "标准杆", False),  # names another
    ("放线菌酮在分子生物学中可被用来确定蛋白质的半衰期。", "放线菌酮", False),
    ("棱柱的两个底面的距离叫做棱柱的高。", "棱柱", False),  # names the height of a 棱柱
    ("这种现象称为“温室效应”（greenhouse effect）。", "温室效应", True),
])
def test_a_sentence_that_defines_a_term(sentence, term, defines):
    assert states_definition(sentence, term) is defines


@pytest.fixture(scope="module")
def cmrc_assistant(tmp_path_factory):
    return cmrc_assistant_for(tmp_path_factory, {q for q, _ in CASES})


@pytest.mark.parametrize("question, definition", CASES)
def test_the_definition_is_quoted_first(cmrc_assistant, question, definition):
    answer = cmrc_assistant.ask(question)
    assert not answer.refused and answer.citations[0].quote.startswith(definition), answer.answer
    # Without the flag's weight the same index quotes a sentence that only uses the term first.
    without = ask_with(cmrc_assistant, question, definition_bonus=0.0)
    assert not without.citations[0].quote.startswith(definition)
