"""A name the question quotes (“…” or 《…》) is asked for exactly: when no report writes it, the question is refused
before any sentence is scored. Without the rule a neighbouring passage answered (CMRC 2018 with the passage removed:
《鳄鱼泪》's theme song, 中国足球“五大恶人”). On the shared Sichuan government work report (plain text), copied from
``../shared/dev-reports/`` at test time, with the packaged model."""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

SICHUAN = "sichuan-2026-government-work-report.txt"


@pytest.fixture(scope="module")
def sichuan(tmp_path_factory):
    return one_report_assistant(tmp_path_factory, SICHUAN)


def test_a_quoted_name_the_report_writes_is_answered(sichuan):
    answer = sichuan.ask("四川打造“天府粮仓”新建了多少高标准农田？")
    assert not answer.refused and "348.8万亩" in answer.answer, answer.answer


def test_a_quoted_name_no_report_writes_is_refused(sichuan):
    # The same question with a made-up programme name: the report's 天府粮仓 sentence must not answer for it.
    assert sichuan.ask("四川打造“天府菜园”新建了多少高标准农田？").refused
    assert sichuan.ask("《天府菜园建设方案》提出新建多少高标准农田？").refused


def test_quoted_english_in_an_english_question_is_left_to_the_other_checks(sichuan):
    # The report writes “新三样”, never "new three": an English quotation is no exact name to look for.
    answer = sichuan.ask('What are the "new three" products referred to in the report?')
    assert not answer.refused and "新三样" in answer.answer, answer.answer


def test_a_report_named_loosely_in_book_marks_is_no_unwritten_name(sichuan):
    # The report's title is 2026年四川省人民政府工作报告; a reader drops 2026年 and 人民. A document's name is left to the
    # other checks (the title's words), not refused as a quoted name no report writes.
    from aidqa.qa.analysis import analyse

    question = "《四川省政府工作报告》里，2025年地区生产总值是多少？"
    assert sichuan._answerer.settled(analyse(question, "zh"), []) is None
    settled = sichuan._answerer.settled(analyse("《天府菜园建设方案》提出新建多少高标准农田？", "zh"), [])
    assert settled is not None and settled.refused and "天府菜园建设方案" in settled.reason
