"""English questions on shared reports the code was not developed on (read from ``../shared/`` at test time; their
English question sets are tests/data/reports_en): a question whose words the reports never use is refused, and a
question that asks for the report's own unit in English ("in units of 10,000 tonnes") is answered in it."""

from __future__ import annotations

import pytest
from conftest import one_report_assistant

from aidqa.zh.lexicon import reads_as_pinyin

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


def test_an_english_question_on_a_company_the_page_never_names_is_refused(news):
    # Vanke is 万科 in the dictionary only as "Vanke, large Chinese real estate company, …": read as no name, the
    # question was answered with Longfor's own contracted sales.
    result = news.ask("What were Vanke's contracted sales in the first half of 2019?")
    assert result.refused and result.citations == []


def test_an_untranslated_word_does_not_match_inside_another_word(communique):
    # rice → 米, a word this report never writes, used to be found inside 玉米 (corn), and the corn output was quoted.
    result = communique.ask("How do I cook rice?")
    assert result.refused and result.citations == []


def test_translated_run():
    from aidqa.qa.analysis import translated_run

    spellings = frozenset("地区 地方 一般 公共 预算 收入 四川".split())
    assert translated_run("地方一般公共预算收入", spellings) == 10
    assert translated_run("扎实推进", spellings) == 0
    assert translated_run("人均一般公共预算收入增速", spellings) == 8  # 人均 and 增速 are not asked


def test_an_english_how_much_question_takes_the_figure_whose_measure_it_names(tmp_path_factory):
    # The question's Chinese words spell the figure's measure (地方一般公共预算收入 ↔ local general public budget
    # revenue). Before, a longer sentence sharing the same words (…人均一般公共预算收入增速均高于…, no such figure)
    # ranked first and was the whole answer.
    work_report = one_report_assistant(tmp_path_factory, "sichuan-2026-government-work-report.txt")
    result = work_report.ask("How much local general public budget revenue did Sichuan collect in 2025?")
    assert not result.refused and result.figures and result.figures[0].raw.endswith("5853.9亿元"), result.answer
    assert result.citations[0].quote.startswith("地方一般公共预算收入5853.9亿元"), result.answer


def test_an_open_english_compound_is_also_looked_up_closed(communique):
    from aidqa.zh.lexicon import QueryLexicon

    # The dictionary has 出生率 under "birthrate" and 生育率 (fertility) under "birth rate".
    assert "出生率" in QueryLexicon({"出生率"}).translate("birth rate")
    result = communique.ask("What was Zhoukou's birth rate in 2023?")
    assert not result.refused and result.figures[0].raw.endswith("8.47‰"), result.answer


@pytest.mark.parametrize(("word", "reads"), [
    ("Chongqing", True), ("Henan", True), ("Seng", True), ("Longfor", False), ("April", False), ("Annex", False)])
def test_a_romanised_chinese_name_reads_as_pinyin(word, reads):
    assert reads_as_pinyin(word) is reads


@pytest.mark.parametrize(("name", "asked", "named", "figure"), [
    # Chongqing and Huangnan are in neither report (no word whose pinyin they are); Sichuan and Zhoukou are.
    ("sichuan-2026-government-work-report.txt", "What was {}'s GDP in 2025?", ("Chongqing", "Sichuan"), "67665亿元"),
    (COMMUNIQUE, "How much grain did {} produce in 2023?", ("Huangnan", "Zhoukou"), "902.61万吨"),
])
def test_a_romanised_name_no_report_writes_is_a_name_a_passage_must_hold(tmp_path_factory, name, asked, named, figure):
    # What was Chongqing's GDP in 2025? was answered with Sichuan's 67665亿元, and Huangnan's grain with a table of
    # Zhoukou's: the unknown name was dropped.
    assistant = one_report_assistant(tmp_path_factory, name)
    elsewhere, here = (assistant.ask(asked.format(n)) for n in named)
    assert elsewhere.refused and not elsewhere.citations, elsewhere.answer
    assert not here.refused and figure in here.answer, here.answer


def test_hyphen_joined_regions_meet_the_reports_short_form(tmp_path_factory):
    # The plan writes 京津冀 only; the question's Beijing, Tianjin and Hebei were three names no sentence held, so
    # it was refused.
    plan = one_report_assistant(tmp_path_factory, "state-council-2016-eco-environment-plan.txt")
    result = plan.ask("By when must the Beijing-Tianjin-Hebei region delineate its ecological protection red lines?")
    assert not result.refused and "2017年" in result.answer, result.answer
    assert "京津冀" in result.citations[0].quote
