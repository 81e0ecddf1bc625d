"""A how-many question counts the noun after its question word (多少个安全要素): a sentence whose every count is of
something else (由15个部分组成) is a neighbour, not the answer. Checked on a shared standard draft the code was not
developed on; on CMRC 2018 the same check turned a wrong count (光塔至今仍有30座 for 古监狱保存了几座塔楼) into a
refusal (docs/evaluation.md)."""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

from aidqa.qa.analysis import counted_nouns

STANDARD = "nuclear-psr-part1-standard-draft-2023.docx"


@pytest.mark.parametrize(("question", "counted"), [
    ("核电厂定期安全评价的范围一般包括多少个安全要素？", ("安全", "要素")),
    ("这家医院有多少张床位？", ("床位",)),
    ("安全要素有多少个？", ()),  # nothing follows the question word: the measure is before it
    ("2023年GDP是多少亿元？", ()),  # a unit follows, not a noun
])
def test_what_a_how_many_question_counts(question, counted):
    assert counted_nouns(question) == counted


def test_a_sentence_counting_something_else_does_not_answer(tmp_path_factory):
    standard = one_report_assistant(tmp_path_factory, STANDARD)
    result = standard.ask("核电厂定期安全评价的范围一般包括多少个安全要素？")
    assert not result.refused and result.figures, result.answer
    # Before: 15个 from 《核电厂定期安全评价》由15个部分组成 (the series has 15 parts), the top-ranked sentence.
    assert result.figures[0].raw.endswith(("14项", "14个")), result.answer
    assert "14" in result.citations[0].quote and "安全要素" in result.citations[0].quote
