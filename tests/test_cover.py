"""Questions about a report itself — when it was issued, its document number, who issued or delivered it — are
answered from its cover (aidqa.qa.cover), on five real reports: two communiqués, a work report, a State Council notice
and an ESG report.

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
    ("iPhone是什么时候发布的？", None),  # of a product, not of a document
    ("这份政府工作报告是谁代表省政府作的？", "issuer"),
    ("这份公报是哪个单位发布的？", "issuer"),
    ("Who issued this notice?", "issuer"),
    # an English document noun needs no "the": a user names the report as it is titled
    ("On what date was Zhoukou's 2023 statistical communiqué released?", "date"),
    ("When was the iPhone released?", None),
    ("本部分的起草人都有谁？", None),  # the drafters are not the issuer
])
def test_which_cover_fact_a_question_asks_for(question, fact):
    assert cover_question(question) == fact


def test_the_cover_line_is_found_within_the_cover_only():
    text = "某市统计公报\n\n某市统计局\n\n　2024 年 4 月 29 日　\n\n2023年，全市……于2023年5月1日开工。"
    start, end = cover_line("date", text, 200)
    assert text[start:end] == "2024 年 4 月 29 日"
    assert cover_line("date", text, 10) is None  # the date is past the cover
    assert cover_line("number", text, 200) is None
    start, end = cover_line("issuer", text, 200)
    assert text[start:end] == "某市统计局"
    # A line that is a sentence is no issuer, but a name after its last sentence is (…请认真贯彻实施。国务院).
    notice = "关于印发某规划的通知\n\n各省人民政府：现将《某规划》印发给你们，请认真贯彻实施。国务院\n\n2016年11月24日"
    start, end = cover_line("issuer", notice, 200)
    assert notice[start:end] == "国务院"
    assert cover_line("issuer", "某项目建设成效显著\n\n全年完成投资3亿元。", 200) is None


@pytest.mark.parametrize(("report", "question", "quote"), [
    ("zhoukou-2023-statistical-communique.pdf", "周口市2023年统计公报是哪天发布的？", "2024 年 4 月 29 日"),
    ("qiandongnan-2023-statistical-communique.md", ISSUED, "2024年5月7日"),
    ("sichuan-2026-government-work-report.txt", ISSUED, "2026年02月10日"),
    ("state-council-2016-eco-environment-plan.txt", "这份通知是什么时候印发的？", "2016年11月24日"),
    ("state-council-2016-eco-environment-plan.txt", "这份通知的文号是什么？", "国发〔2016〕65号"),
    ("sichuan-2026-government-work-report.txt", "这份政府工作报告是谁代表省政府作的？", "四川省人民政府省长 施小琳"),
    ("zhoukou-2023-statistical-communique.pdf", "这份公报是哪个单位发布的？", "周口市统计局"),
    ("state-council-2016-eco-environment-plan.txt", "这份通知是谁印发的？", "国务院"),  # the end of a longer line
    ("fuxiang-pharma-2024-esg-report.md", "这份报告是谁发布的？", "江西富祥药业股份有限公司"),
])
def test_the_issuing_date_and_number_come_from_the_cover(tmp_path_factory, report, question, quote):
    answer = one_report_assistant(tmp_path_factory, report).ask(question)
    assert not answer.refused and answer.citations[0].quote.startswith(quote), answer.answer
    assert len(answer.citations) == 1
    assert answer.citations[0].start < 200  # on the cover


def test_a_report_whose_cover_has_no_date_is_answered_as_usual(tmp_path_factory):
    # The ESG report's first date (2024年1月1日, the reporting period) is past its cover: not its date of issue.
    answer = one_report_assistant(tmp_path_factory, "fuxiang-pharma-2024-esg-report.md").ask(ISSUED)
    assert not any(c.quote.startswith("2024年1月1日") for c in answer.citations), answer.answer


@pytest.fixture(scope="module")
def three_reports(tmp_path_factory):
    """The State Council notice, the standard draft and the Zhoukou communique in one corpus."""
    import shutil

    from conftest import SHARED_REPORTS

    from aidqa import Assistant
    from aidqa.settings import Settings

    names = ["state-council-2016-eco-environment-plan.txt", "nuclear-psr-part1-standard-draft-2023.docx",
             "zhoukou-2023-statistical-communique.pdf"]
    if not all((SHARED_REPORTS / n).is_file() for n in names):
        pytest.skip("shared dev reports not found")
    corpus = tmp_path_factory.mktemp("three") / "corpus"
    corpus.mkdir()
    for n in names:
        shutil.copy(SHARED_REPORTS / n, corpus / n)
    a = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("three-index")))
    a.ensure_ready()
    return a


def test_among_reports_the_cover_of_the_kind_asked_answers(three_reports):
    # 这份通知 is the notice, whichever report's passage ranks first; the communique's and the draft's covers have
    # no 文号.
    answer = three_reports.ask("这份通知的文号是什么？")
    assert not answer.refused and answer.citations[0].quote.startswith("国发〔2016〕65号"), answer.answer
    assert answer.citations[0].source.startswith("state-council")


def test_another_reports_date_is_not_this_ones(three_reports):
    # The draft standard's cover leaves its dates blank (20XX-XX-XX); the notice's date is not the standard's.
    answer = three_reports.ask("这份标准正式发布和实施的日期分别是哪天？")
    assert not any(c.source.startswith("state-council") for c in answer.citations), answer.answer
