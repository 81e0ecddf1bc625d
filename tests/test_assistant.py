"""The Python API, input validation and the typed result."""

from __future__ import annotations

import json

import pytest

from aidqa import Answer
from aidqa.models import Citation
from aidqa.qa.assistant import InvalidQuestion


def test_python_api_returns_typed_cited_answer(assistant):
    a = assistant.ask("天津对口支援黄南州累计投入了多少资金？")
    assert isinstance(a, Answer) and not a.refused
    assert "18.51亿元" in a.answer and "[1]" in a.answer
    c = a.citations[0]
    assert isinstance(c, Citation) and "18.51亿元" in c.quote
    assert c.source == "tianjin-huangnan-report.txt"
    assert set(a.timings_ms) == {"retrieval", "answer", "total"}
    data = json.loads(a.model_dump_json())
    assert set(data) >= {"question", "answer", "refused", "citations", "timings_ms"}
    assert set(data["citations"][0]) >= {"id", "source", "section", "quote", "start", "end", "score"}


def test_english_question_answered_with_chinese_quote(assistant):
    a = assistant.ask("How many projects has Tianjin implemented in Huangnan?")
    assert a.language == "en" and not a.refused
    assert "567个" in a.answer and a.citations


def test_refusal_in_the_questions_language(assistant):
    assert assistant.ask("天津明天的天气怎么样？").answer == "报告中没有找到这个问题的答案。"
    en = assistant.ask("What is the total population of Huangnan?")
    assert en.refused and en.answer == "The reports do not contain an answer to this question."


def test_compound_question_answers_each_part(assistant):
    a = assistant.ask("青洽会黄南州专场签约额是多少？累计召开了几场招商推介会？")
    assert "52亿元" in a.answer and "6场" in a.answer


def test_a_compound_question_says_which_part_the_reports_do_not_answer(assistant):
    # A bare refusal line among answers read as if the whole question had gone unanswered.
    lines = assistant.ask("黄南州的平均海拔是多少米？青洽会黄南州专场签约额是多少？").answer.split("\n")
    assert lines[0] == "第一问：报告中没有找到这一问的答案。"
    assert lines[1].startswith("第二问：") and "52亿元" in lines[1]
    assert "报告中没有找到这个问题的答案。" not in lines  # not the whole question's refusal


def test_a_later_part_that_names_its_own_subject_borrows_no_terms_from_the_part_before(assistant):
    # It used to be answered with the 签约 sentence: the first part's terms counted towards its coverage.
    lines = assistant.ask("青洽会黄南州专场签约额是多少？天津明天的天气怎么样？").answer.split("\n")
    assert lines[0].startswith("第一问：") and "52亿元" in lines[0]
    assert lines[-1] == "第二问：报告中没有找到这一问的答案。"


@pytest.mark.parametrize("bad", ["", "   ", "\u200b\u200b", "\x00"])
def test_empty_questions_get_a_clear_error(assistant, bad):
    with pytest.raises(InvalidQuestion, match="empty"):
        assistant.ask(bad)


def test_overlong_question_is_rejected_not_truncated(assistant):
    with pytest.raises(InvalidQuestion, match="limit is 500"):
        assistant.ask("天" * 501)


@pytest.mark.parametrize("odd", ["天津投入了多少资金？😀", "\u202e天津投入了多少资金？", "天津\ud800投入了多少资金？", "Tianjin 投入了 how much 资金？"])
def test_odd_unicode_does_not_crash(assistant, odd):
    a = assistant.ask(odd)
    assert isinstance(a.answer, str) and a.answer
    a.model_dump_json()  # serialisable (no lone surrogates left)


def test_retriever_is_a_langchain_retriever(assistant):
    from langchain_core.retrievers import BaseRetriever

    r = assistant.retriever(k=3)
    assert isinstance(r, BaseRetriever)
    docs = r.invoke("举办了多少场招聘活动？")
    assert len(docs) == 3 and any("招聘活动18场" in d.page_content for d in docs)
    assert {"source", "section", "start", "end", "score"} <= set(docs[0].metadata)


# ---- harder answer shapes ---------------------------------------------------------------------------------------


def test_two_questions_joined_by_yiji_are_answered_from_two_sentences(assistant):
    a = assistant.ask("在天津成行的那个旅游首发团叫什么名字，以及黄南全州旅游综合收入达到了多少")
    assert not a.refused
    assert "探密神韵黄南" in a.answer and "近18.38亿元" in a.answer
    assert len(a.citations) >= 2 and len({c.start for c in a.citations}) == len(a.citations)


def test_a_list_running_over_a_semicolon_chain_is_given_whole_each_item_cited(assistant):
    a = assistant.ask("在公共基础设施方面，天津在黄南各市县推进了哪些民生工程和项目？")
    items = ["瓜什则乡污水处理厂", "尖扎县乡村基础设施", "泽库县县域连通工程", "河南县便民服务中心"]
    assert not a.refused and all(i in a.answer for i in items)
    for item in items:  # every item sits in a quote of its own citation
        assert any(item in c.quote for c in a.citations)
    starts = [c.start for c in a.citations]
    assert starts == sorted(starts)  # quoted in report order


def test_a_figure_about_another_place_in_the_same_paragraph_is_refused(assistant):
    # 同仁市 is in the paragraph, but 近2.5万人 belongs to 泽库县's project.
    assert assistant.ask("同仁市的县域连通工程让多少人直接受益？").refused
    assert "近2.5万人" in assistant.ask("泽库县县域连通工程让多少人直接受益？").answer


def test_a_lower_ranked_sentence_naming_the_asked_place_answers(assistant):
    # The best-scoring sentence is 尖扎县's 700万元; the answer is the sentence that names 泽库县.
    a = assistant.ask("天津给泽库县医院投入了多少援青资金？")
    assert "1000万元" in a.answer and "700万元" not in a.answer


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        ("签约额是多少？召开了几场推介会？", ["签约额是多少？", "召开了几场推介会？"]),
        ("首发团叫什么名字，以及旅游综合收入达到了多少", ["首发团叫什么名字", "旅游综合收入达到了多少"]),
        ("教育以及医疗方面投入了多少？", ["教育以及医疗方面投入了多少？"]),  # one question about two things
        ("天津和黄南，以及海东市，一共投入多少？", ["天津和黄南，以及海东市，一共投入多少？"]),  # first half asks nothing
        ("What was the GDP in 2023, and how much did it grow?", ["What was the GDP in 2023", "how much did it grow?"]),
        ("How much solar and other energy did it buy?", ["How much solar and other energy did it buy?"]),  # nouns
        ("Revenue and how it grew?", ["Revenue and how it grew?"]),  # first half asks nothing
    ],
)
def test_split_question(question, parts):
    from aidqa.qa.analysis import split_question

    assert split_question(question) == parts


@pytest.mark.unit
def test_a_compound_answer_renumbers_citation_markers_but_not_a_reports_own_bracketed_numbers():
    from aidqa.qa.assistant import _renumber_markers

    # A communique's footnote mark ([2]地区生产总值…) is part of the quote; renumbering it crashed (KeyError) or
    # would have changed the report's words.
    quote = "[2]地区生产总值、三次产业增加值绝对数按现价计算。"
    text = f"生产总值1329.65亿元 [1]\n{quote} [1]"
    assert _renumber_markers(text, {1: 3}, [quote]) == f"生产总值1329.65亿元 [3]\n{quote} [3]"
    assert _renumber_markers("见 [7]", {1: 2}, []) == "见 [7]"  # not a citation's marker: left as written


def test_a_later_part_that_gives_only_a_year_still_leans_on_the_part_before():
    from aidqa.qa.analysis import analyse
    from aidqa.qa.assistant import _names_a_thing

    assert not _names_a_thing(analyse("2022年是多少？", "zh"))
    assert _names_a_thing(analyse("天津明天的天气怎么样？", "zh"))
