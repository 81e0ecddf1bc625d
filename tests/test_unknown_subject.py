"""A question about something no report names is refused before any sentence is scored (topic neighbours would
otherwise answer it: another fish's 俗名, another plant's 别名; CMRC 2018's removed set, docs/evaluation.md).

What a question is about is the noun it opens with (aidqa.qa.analysis.question_subject); the corpus names it when some
report holds its first two characters (aidqa.qa.scope.ReportScope.names_anything_like) — loose on purpose, so that
a word jieba glues to the next or a near synonym still passes.
"""

from __future__ import annotations

import pytest
from conftest import cmrc_assistant_for

from aidqa.qa.analysis import question_subject

BLUE = "蓝线裸顶鲷的俗名是什么？"  # TRIAL_210, a fish article
YELLOW = "黄鳍紫鱼主要以什么为食？"  # TRIAL_188, another fish article with a 俗名 of its own (散午)


@pytest.mark.parametrize(("question", "subject"), [
    (BLUE, "蓝线"),  # jieba's first word of the fish's name
    ("周口市2023年粮食总产量是多少？", "周口市"),
    ("2023年周口市粮食总产量是多少？", ""),  # a year first: no subject word
    ("大家捐的钱和物资加起来值多少？", ""),  # filler
    ("全州粮食产量是多少？", ""),  # every place, no particular one
    ("这份报告主要讲了什么？", ""),  # a pronoun
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
