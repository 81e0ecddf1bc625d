"""Terse figure questions as staff type them: an acronym for the statistic (GDP, written out in the report as 生产总值)
and the place and year left to the report's title (the sentence says 全年全州…). Checked on two shared statistical
communiques (PDF and Markdown, copied from ``../shared/dev-reports/`` at test time) with the packaged model; the
set they come from is tests/data/reports_terse (7 of 14 answered at the session's start, 10 of 14 after).

* An English acronym in a Chinese question is looked up in CC-CEDICT and stands for the corpus's words for it.
* A name or year the report is about holds for every sentence of it, for deciding whether to answer too, when the
  question asks for a measure the sentence must say itself (so the title cannot answer for a missing statistic).
* What a question counts may follow its question word (有多少张床位): then that is the measure.
* A year said relative to today (去年) is no key term: the report writes its year as a number, 全年 or 过去一年.
"""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

from aidqa.qa.analysis import asked_measure
from aidqa.zh.terms import query_term_groups, written_out

ZHOUKOU = "zhoukou-2023-statistical-communique.pdf"
SICHUAN = "sichuan-2026-government-work-report.txt"
QIANDONGNAN = "qiandongnan-2023-statistical-communique.md"


def test_an_acronym_stands_for_the_words_the_corpus_writes(tmp_path_factory):
    lexicon = one_report_assistant(tmp_path_factory, QIANDONGNAN).ensure_ready().keywords.lexicon
    assert lexicon.acronym_words("GDP") == ("生产总值",)  # 国内生产总值, the dictionary's other word, is not written
    assert lexicon.acronym_words("Gdp") == () and lexicon.acronym_words("AI") == ()  # not an acronym; no such word
    assert written_out("2023年黔东南州GDP是多少？", lexicon) == "2023年黔东南州生产总值是多少？"
    assert written_out("What was GDP in 2023?", lexicon) == "What was GDP in 2023?"


def test_a_relative_year_is_no_key_term():
    assert [g[0] for g in query_term_groups("四川去年GDP是多少？")] == ["四川", "生产总值"]  # no corpus: the dictionary


@pytest.mark.parametrize(("question", "measure"), [
    ("黄南州人民医院有多少张床位？", ("床位",)),  # the hospital holds the beds; the beds are counted
    ("全州学校有多少个乡镇？", ("乡镇",)),  # 乡镇 is also a unit, but here what is counted
    ("周口市有多少个乡镇？", ()),  # no holder but a place name: the anchor asks for it
    ("有多少农民沾了光？", ()),  # no holder: a clause, left to term coverage (a paraphrase may say 农村人口)
    ("该公司有多少名员工？", ("员工",)),
    ("粮食总产量是多少万吨？", ("粮食", "总产量")),  # a unit after the question word: the words before measure
    ("比上年增长了多少个百分点？", ()),
    ("娜塔莎有几首歌进入了英国单曲榜前十？", ()),  # 首歌 is one word to jieba: nothing is read rather than 首歌
])
def test_what_a_question_counts(question, measure):
    assert asked_measure(question) == measure


@pytest.mark.parametrize(("name", "question", "figure"), [
    (QIANDONGNAN, "2023年黔东南州GDP是多少？", "1329.65亿元"),
    (ZHOUKOU, "周口市2023年GDP增长多少？", "4.8%"),
    (SICHUAN, "四川去年GDP是多少？", "67665亿元"),  # the work report says 过去一年, never 去年
    # a concentration is a unit, and PM10 beside it holds no figure 10年 (the short answer was 年平均浓度 of PM10)
    (ZHOUKOU, "2023年周口PM2.5年平均浓度是多少？", "47微克/立方米"),
])
def test_a_terse_question_is_answered_from_the_report_its_title_names(tmp_path_factory, name, question, figure):
    answer = one_report_assistant(tmp_path_factory, name).ask(question)
    assert not answer.refused and answer.figures and answer.figures[0].raw.endswith(figure), answer.answer


@pytest.mark.parametrize(("name", "question"), [
    # The title's place and year hold, but no sentence says the statistic.
    (QIANDONGNAN, "2023年黔东南州PM2.5平均浓度是多少？"),
    (ZHOUKOU, "2023年周口市R&D经费支出是多少？"),
])
def test_the_title_does_not_answer_for_a_statistic_the_report_lacks(tmp_path_factory, name, question):
    answer = one_report_assistant(tmp_path_factory, name).ask(question)
    assert answer.refused, answer.answer
