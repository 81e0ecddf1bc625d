"""哪一年/which year is answered by a sentence that states a year. Without the article that answers it, 基督教神学院
兴建于哪一年？ was answered with the title of another article on a 基督教 school (CMRC 2018 with the passage left
out). Checked on public CMRC 2018 trial passages (Wikipedia, CC BY-SA 4.0, read from ``../shared/data/cmrc2018/`` at
test time) with the packaged model."""

from __future__ import annotations

import pytest
from conftest import cmrc_assistant_for

from aidqa.qa.analysis import analyse, asks_when, asks_year
from aidqa.zh.numbers import STATED_YEAR_RE


def test_which_year_questions():
    assert asks_year("基督教神学院兴建于哪一年？")
    assert asks_year("富祥药业哪年创建？")
    assert asks_year("In which year did Gitee overtake GitHub?")
    # When-questions that a time other than a year answers are not which-year questions.
    assert asks_when("第1舰队是何时解散的？") and not asks_year("第1舰队是何时解散的？")


@pytest.mark.parametrize("text, states", [
    ("兴建于1889年。", True),
    ("在天正16年把家督让予嫡子。", True),  # a year of an era
    ("民国三年落成。", True),
    ("in 1889 it was built", True),
    ("高二年级的学生。", False),
    ("中华基督教会公理高中书院", False),
])
def test_a_stated_year(text, states):
    assert bool(STATED_YEAR_RE.search(text)) is states


@pytest.fixture(scope="module")
def cmrc_assistant(tmp_path_factory):
    # The article on a 基督教 school is in the corpus; the one on 基督教神学院 is not.
    return cmrc_assistant_for(tmp_path_factory, {"公理高中书院的校本课程有什么？"})


def test_no_year_no_answer(cmrc_assistant):
    answerer = cmrc_assistant._answerer
    assert not any("基督教神学院" in d.text for d in answerer.index.documents.values())
    question = "基督教神学院兴建于哪一年？"
    assert cmrc_assistant.ask(question).refused
    # The sentences read for it that state no year fail for that reason, the other article's title among them
    # (what a corpus of all 256 CMRC articles answered before the check).
    q = analyse(question, "zh", answerer.index.keywords.lexicon)
    vector = cmrc_assistant.embeddings.embed_queries([question])[0]
    ranked = answerer.ranked_candidates(q, cmrc_assistant._searcher.search(question, 10, query_vector=vector.tolist()),
                                        vector)
    title = next(c for c in ranked if c.text == "中华基督教会公理高中书院")
    assert answerer._supported(q, title) == (False, "question asks for a year but the sentence states none")
    # The same article still answers a which-year question it dates.
    answer = cmrc_assistant.ask("公理高中书院的校舍在哪一年正式启用？")
    assert not answer.refused and "1967年" in answer.answer, answer.answer
