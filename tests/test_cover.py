"""Questions about a report itself — when it was issued, its document number — are answered from its cover
(aidqa.qa.cover), on four real reports: two communiqués, a work report and a State Council notice.

The shared dev reports are copied into a temporary corpus at test time (their licences do not all allow copying them
into the repository). Uses the packaged model.
"""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

from aidqa.qa.cover import cover_line, cover_question

ISSUED = "这份报告是哪天发布的？"


@pytest.mark.parametrize(("question", "fact"), [
    ("周口市2023年统计公报是哪天发布的？", "date"),
    ("这份通知是什么时候印发的？", "date"),
    ("When was this report published?", "date"),
    ("这份通知的文号是什么？", "number"),
    ("2023年粮食总产量是多少？", None),
    ("成都世运会是什么时候举办的？", None),  # a when-question, but not about the report's issue
    ("公司什么时候发布了首份ESG报告？", "date"),  # …it is: the cover may say (or the ranker answers)
])
def test_which_cover_fact_a_question_asks_for(question, fact):
    assert cover_question(question) == fact


def test_the_cover_line_is_found_within_the_cover_only():
    text = "某市统计公报\n\n某市统计局\n\n　2024 年 4 月 29 日　\n\n2023年，全市……于2023年5月1日开工。"
    start, end = cover_line("date", text, 200)
    assert text[start:end] == "2024 年 4 月 29 日"
    assert cover_line("date", text, 10) is None  # the date is past the cover
    assert cover_line("number", text, 200) is None


@pytest.mark.parametrize(("report", "question", "quote"), [
    ("zhoukou-2023-statistical-communique.pdf", "周口市2023年统计公报是哪天发布的？", "2024 年 4 月 29 日"),
    ("qiandongnan-2023-statistical-communique.md", ISSUED, "2024年5月7日"),
    ("sichuan-2026-government-work-report.txt", ISSUED, "2026年02月10日"),
    ("state-council-2016-eco-environment-plan.txt", "这份通知是什么时候印发的？", "2016年11月24日"),
    ("state-council-2016-eco-environment-plan.txt", "这份通知的文号是什么？", "国发〔2016〕65号"),
])
def test_the_issuing_date_and_number_come_from_the_cover(tmp_path_factory, report, question, quote):
    answer = one_report_assistant(tmp_path_factory, report).ask(question)
    assert not answer.refused and answer.citations[0].quote.startswith(quote), answer.answer
    assert answer.citations[0].start < 200  # on the cover


def test_a_report_whose_cover_has_no_date_is_answered_as_usual(tmp_path_factory):
    # The ESG report's first date (2024年1月1日, the reporting period) is past its cover: not its date of issue.
    answer = one_report_assistant(tmp_path_factory, "fuxiang-pharma-2024-esg-report.md").ask(ISSUED)
    assert not any(c.quote.startswith("2024年1月1日") for c in answer.citations), answer.answer
