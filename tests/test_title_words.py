"""A word of one report's title names that report only when most reports using the word have it in their title
(answering.title_word_min_share, fitted by scripts/title_words.py).

On CMRC 2018 passages (each a report of its own): 语言 stands in the title 《西班牙语言》 and in the text of three
other articles, so it is ordinary vocabulary. The articles that answer 会讲哪些语言？ list the languages without the
word; before, they were ruled out as "another report's" and the questions refused. A title word that only its own
report uses (周口 in the many-reports corpus) still rules the other reports out: tests/test_many_reports.py.
"""

from __future__ import annotations

import pytest
from conftest import ask_with, cmrc_assistant_for

from aidqa.qa.scope import ReportScope

CASES = [
    ("夏尔精通哪几门语言？", "英语、法语和意大利语"),
    ("赛里木是哪一种语言的音译？", "哈萨克语"),
]
# The passages that hold 语言: one in its title (西班牙语言), three in their text only.
HOLDERS = {"西班牙语在西班牙的地位如何？", "亚太基金会的研究内容是什么？", "以Gtk#建立的应用程式可以执行在哪些平台上？",
           "香港的第一条铁路是哪条铁路？"}


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    return cmrc_assistant_for(tmp_path_factory, {q for q, _ in CASES} | HOLDERS)


def test_an_ordinary_word_in_one_title_is_not_that_reports_name(assistant):
    scope = ReportScope(assistant.ensure_ready(), title_word_min_share=assistant.settings.answering.title_word_min_share)
    share = scope.title_word_share("语言")
    assert share is not None and share <= 0.25  # 1 titled of >= 4 using it
    assert "语言" not in scope.title_words("夏尔精通哪几门语言？")
    assert scope.title_word_share("夏尔") is None  # in no title at all


@pytest.mark.parametrize(("question", "span"), CASES)
def test_a_question_with_an_ordinary_title_word_is_answered_from_the_report_without_it(assistant, question, span):
    answer = assistant.ask(question)
    assert not answer.refused and span in answer.answer, answer.answer
    # Every word of a title counted as the title's report's name (the rule before): the answer is ruled out.
    before = ask_with(assistant, question, title_word_min_share=0.0)
    assert before.refused, before.answer
