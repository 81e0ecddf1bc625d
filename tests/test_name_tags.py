"""What a question names. jieba's dictionary tags thousands of ordinary words as places, people or organisations
(长度/ns, 叶柄/nr, 帝王/nr): CC-CEDICT, which capitalises the pinyin of names only, tells them apart, and such a word
is no anchor that the cited passage must hold. A name jieba cuts at the wrong place (锦地罗不需要 → 锦地罗不) is looked
up as the corpus spells it, and a clause number (5.1.5条) is one name. Checked on public CMRC 2018 trial passages (Wikipedia, CC BY-SA 4.0, read from
``../shared/data/cmrc2018/`` at test time) with the packaged model."""

from __future__ import annotations

import pytest
from conftest import cmrc_assistant_for

from aidqa.qa.analysis import anchors
from aidqa.zh.lexicon import ordinary_words


def test_the_dictionary_knows_ordinary_words_from_names():
    words = ordinary_words()
    assert {"长度", "叶柄", "帝王", "嘉宾", "上岗"} <= words
    # Names, and words that are also a name (武功 is a county as well as martial art), are not ordinary.
    assert not {"台湾", "非洲", "武功", "周口", "曹操"} & words


@pytest.mark.parametrize("question, expected", [
    ("非洲的猴面包树果实的长度约是多少厘米？", [("非洲", "非洲")]),  # 长度 is tagged a place
    ("大果西番莲的叶柄有什么特点？", []),  # 叶柄 a person
    ("元皇后是哪位帝王的皇后？", []),
    ("香港在DVD分区属于第几区？", [("DVD",), ("香港", "香港")]),  # 第几 + 区 asks for a district, names none
    ("成都市的嘉宾有多少？", [("成都市", "成都")]),
    # a person stays a name, and an event jieba tags nz is one
    ("亚特兰大奥运会，占旭刚以什么成绩获得了世界冠军？", [("亚特兰大奥运会", "亚特兰大奥运会"), ("占旭刚", "占旭刚")]),
    ("5.1.5条举例的核电机组，原始设计寿命是多少年？", [("5.1.5",)]),  # a clause number, not 5.1 and 5
    # A proper noun jieba tags only nz (a company, a brand) is a name too, unless the dictionary has it as an
    # ordinary word (三文鱼/nz): the news page's near miss asks of 万科 what only 龙湖's figures say.
    ("2019年上半年万科的合约销售金额是多少？", [("2019",), ("万科", "万科")]),
    ("三文鱼的产地在哪里？", []),
])
def test_anchors_are_names(question, expected):
    assert anchors(question, "zh") == expected


CASES = [
    # (question, what the answer quotes): an ordinary word tagged as a name had to be in the passage, or made the
    # article's every sentence look like it said it (its cover does).
    ("大果西番莲的叶柄有什么特点？", "其叶柄（petiole）有四到六个腺体"),
    ("元皇后是哪位帝王的皇后？", "北齐孝昭帝高演"),
    ("香港在DVD分区属于第几区？", "第三区"),
    # A name cut at the wrong place: the corpus has 锦地罗 and 魏舒, not 锦地罗不 and 魏舒史.
    ("哪个品种的锦地罗不需要冬眠？", "这个品种不需要经过冬眠"),
    ("魏舒史称什么？", "史称魏献子"),
]


@pytest.fixture(scope="module")
def cmrc_assistant(tmp_path_factory):
    return cmrc_assistant_for(tmp_path_factory, {q for q, _ in CASES} | {"成公英是谁的将领？"})


@pytest.mark.parametrize("question, quoted", CASES)
def test_answered_from_the_passage(cmrc_assistant, question, quoted):
    answer = cmrc_assistant.ask(question)
    assert not answer.refused, answer.answer
    assert quoted in answer.answer, answer.answer


def test_a_respelling_comes_from_the_question_and_the_corpus(cmrc_assistant):
    scope = cmrc_assistant._answerer.scope
    assert scope.respelled("哪个品种的锦地罗不需要冬眠？", ("锦地罗不", "锦地罗不")) == ("锦地罗不", "锦地罗不", "锦地罗")
    # A name the corpus holds as asked is left alone, and so are numbers.
    assert scope.respelled("成公英是谁的将领？", ("成公英", "成公英")) == ("成公英", "成公英")
    assert scope.respelled("2023年有多少？", ("2023",)) == ("2023",)


def test_a_clause_number_names_the_clause(tmp_path_factory):
    from conftest import one_report_assistant

    # The standard draft's clause 5.1.5 gives its example in its second sentence; the clause number is the
    # paragraph's, not the figure's (四十年 stands beside 原始设计寿命, not beside 5.1.5).
    standard = one_report_assistant(tmp_path_factory, "nuclear-psr-part1-standard-draft-2023.docx")
    answer = standard.ask("5.1.5条举例的核电机组，原始设计寿命是多少年？")
    assert not answer.refused and "四十年" in answer.citations[0].quote, answer.answer
