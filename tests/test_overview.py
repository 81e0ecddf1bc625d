"""Overview questions (这篇报告主要讲了什么？ / 报告中有哪些主要数据？ / What is this report about?) are answered with the
report's parts and their lead sentences, quoted and cited (``aidqa.qa.overview``), on reports of several kinds: a
State Council plan in plain text (第X章/第X节), a statistical communique in Markdown (一、… with tables), a
news article in HTML and the seed report. A question that names a topic is not an overview."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import REPORT, SHARED_REPORTS, one_report_assistant

from aidqa.qa.analysis import asks_overview, overview_residue
from aidqa.qa.examples import GENERIC_EXAMPLES
from aidqa.zh.structure import looks_like_heading

PLAN = "state-council-2016-eco-environment-plan.txt"
COMMUNIQUE = "qiandongnan-2023-statistical-communique.md"
NEWS = "longfor-2019-netease-finance-news.html"
WORK_REPORT = "sichuan-2026-government-work-report.txt"


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    return one_report_assistant(tmp_path_factory, PLAN)


@pytest.fixture(scope="module")
def communique(tmp_path_factory):
    return one_report_assistant(tmp_path_factory, COMMUNIQUE)


def quotes_are_exact(assistant, answer) -> None:
    index = assistant.ensure_ready()
    for c in answer.citations:
        assert index.documents[c.source].text[c.start:c.end] == c.quote
        assert c.quote in c.passage
        assert f"{c.quote} [{c.id}]" in answer.answer


@pytest.mark.parametrize("question, kind", [
    ("这篇报告主要讲了什么？", "outline"), ("报告的主要内容是什么？", "outline"), ("请总结一下这份报告", "outline"),
    ("报告分为哪几个部分？", "outline"), ("What is this report about?", "outline"), ("Summarize the report.", "outline"),
    ("报告中有哪些主要数据？", "figures"), ("What are the main figures in the reports?", "figures"),
    ("天津累计投入了多少资金？", None), ("全年粮食产量是多少万吨？", None),
])
def test_what_counts_as_an_overview_question(question, kind):
    assert asks_overview(question) == kind


def test_what_an_overview_question_names_besides_the_overview_is_kept():
    assert overview_residue("这篇报告主要讲了什么？") == ()
    assert overview_residue("教育方面的主要内容是什么？") == ("教育",)
    assert overview_residue("《2023年某市统计公报》讲了什么") == ("年某市统计",)  # checked against the reports' titles


def test_a_plans_chapters_and_sections_are_its_parts(plan):
    answer = plan.ask("这篇报告主要讲了什么？")
    assert not answer.refused
    assert answer.answer.startswith("《国务院关于印发“十三五”生态环境保护规划的通知》的主要内容")
    assert len(answer.citations) >= 8
    for heading in ("第一章 全国生态环境保护形势", "第一节 指导思想", "第三章 强化源头防控，夯实绿色发展基础"):
        assert heading in answer.answer
    starts = [c.start for c in answer.citations]
    assert starts == sorted(starts), "the parts are listed in the report's order"
    assert answer.retrieved == [], "an overview is read from the report's structure, not retrieved"
    quotes_are_exact(plan, answer)


def test_a_communiques_parts_are_its_numbered_sections_not_its_tables(communique):
    answer = communique.ask("报告的主要内容是什么？")
    assert not answer.refused
    sections = [c.section for c in answer.citations]
    assert "一、综合" in sections and "二、农业" in sections
    assert not any(re.match(r"表\d", s) for s in sections), sections
    quotes_are_exact(communique, answer)


def test_the_main_figures_are_each_parts_first_sentence_with_an_amount(communique):
    answer = communique.ask("报告中有哪些主要数据？")
    assert not answer.refused and len(answer.citations) >= 5
    index = communique.ensure_ready()
    amounts = {(f.start, f.end) for f in index.figures if f.kind == "amount"}
    for c in answer.citations:
        assert c.highlights, f"no figure highlighted in {c.quote}"
        assert set(c.highlights) <= amounts
        assert all(c.start <= s < e <= c.end for s, e in c.highlights)
    quotes_are_exact(communique, answer)


def test_an_english_overview_question_gets_an_english_lead(plan):
    answer = plan.ask("What is this report about?")
    assert not answer.refused and answer.language == "en"
    assert answer.answer.startswith("The parts of 《")
    quotes_are_exact(plan, answer)


@pytest.mark.parametrize("question", ["大气污染防治方面的主要内容是什么？", "《鳄鱼泪》主要内容是什么？"])
def test_a_question_on_a_topic_or_another_work_is_not_an_overview(plan, question):
    assert "各部分的首句" not in plan.ask(question).answer


def test_an_overview_question_may_name_the_report_by_its_title(plan):
    title = plan.reports()[0].title
    answer = plan.ask(f"《{title}》讲了什么？")
    assert not answer.refused and "各部分的首句" in answer.answer


def test_an_overview_asked_after_another_question_is_about_the_whole_report(assistant):
    first = assistant.ask("天津对口支援黄南州累计投入了多少资金？")
    answer = assistant.ask("这篇报告主要讲了什么？", history=[(first.question, first.answer)])
    assert not answer.refused
    assert answer.answer != first.answer and answer.standalone_question is None
    assert len({c.section for c in answer.citations}) == len(answer.citations) >= 5, "one lead per part"
    quotes_are_exact(assistant, answer)


@pytest.mark.parametrize("question", GENERIC_EXAMPLES)
def test_the_generic_examples_are_answered(assistant, question):
    answer = assistant.ask(question)
    assert not answer.refused, answer.answer
    quotes_are_exact(assistant, answer)


@pytest.fixture(scope="module")
def two_reports(tmp_path_factory):
    from aidqa import Assistant
    from aidqa.settings import Settings

    if not (SHARED_REPORTS / NEWS).is_file():
        pytest.skip(f"shared dev report {NEWS} not found")
    corpus = tmp_path_factory.mktemp("two") / "corpus"
    corpus.mkdir()
    shutil.copy(SHARED_REPORTS / NEWS, corpus / NEWS)
    shutil.copy(REPORT, corpus / REPORT.name)
    a = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("two-index")))
    a.ensure_ready()
    return a


def test_an_overview_of_several_reports_quotes_each_reports_lead(two_reports):
    answer = two_reports.ask("报告的主要内容是什么？")
    assert not answer.refused
    assert sorted(c.source for c in answer.citations) == sorted(r.id for r in two_reports.reports())
    for c in answer.citations:
        assert f"《{c.title}》：{c.quote} [{c.id}]" in answer.answer
    quotes_are_exact(two_reports, answer)


def test_an_overview_question_that_names_a_report_outlines_that_report(two_reports):
    answer = two_reports.ask("龙湖的报告讲了什么？")
    assert not answer.refused
    assert {c.source for c in answer.citations} == {NEWS}
    assert len(answer.citations) >= 2
    quotes_are_exact(two_reports, answer)


# ---- plain-text headings ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("line, heading", [
    ("一、2025年工作回顾和“十四五”发展主要成绩", True),
    ("第三章 强化源头防控，夯实绿色发展基础", True),
    ("第二章 指导思想、基本原则与主要目标", True),
    ("（一）加强监管，推进改革", False),
    ("一、加强监管。", False),
    ("一是着力扩内需稳增长，推动经济持续向新向优量质齐升。", False),
])
def test_a_numbered_line_with_a_titles_punctuation_is_a_heading(line, heading):
    assert looks_like_heading(line) is heading


def test_a_work_reports_numbered_heading_is_not_glued_to_its_first_paragraph(tmp_path_factory):
    a = one_report_assistant(tmp_path_factory, WORK_REPORT)
    index = a.ensure_ready()
    assert "一、2025年工作回顾和“十四五”发展主要成绩" in {c.section for c in index.chunks}
    assert not any("发展主要成绩过去一年" in c.text for c in index.chunks)


def test_the_first_example_is_an_overview_of_the_first_report(plan, two_reports):
    example = plan.examples()[0]
    assert example.question == "这份报告主要讲了什么？"
    assert "各部分的首句" in plan.ask(example.question).answer
    first = two_reports.examples()[0]
    assert first.question == f"《{two_reports.ensure_ready().documents[first.report].title}》主要讲了什么？"
    assert {c.source for c in two_reports.ask(first.question).citations} == {first.report}
