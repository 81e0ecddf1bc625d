"""A yes/no question on which way a figure moved (…增加了吗？, Did … grow?) is answered 是/否 (Yes/No) first, with the
change as the report states it and its marker, then the quote (issue 12, item 6: the short answer first). On two
shared statistical communiques (PDF and Markdown, copied from ``../shared/dev-reports/`` at test time) with the
packaged model."""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

from aidqa.models import CitedFigure
from aidqa.qa.analysis import analyse, asks_direction
from aidqa.qa.answerers.extractive import direction_lead, stated_direction

ZHOUKOU = "zhoukou-2023-statistical-communique.pdf"
QIANDONGNAN = "qiandongnan-2023-statistical-communique.md"


@pytest.mark.parametrize(("question", "direction"), [
    ("2023年周口民用轿车保有量增加了吗？", "up"),
    ("第一产业投资是否下降？", "down"),
    ("Did Zhoukou's grain output grow in 2023?", "up"),
    ("Has the population fallen?", "down"),
    ("民用轿车保有量增加了多少？", None),  # asks how much, not whether
    ("产量是增长还是下降了？", None),  # both ways named: no yes/no to give
    ("公司给员工上过廉洁方面的课吗？", None),  # yes/no, but not about a change
    ("离子从左至右逐渐增加会发生什么？", None),  # 什么 is no 么 (CMRC 2018 trial)
    ("产量增加了么？", "up"),
])
def test_which_way_a_yes_no_question_asks(question, direction):
    assert asks_direction(question) == direction


def test_a_direction_question_asks_for_a_figure_in_any_unit():
    q = analyse("2023年周口民用轿车保有量增加了吗？", "zh")
    assert q.direction == "up" and q.amount and q.unit is None and q.units == ()


def _figure(text: str, raw: str, citation_id: int = 1, after: int = 0) -> CitedFigure:
    start = text.index(raw, after)
    return CitedFigure(raw=raw, value=0, unit="%", qualifier="none", measures="", citation_id=citation_id,
                       start=start, end=start + len(raw))


def test_a_stated_change_and_its_direction():
    text = "总产量902.61万吨，减产3.2%。比上年增长（%）：-3.3。增长4.0%"
    assert stated_direction(text, _figure(text, "902.61万吨")) is None  # a level, not a change
    assert stated_direction(text, _figure(text, "3.2%")) == ("down", text.index("减产"))
    assert stated_direction(text, _figure(text, "（%）：-3.3"))[0] == "down"  # a negative growth
    assert stated_direction(text, _figure(text, "4.0%"))[0] == "up"


def test_the_lead_takes_the_change_after_the_answering_figure():
    text = "播种面积2066.70万亩，增长0.5%，总产量902.61万吨，减产3.2%。"
    level = _figure(text, "902.61万吨")
    stated = [_figure(text, "2066.70万亩"), _figure(text, "0.5%"), level, _figure(text, "3.2%")]
    assert direction_lead("up", [level], stated, text, "zh") == "否，减产3.2% [1]"
    assert direction_lead("down", [level], stated, text, "en") == "Yes: 减产3.2% [1]"
    assert direction_lead("up", [level], [level], text, "zh") is None  # no change stated: no yes/no


@pytest.mark.parametrize(("name", "question", "lead", "quoted"), [
    (ZHOUKOU, "2023年周口民用轿车保有量增加了吗？", "否，下降3.9% [1]", "民用轿车保有量59.29万辆，下降3.9%"),
    # A table row's negative growth is a fall.
    (ZHOUKOU, "2023年周口谷物产量下降了吗？", "是，增长（%）：-3.3 [1]", "谷物·产量（万吨）：874.82；比上年增长（%）：-3.3"),
    (ZHOUKOU, "Did Zhoukou's grain output grow in 2023?", "No: ", "比上年增长（%）：-3.3"),
    (QIANDONGNAN, "黔东南2023年第一产业投资下降了吗？", "是，下降22.8% [1]", "第一产业投资下降22.8%"),
])
def test_a_yes_no_change_question_is_answered_yes_or_no_first(tmp_path_factory, name, question, lead, quoted):
    answer = one_report_assistant(tmp_path_factory, name).ask(question)
    assert not answer.refused and answer.answer.startswith(lead), answer.answer
    assert any(quoted in c.quote for c in answer.citations), answer.answer
