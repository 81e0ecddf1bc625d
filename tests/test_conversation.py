"""Follow-up questions: detection and rewriting (pure functions), then end to end with the real model and report."""

from __future__ import annotations

import numpy as np
import pytest

from aidqa import Assistant
from aidqa.qa.conversation import _ellipsis_topic, _is_dependent, condense, stands_alone, topic_substitutions


def _no_similarity(term: str, candidates: list[str]) -> np.ndarray:
    return np.zeros(len(candidates))


@pytest.mark.parametrize(
    ("part", "names_something", "alone"),
    [
        ("天津明天的天气怎么样？", True, True),  # names its own subject: X怎么样 within one message asks about X
        ("比上年增长百分之几？", False, False),  # leaves its subject to the part before
        ("河南县呢？", True, False),  # elliptical
        ("其中泽库县多少？", True, False),  # leans back
        ("What about Zeku County?", True, False),
    ],
)
def test_a_later_part_of_a_compound_question_stands_alone_only_when_it_names_its_own_subject(part, names_something, alone):
    assert stands_alone(part, names_something) is alone


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("那泽库县呢？", "泽库县"),
        ("那教育方面呢？", "教育"),
        ("河南县呢？", "河南县"),
        ("那么医疗方面怎么样？", "医疗"),
        ("还有河南县呢?", "河南县"),
        ("合成生物那块呢？", "合成生物"),
        ("那用木兰许可证的呢？", "木兰许可证"),
        ("What about Zeku County?", "Zeku County"),
        ("and education?", "education"),
    ],
)
def test_elliptical_questions_give_their_topic(question, topic):
    assert _ellipsis_topic(question) == topic


@pytest.mark.parametrize("question", ["天津累计投入了多少资金？", "泽库县实施了什么项目？", "What did Tianjin invest?", "呢？"])
def test_complete_questions_are_not_elliptical(question):
    assert _ellipsis_topic(question) is None


@pytest.mark.parametrize("question", ["总共多少人？", "他们是筛查什么病发现的？", "还有哪些企业达成了合作意向？", "How many of them were there?"])
def test_dependent_questions(question):
    assert _is_dependent(question)


@pytest.mark.parametrize("question", ["手术做了多少例？", "天津累计投入了多少资金？", "How much did Tianjin invest in total?"])
def test_independent_questions(question):
    assert not _is_dependent(question)


def _first_substitution(*args, **kwargs) -> str:
    """The likeliest rewrite (the one a follow-up is answered with first)."""
    return topic_substitutions(*args, **kwargs)[0]


def test_substitution_prefers_a_term_with_the_same_place_suffix():
    # With no embedding signal at all, the county still replaces the county (not 天津 or 医院).
    assert _first_substitution("天津给尖扎县医院投入了多少援青资金？", "泽库县", _no_similarity) == "天津给泽库县医院投入了多少援青资金？"


def test_a_replacement_the_reports_write_comes_first():
    # Without the corpus, 货邮 replaces whichever term is most alike; with it, the one whose neighbour the reports
    # write next to 货邮 (货邮吞吐量), not 航空 (四川货邮 / 货邮旅客 are written nowhere).
    written = "旅客吞吐量突破9000万人次、居全国第3位，货邮吞吐量达到117万吨"
    assert _first_substitution("2025年四川航空旅客吞吐量是多少？", "货邮", _no_similarity,
                            corpus_holds=lambda text: text in written) == "2025年四川航空货邮吞吐量是多少？"


def test_every_substitution_is_ranked_and_the_first_is_the_rewrite():
    previous = "天津给尖扎县医院投入了多少援青资金？"
    ranked = topic_substitutions(previous, "泽库县", _no_similarity)
    assert ranked[0] == "天津给泽库县医院投入了多少援青资金？"
    assert len(ranked) == len(set(ranked)) > 3 and "泽库县给尖扎县医院投入了多少援青资金？" in ranked
    r = condense("那泽库县呢？", [(previous, "…")], _no_similarity)
    assert r.question == ranked[0] and r.alternatives == tuple(ranked[1:3])  # conversation.ellipsis_alternatives


def test_a_topic_may_stand_in_for_a_run_of_words():
    # The report writes 使用木兰许可证: the run MIT许可证 after 使用 is replaced (replacing one word would give
    # 使用MIT木兰许可证 or 使用木兰许可证许可证).
    written = "我们观测了GitHub中使用木兰许可证的活跃仓库"
    assert (_first_substitution("2023年使用MIT许可证的活跃仓库有多少？", "木兰许可证", _no_similarity,
                             corpus_holds=lambda text: text in written) == "2023年使用木兰许可证的活跃仓库有多少？")


def test_an_english_name_of_two_words_is_replaced_whole():
    def shared_words(term: str, candidates: list[str]) -> np.ndarray:
        return np.array([len(set(term.split()) & set(c.split())) for c in candidates], dtype=float)

    assert (_first_substitution("How much did Tianjin invest in Zeku County hospital?", "Henan County", shared_words)
            == "How much did Tianjin invest in Henan County hospital?")


def test_a_year_replaces_a_year_with_its_character():
    assert _first_substitution("2025年四川航空旅客吞吐量是多少？", "2022年", _no_similarity) == "2022年四川航空旅客吞吐量是多少？"


def test_substitution_refuses_when_the_topic_is_already_there():
    assert topic_substitutions("泽库县投入了多少？", "泽库县", _no_similarity) == []


def test_condense_without_history_is_the_question_itself():
    r = condense("那泽库县呢？", [], _no_similarity)
    assert (r.question, r.retrieval_query, r.kind) == ("那泽库县呢？", "那泽库县呢？", "standalone")


def test_condense_uses_only_the_users_questions_and_chains_them():
    history = [("天津给尖扎县医院投入了多少援青资金？", "投入援青资金700万元 [1]"), ("那泽库县呢？", "投入1000万元 [1]")]
    r = condense("他们一共投入了多少？", history, _no_similarity)
    assert r.kind == "dependent"
    assert r.previous == "天津给泽库县医院投入了多少援青资金？"  # the earlier follow-up was made standalone first
    assert r.retrieval_query == "他们一共投入了多少？ 天津给泽库县医院投入了多少援青资金？"
    assert "700万元" not in r.retrieval_query  # the assistant's answer is never fed back


def test_condense_leaves_a_new_complete_question_alone():
    r = condense("青洽会签约额是多少？", [("天津给尖扎县医院投入了多少援青资金？", "…")], _no_similarity)
    assert r.kind == "standalone" and r.retrieval_query == "青洽会签约额是多少？"


# ---- with the real model on the real report -------------------------------------------------------------------


def test_real_similarity_picks_the_related_term(assistant):
    assert _first_substitution("天津的医疗帮扶品牌叫什么？", "教育", assistant._term_similarity) == "天津的教育帮扶品牌叫什么？"


def test_follow_up_is_answered_from_history(assistant):
    history = [("天津给尖扎县医院投入了多少援青资金？", "投入援青资金700万元，为尖扎县医院购置……")]
    answer = assistant.ask("那泽库县呢？", history=history)
    assert not answer.refused
    assert "1000万元" in answer.answer and "700万元" not in answer.answer
    assert answer.standalone_question == "天津给泽库县医院投入了多少援青资金？"
    assert any("泽库县" in c.quote for c in answer.citations)


def test_same_follow_up_without_history_does_not_borrow_a_topic(assistant):
    answer = assistant.ask("那泽库县呢？")
    assert answer.standalone_question is None and answer.retrieval_query is None
    assert "1000万元" not in answer.answer


def test_follow_up_about_something_the_report_lacks_is_refused(assistant):
    history = [("天津给尖扎县医院投入了多少援青资金？", "投入援青资金700万元")]
    answer = assistant.ask("那同德县呢？", history=history)
    assert answer.refused and answer.citations == []


def test_malformed_history_turns_are_ignored_not_fatal(assistant):
    answer = assistant.ask("天津对口支援黄南州累计投入了多少资金？", history=[("", "x"), ("only one",), None, ("  ", "")])
    assert "18.51亿元" in answer.answer


def test_a_follow_up_states_the_figure_of_its_own_measure(tmp_path_factory):
    from conftest import one_report_assistant

    a = one_report_assistant(tmp_path_factory, "sichuan-2026-government-work-report.txt")
    first = a.ask("2025年四川航空旅客吞吐量是多少？")
    answer = a.ask("货邮呢？", history=[(first.question, first.answer)])
    assert answer.standalone_question == "2025年四川航空货邮吞吐量是多少？"
    assert [f.raw for f in answer.figures] == ["117万吨"]


def test_a_rank_is_answered_by_a_rank(tmp_path_factory):
    # 在全国排第几？ shares 排 with 治理排危4968处; only a sentence stating a rank answers it, and the previous question
    # says of what (地区生产总值: 总量和增速均居全国第5位).
    from conftest import one_report_assistant

    a = one_report_assistant(tmp_path_factory, "sichuan-2026-government-work-report.txt")
    first = a.ask("2025年四川地区生产总值是多少？")
    answer = a.ask("在全国排第几？", history=[(first.question, first.answer)])
    assert [f.raw for f in answer.figures] == ["第5位"]
    assert "排危" not in answer.answer


@pytest.mark.parametrize("question, rank", [
    ("在全国排第几？", True), ("四川GDP排名如何？", True), ("How did Sichuan rank nationally?", True),
    ("2023年OpenRank排行榜中排名第一的中国开源项目是哪个？", False),  # asks for a name
])
def test_what_asks_for_a_rank(question, rank):
    from aidqa.qa.analysis import asks_rank

    assert asks_rank(question) is rank


def test_an_elliptical_follow_up_quotes_a_sentence_that_names_its_topic(tmp_path_factory):
    from conftest import one_report_assistant

    # The paragraph holds both 锂电池…产能合计达11，700吨/年 and 合成生物方面…产能为1200吨/年: the earlier answer
    # must not come back for 合成生物 (it did, with coverage 1.0 from the paragraph).
    esg = one_report_assistant(tmp_path_factory, "fuxiang-pharma-2024-esg-report.md")
    first = "公司锂电池电解液添加剂产能有多少？"
    history = [(first, esg.ask(first).answer)]
    answer = esg.ask("合成生物那块呢？", history=history)
    assert "11，700" not in answer.answer and "11,700" not in answer.answer, answer.answer
    # 合成生物 stands in for the whole product line: the likeliest rewrite (公司合成生物电解液添加剂产能有多少？)
    # finds no sentence naming 合成生物, the next ones are tried, and the one the report answers is taken; its
    # figure is the one stated of 产能 (not 待年产20万吨微生物蛋白, whose object shares 生物 with the question).
    assert answer.standalone_question == "公司合成生物产能有多少？", answer.standalone_question
    assert answer.answer.startswith("公司目前产能为1200吨") and "合成生物方面" in answer.citations[0].quote
    only_best = Assistant(esg.settings.model_copy(update={"conversation": esg.settings.conversation.model_copy(
        update={"ellipsis_alternatives": 0})}))
    assert only_best.ask("合成生物那块呢？", history=history).refused
    # 木兰许可证 is named by 木兰开源许可证 (every word of the topic); a date (2022年9月) is no amount.
    opensource = one_report_assistant(tmp_path_factory, "china-open-source-2023-data-chapter.md")
    answer = opensource.ask("那用木兰许可证的呢？", history=[("2023年使用MIT许可证的活跃仓库有多少？", "158万个。")])
    assert not answer.refused and "已有220" in answer.citations[0].quote.replace(" ", ""), answer.answer


def test_the_next_rewrite_is_tried_when_the_likeliest_finds_nothing(tmp_path_factory):
    from conftest import one_report_assistant

    # A second report for the same rule (the first is the ESG report above): 高速公路 replaces 公路 (the likeliest
    # term), giving 高速公路通车里程, which the communique never writes; the next rewrite replaces 公路通车, and the
    # report answers it (其中：高速公路1236公里).
    communique = one_report_assistant(tmp_path_factory, "qiandongnan-2023-statistical-communique.md")
    history = [("2023年末黔东南州公路通车里程是多少公里？", "31700公里。")]
    answer = communique.ask("那高速公路呢？", history=history)
    assert answer.standalone_question == "2023年末黔东南州高速公路里程是多少公里？", answer.standalone_question
    assert answer.answer.startswith("高速公路1236公里") and "高速公路1236公里" in answer.citations[0].quote
    only_best = Assistant(communique.settings.model_copy(update={"conversation": communique.settings.conversation
                                                                 .model_copy(update={"ellipsis_alternatives": 0})}))
    refused = only_best.ask("那高速公路呢？", history=history)
    assert refused.refused and refused.standalone_question == "2023年末黔东南州高速公路通车里程是多少公里？"


def test_condense_keeps_the_topic_of_an_elliptical_follow_up():
    r = condense("那泽库县呢？", [("天津给尖扎县医院投入了多少援青资金？", "…")], _no_similarity)
    assert (r.kind, r.topic) == ("ellipsis", "泽库县")


def test_a_sentence_without_the_follow_ups_topic_does_not_set_the_bar(tmp_path_factory):
    from conftest import one_report_assistant

    # The 第一次 sentence scores far above the 第二次 one (it is the earlier answer); it cannot answer 那第二次呢？,
    # so the 第二次 sentence is measured against the best sentence that could.
    standard = one_report_assistant(tmp_path_factory, "nuclear-psr-part1-standard-draft-2023.docx")
    first = "对于原始设计寿命四十年的核电机组，第一次定期安全评价的重点是什么？"
    answer = standard.ask("那第二次呢？", history=[(first, "发现并消除机组在设计、建造过程中存在的缺陷，提高安全性。")])
    assert not answer.refused and answer.citations[0].quote.startswith("第二次定期安全评价的重点"), answer.answer
