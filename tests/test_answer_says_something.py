"""A sentence or heading is quoted as an answer only when it says something the question does not
(``answering.min_new_chars``): a title or heading that repeats what is asked is no answer. Measured on CMRC 2018
(Wikipedia: an article's title line was quoted for 松平康忠什么时候被任命为知行？) and on a shared report the code was
not developed on (a DOCX standard whose table headings repeat the question)."""

from __future__ import annotations

import pytest
from conftest import SHARED_REPORTS, one_report_settings

from aidqa.qa.answerers.extractive import new_chars
from aidqa.qa.assistant import Assistant
from aidqa.settings import AnsweringSettings, Settings

STANDARD = "nuclear-psr-part1-standard-draft-2023.docx"
# tests/data/reports/nuclear-psr-part1-standard-draft-2023.jsonl, nuclearpsr-008: the answer is a table row the
# retrieval does not reach; the heading 其他核电厂经验及研究成果的应用（SF9） repeats the question.
QUESTION = "按附录A，SF9（其他核电厂经验及研究成果的应用）接受哪些要素的输入？"


def test_new_chars_counts_what_the_sentence_adds():
    question = "松平康忠什么时候被任命为知行？"
    assert new_chars(question, "松平康忠") == 0
    assert new_chars(question, "松 平 康 忠。") == 0  # spacing and punctuation add nothing
    assert new_chars(question, "永禄5年，松平康忠被任命为知行。") == 4  # 永, 禄, 5, 年
    assert new_chars("投入了多少万元？", "投入1000万元") == 4  # figures are what a how-much question lacks
    assert new_chars("ＳＦ９是什么？", "sf9") == 0  # compared folded: width and case


@pytest.fixture(scope="module")
def standard_settings(tmp_path_factory) -> Settings:
    return one_report_settings(tmp_path_factory, STANDARD)


@pytest.mark.skipif(not (SHARED_REPORTS / STANDARD).is_file(), reason=f"shared dev report {STANDARD} not found")
def test_a_heading_that_repeats_the_question_is_not_quoted_as_its_answer(standard_settings):
    answer = Assistant(standard_settings).ask(QUESTION)
    assert all(new_chars(QUESTION, c.quote) >= 2 for c in answer.citations), answer.answer
    # Without the rule the same index quotes the heading alone: what changed the answer is the rule.
    without = standard_settings.model_copy(update={"answering": AnsweringSettings(min_new_chars=0)})
    quoted = Assistant(without).ask(QUESTION)
    assert not quoted.refused and any(new_chars(QUESTION, c.quote) < 2 for c in quoted.citations), quoted.answer


@pytest.mark.skipif(not (SHARED_REPORTS / STANDARD).is_file(), reason=f"shared dev report {STANDARD} not found")
@pytest.mark.parametrize(("question", "slot"), [
    ("本部分的起草人都有谁？", "XX"),  # 本部分起草人：XX
    ("本标准与哪项国际标准一致，一致性程度如何？", "点击此处"),  # 点击此处添加与国际标准一致性程度的标识
])
def test_a_templates_unfilled_slot_is_no_answer(standard_settings, question, slot):
    # The draft standard keeps its template's placeholders; quoting one answers nothing (before: 本部分起草人：XX).
    answer = Assistant(standard_settings).ask(question)
    assert not any(slot in c.quote for c in answer.citations), answer.answer
