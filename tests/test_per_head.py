"""A figure stated per head (人均生产总值) is another statistic than the total of the same name: a question that does
not ask per head is answered with the total when both score close, on two shared statistical communiques (PDF and
Markdown, copied from ``../shared/dev-reports/`` at test time) with the packaged model. Before, both answered 地区生产
总值增长了多少？ with the per-head growth (5.9% for 4.8%; 3.7% for 4.0%). Likewise a part of a total (其中，接待国内
游客…) goes after the total unless the question names what the part adds (周口2023年接待游客多少人次？ was answered
with the domestic visits)."""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

from aidqa.qa.analysis import analyse
from aidqa.qa.answerers.extractive import asks_per_head

ZHOUKOU = "zhoukou-2023-statistical-communique.pdf"
QIANDONGNAN = "qiandongnan-2023-statistical-communique.md"


def test_a_question_asks_per_head_when_it_says_so():
    assert asks_per_head(analyse("2023年人均生产总值是多少？", "zh"))
    assert asks_per_head(analyse("What was GDP per capita in 2023?", "en"))
    assert not asks_per_head(analyse("2023年地区生产总值增长了多少？", "zh"))


@pytest.mark.parametrize(("name", "question", "first", "not_first"), [
    (ZHOUKOU, "周口2023年地区生产总值增长了多少？", "4.8%", "5.9%"),
    (QIANDONGNAN, "2023年黔东南州生产总值比上年增长了多少？", "4.0%", "3.7%"),
    # Asked per head, the per-head figure answers.
    (QIANDONGNAN, "2023年黔东南州人均生产总值是多少？", "35511元", "1329.65亿元"),
    # A statistic given per head only still answers without the word (可支配收入).
    (QIANDONGNAN, "2023年黔东南州农村常住居民可支配收入是多少？", "14239元", "40867元"),
])
def test_the_total_answers_unless_per_head_is_asked(tmp_path_factory, name, question, first, not_first):
    _states_first(one_report_assistant(tmp_path_factory, name).ask(question), first, not_first)


@pytest.mark.parametrize(("name", "question", "first", "not_first"), [
    # A total and the 其中 list that breaks it down: the part answers only when the question names what it adds.
    (ZHOUKOU, "周口2023年接待游客多少人次？", "3605.61万人次", "3605.12万人次"),
    (ZHOUKOU, "周口接待国内游客多少人次？", "3605.12万人次", "3605.61万人次"),
    (QIANDONGNAN, "黔东南建筑业企业有多少个？", "200个", "8个"),
    (QIANDONGNAN, "黔东南特级和一级资质建筑业企业有多少个？", "8个", "200个"),
])
def test_a_total_answers_before_its_parts_unless_a_part_is_asked(tmp_path_factory, name, question, first, not_first):
    _states_first(one_report_assistant(tmp_path_factory, name).ask(question), first, not_first)


def _states_first(answer, first: str, not_first: str) -> None:
    """The short answer states ``first`` as its first figure, and ``not_first`` nowhere on its line."""
    assert not answer.refused and answer.figures, answer.answer
    assert answer.figures[0].raw.endswith(first) and not_first not in answer.answer.splitlines()[0], answer.answer
