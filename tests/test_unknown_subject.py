"""A question about something no report names is refused before any sentence is scored (topic neighbours would
otherwise answer it: another fish's 俗名, another plant's 别名; CMRC 2018's removed set, docs/evaluation.md).

What a question is about is the noun it opens with (aidqa.qa.analysis.question_subject); the corpus names it when some
report holds its first two characters (aidqa.qa.scope.ReportScope.names_anything_like) — loose on purpose, so that
a word jieba glues to the next or a near synonym still passes. A definition question that opens on its cue
(什么是X？) names X exactly: X must be in some report as written (aidqa.qa.analysis.named_by_definition).
"""

from __future__ import annotations

import pytest
from conftest import cmrc_assistant_for

from aidqa.qa.analysis import analyse, named_by_definition, question_subject

BLUE = "蓝线裸顶鲷的俗名是什么？"  # TRIAL_210, a fish article
YELLOW = "黄鳍紫鱼主要以什么为食？"  # TRIAL_188, another fish article with a 俗名 of its own (散午)


@pytest.mark.parametrize(("question", "subject"), [
    (BLUE, "蓝线"),  # jieba's first word of the fish's name
    ("周口市2023年粮食总产量是多少？", "周口市"),
    ("2023年周口市粮食总产量是多少？", ""),  # a year first: no subject word
    ("大家捐的钱和物资加起来值多少？", ""),  # filler
    ("全州粮食产量是多少？", ""),  # every place, no particular one
    ("这份报告主要讲了什么？", ""),  # a pronoun
    # A name jieba cuts after its first character (狭/叶/艾纳香, 明/圣王/后) or a bound character alone (蓍)
    ("狭叶艾纳香分布在哪些地区？", "狭叶艾纳香"),
    ("明圣王后是谁的母亲？", "明圣王"),
    ("蓍分布在哪些地区？", "蓍"),
    # ... but a one-character preposition or pronoun before an ordinary noun is no name
    ("照报告的估法，美国的开发者有多少？", ""),
    ("此鱼分布在哪些地区？", ""),
])
def test_the_subject_is_the_noun_a_question_opens_with(question, subject):
    assert question_subject(question) == subject


def test_a_question_about_what_no_report_names_is_refused(tmp_path_factory):
    # The corpus holds the yellow-finned fish's article (with its 俗名散午), not the blue-lined one's.
    assistant = cmrc_assistant_for(tmp_path_factory, {YELLOW})
    answer = assistant.ask(BLUE)
    assert answer.refused and not answer.citations, answer.answer
    assert "散午" not in answer.answer


def test_the_same_question_is_answered_when_its_report_is_there(tmp_path_factory):
    assistant = cmrc_assistant_for(tmp_path_factory, {YELLOW, BLUE})
    answer = assistant.ask(BLUE)
    assert not answer.refused and "龙尖" in answer.answer, answer.answer
    # A near synonym or a glued word still passes: 符泳练水 is one word to jieba; only its first two characters
    # must be in the corpus, and 黄鳍紫鱼's 黄鳍 is.
    assert not assistant.ask("黄鳍鱼的俗名是什么？").refused


def test_a_name_cut_after_its_first_character_is_still_the_subject(tmp_path_factory):
    # The corpus holds two other 艾纳香 plants' articles (长柄艾纳香, 六耳铃), not 狭叶艾纳香's: their 分布 sentence
    # answered before. 狭叶 is in no report.
    assistant = cmrc_assistant_for(tmp_path_factory, {"长柄艾纳香分布在哪些地区？", "六耳铃分布在哪些地区？"})
    answer = assistant.ask("狭叶艾纳香分布在哪些地区？")
    assert answer.refused and not answer.citations, answer.answer
    assert not assistant.ask("长柄艾纳香分布在哪些地区？").refused


@pytest.mark.parametrize(("question", "terms"), [
    ("什么是五月艾？", ("五月艾",)),
    ("什么是“速成”和“仓颉”？", ("速成", "仓颉")),  # two terms, each named as written
    ("何谓标准杆？", ("标准杆",)),
    ("胜利广场周围地区现在是什么？", ()),  # X是什么 may end a longer phrase: no definition asked
    ("蓝线裸顶鲷的俗名是什么？", ()),
])
def test_the_terms_a_definition_question_names(question, terms):
    assert named_by_definition(question) == terms


def test_a_definition_of_what_no_report_names_is_refused(tmp_path_factory):
    # 五月艾's article is left out; 玉山箭竹's, whose shoots come up in 四、五月, is in (it answered before).
    assistant = cmrc_assistant_for(tmp_path_factory, {"玉山箭竹的外形是怎样的？"})
    answerer = assistant._answerer
    settled = answerer.settled(analyse("什么是五月艾？", "zh"), [])
    assert settled is not None and settled.refused and "五月艾" in settled.reason
    assert assistant.ask("什么是五月艾？").refused
    # A term the corpus has is left to the answerer.
    assert answerer.settled(analyse("什么是玉山箭竹？", "zh"), []) is None
    assert not assistant.ask("什么是玉山箭竹？").refused
