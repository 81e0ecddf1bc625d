"""The quoted sentence comes with what it leans on: the sentence before one that opens with 因此/于是/赛后/这…
(its cause, its time, its subject), the sentences after one that announces them (以下三点：第一，…), and the rest of a
quotation a 。 or ！ inside it cut; for a question that asks no figure, the whole sentence its ；-clauses make.
Checked on public CMRC 2018 trial passages (Wikipedia, CC BY-SA 4.0, read from
``../shared/data/cmrc2018/`` at test time): the answer span runs over two sentences there and only one was quoted.
Uses the packaged model."""

from __future__ import annotations

import pytest
from conftest import cmrc_settings

from aidqa.zh.structure import announces_items, leans_back, open_quotation

# (question, the start and the end of its answer span: both must be in one quote)
CASES = [
    ("为什么称猴面包树为笨蛋水果？", "钙含量比菠菜高50", "因此它有时也被称为笨蛋水果"),  # the cause before 因此
    ("占旭刚什么时候正式结束运动生涯？", "2004年，占旭刚第三次参加奥运会", "赛后，占旭刚正式结束运动生涯"),  # the time of 赛后
    ("“乡里制”的特点是什么？", "其特点主要有以下三点", "第三，秩序制和晋升制于一体"),  # the items announced
    ("牛津英语词典对暴发户一词是怎么解释的？", "牛津英语词典解释暴发户为", "尤其缺乏必要的礼仪或成绩。”"),  # a quotation
    ("阿若憍陈如为什么被称为阿若？", "阿若是他的名字", "因此被称为阿若"),  # 他 stands for whom the one before names
    # A question that asks no figure gets the whole sentence that ；-clauses make, before and after the best one.
    ("短叶水蜈蚣主治哪些问题？", "主治感冒发热", "近用于乳糜尿"),
    ("“乡里制”的职能有哪些？", "其职能有四个方面", "四是通过「乡举里送」"),
    ("莎莉公司在2012年被拆分成哪两家公司？", "莎莉公司拆分成两家公司", "另一家名为D·E·布兰德斯大师1753"),
    # The sentences after it that lean on it (牠们…, 牠们…) complete a description.
    ("印度野驴与非洲野驴的分别是什么？", "印度野驴与非洲野驴有些分别", "其后至尾巴有一道深褐色的斑纹"),
]


def test_sentences_that_lean_on_the_one_before():
    assert leans_back("因此它有时也被称为笨蛋水果。")
    assert leans_back("赛后，占旭刚正式结束运动生涯。")
    assert leans_back("这次事件在动物学中是一次突破性的发现。")
    assert leans_back("“于是他走了。”")  # opening quotes do not hide the connective
    assert not leans_back("此外，还新建了两所学校。")  # adds a point, leans on nothing
    assert not leans_back("全年地区生产总值增长5.3%。")
    assert not leans_back("我国这一比例为30%。")  # only at the start
    assert leans_back("他在五人之中最早开悟，得证阿罗汉。")  # a pronoun for whom the sentence before names
    assert leans_back("牠们的毛多呈沙色。")
    assert leans_back("其中，城镇新增就业3.2万人。")  # of the total before
    assert not leans_back("其他地区的降水偏少。")  # 其他/其余 stand for no one


def test_sentences_that_announce_the_next():
    assert announces_items("其特点主要有以下三点：第一，职官与长者并用。")
    assert announces_items("主要任务包括：")
    assert announces_items("具体如下：")
    assert not announces_items("比例为：30%。")  # a colon inside a sentence that is complete
    assert not announces_items("全年粮食产量增长2%。")


def test_a_quotation_left_open():
    assert open_quotation("无上我：“唵！") == "”"
    assert open_quotation("他说「好。") == "」"
    assert open_quotation("“唵！”自在居住。") is None
    assert open_quotation("没有引号。") is None


@pytest.fixture(scope="module")
def cmrc_assistant(tmp_path_factory):
    from aidqa import Assistant

    a = Assistant(cmrc_settings(tmp_path_factory, {q for q, *_ in CASES}))
    a.ensure_ready()
    return a


@pytest.mark.parametrize("question, first, last", CASES)
def test_the_quote_holds_what_the_sentence_leans_on(cmrc_assistant, question, first, last):
    answer = cmrc_assistant.ask(question)
    assert not answer.refused, answer.answer
    quote = next((c for c in answer.citations if last in c.quote), None)
    assert quote is not None and first in quote.quote, answer.answer
    # Still one exact span of the stored text, inside the passage shown with it.
    text = cmrc_assistant._answerer.index.documents[quote.source].text
    assert text[quote.start:quote.end] == quote.quote
    assert quote.passage[quote.start - quote.passage_start : quote.end - quote.passage_start] == quote.quote


def test_a_sentence_dated_by_the_one_before_gets_that_date(cmrc_assistant):
    # 赛后，占旭刚正式结束运动生涯 has no date of its own: the year stated first is the one of the sentence it leans on.
    answer = cmrc_assistant.ask("占旭刚什么时候正式结束运动生涯？")
    assert [f.raw for f in answer.figures] == ["2004年"], answer.answer
    assert answer.answer.startswith("2004年 [1]")


def test_a_figure_question_keeps_its_clause(tmp_path_factory):
    # The communique's sentence runs on over ；-clauses of other figures; the one asked is quoted with its clause only.
    from conftest import one_report_assistant

    assistant = one_report_assistant(tmp_path_factory, "zhoukou-2023-statistical-communique.pdf")
    answer = assistant.ask("2023年周口全市港口货物吞吐量多少？")
    assert not answer.refused and "4081万吨" in answer.answer, answer.answer
    quote = next(c.quote for c in answer.citations if "4081万吨" in c.quote)
    assert quote.rstrip().endswith("；"), quote
