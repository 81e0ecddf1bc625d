"""English questions on shared reports the code was not developed on (read from ``../shared/`` at test time; their
English question sets are tests/data/reports_en): a question whose words the reports never use is refused, and a
question that asks for the report's own unit in English ("in units of 10,000 tonnes") is answered in it."""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

NEWS = "longfor-2019-netease-finance-news.html"
COMMUNIQUE = "zhoukou-2023-statistical-communique.pdf"


@pytest.fixture(scope="module")
def news(tmp_path_factory):
    return one_report_assistant(tmp_path_factory, NEWS)


@pytest.fixture(scope="module")
def communique(tmp_path_factory):
    return one_report_assistant(tmp_path_factory, COMMUNIQUE)


@pytest.mark.parametrize("question", ["What's the weather like today?", "How do I apply for a passport?"])
def test_an_english_question_the_report_has_no_words_for_is_refused(news, question):
    # Both were answered before: their only word with a translation the page uses was "like" (类) or none at all.
    result = news.ask(question)
    assert result.refused and result.citations == []


def test_an_english_question_in_the_reports_unit_is_answered(communique):
    result = communique.ask("What was Zhoukou's corn output in 2023, in units of 10,000 tonnes?")
    assert not result.refused
    assert any(f.raw.endswith("365.54") for f in result.figures)
    assert any("玉米" in c.quote and "365.54" in c.quote for c in result.citations)


def test_an_english_question_on_the_news_page_is_still_answered(news):
    result = news.ask("What was Longfor's contracted sales amount in the first half of 2019?")
    assert not result.refused and "1056.2亿元" in result.answer


def test_an_english_question_on_a_place_the_page_never_names_is_refused(news):
    # Answered before with a sentence on 资金 (capital): France, which the dictionary knows as 法国 and the page never
    # writes, was dropped as an unknown capitalised word instead of counting as a name the passage must hold.
    result = news.ask("What is the capital of France?")
    assert result.refused and result.citations == []


def test_an_untranslated_word_does_not_match_inside_another_word(communique):
    # rice → 米, a word this report never writes, used to be found inside 玉米 (corn), and the corn output was quoted.
    result = communique.ask("How do I cook rice?")
    assert result.refused and result.citations == []
