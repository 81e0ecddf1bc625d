"""哪天/on what date is answered by a sentence that states a date, and the date is stated whole (2023年3月9日, not
2023年、3月、9日). On three shared dev reports of different kinds (a standard's draft as DOCX, a news page as HTML,
a statistical communique as PDF; copied from ``../shared/dev-reports/`` at test time) with the packaged model."""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

from aidqa.index.figures import Figure, whole_dates
from aidqa.qa.analysis import analyse, asks_date, asks_when

NUCLEAR = "nuclear-psr-part1-standard-draft-2023.docx"
LONGFOR = "longfor-2019-netease-finance-news.html"
ZHOUKOU = "zhoukou-2023-statistical-communique.pdf"


def test_which_day_questions():
    for question in ("这份征求意见稿是哪天完成的？", "业绩会是哪一天？", "On what date was the draft completed?"):
        assert asks_date(question) and asks_when(question), question
    assert not asks_date("富祥药业哪年创建？") and not asks_date("一天能处理多少吨？")


def _figure(raw: str, start: int, unit: str, kind: str) -> Figure:
    return Figure(id=f"r:{start}", value=1, unit=unit, raw=raw, qualifier="none", kind=kind, measures="完成日期",
                  sentence="", sentence_start=0, section="", source="r", start=start, end=start + len(raw))


def test_a_date_is_one_figure():
    text = "本稿完成日期：2023年3月9日，2024 年 4 月 29 日发布；2022年、5月"
    at = text.index
    figures = [_figure("2023年", at("2023"), "年", "year"), _figure("3月", at("3月"), "月", "date"),
               _figure("9日", at("9日"), "日", "date"), _figure("2024 年", at("2024"), "年", "year"),
               _figure("4 月", at("4 月"), "月", "date"), _figure("29 日", at("29 日"), "日", "date"),
               _figure("2022年", at("2022"), "年", "year"), _figure("5月", at("5月"), "月", "date")]
    joined = whole_dates(figures, text)
    # A list of a year and a month (2022年、5月) is two figures.
    assert [f.raw for f in joined] == ["2023年3月9日", "2024 年 4 月 29 日", "2022年", "5月"]
    assert all(text[f.start:f.end] == f.raw for f in joined)
    assert joined[0].measures == "完成日期" and joined[0].kind == "date"


@pytest.mark.parametrize(("name", "question", "date"), [
    (NUCLEAR, "这份征求意见稿是哪天完成的？", "2023年3月9日"),
    (ZHOUKOU, "周口市2023年统计公报是哪天发布的？", "2024 年 4 月 29 日"),
])
def test_a_date_question_is_answered_with_the_whole_date(tmp_path_factory, name, question, date):
    answer = one_report_assistant(tmp_path_factory, name).ask(question)
    assert not answer.refused and answer.answer.startswith(f"{date} [1]"), answer.answer
    # Stated once and whole, as a figure or as the quote that is the date itself (a communique's dateline).
    assert [f.raw for f in answer.figures] in ([date], []) and "、" not in answer.answer.splitlines()[0]


def test_a_sentence_without_a_date_does_not_answer_which_day(tmp_path_factory):
    assistant = one_report_assistant(tmp_path_factory, LONGFOR)
    # The sentence that dates the meeting (8月26日，…) is not among those read; the best one read names it undated
    # (龙湖集团公布了2019年中期业绩报告), and was the answer before the check.
    question = "龙湖中期业绩会是哪天？"
    assert assistant.ask(question).refused
    answerer = assistant._answerer
    q = analyse(question, "zh", answerer.index.keywords.lexicon)
    vector = assistant.embeddings.embed_queries([question])[0]
    ranked = answerer.ranked_candidates(q, assistant._searcher.search(question, 10, query_vector=vector.tolist()),
                                        vector)
    undated = next(c for c in ranked if "中期业绩报告" in c.text)
    assert answerer._supported(q, undated) == (False, "question asks for a date but the sentence states none")
