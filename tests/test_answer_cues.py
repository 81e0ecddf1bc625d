"""A question that asks for a cause, another name, a place, how a thing looks or a time prefers the sentence that
holds a phrase of that kind (因为…, 又名…, 位于…, 呈鳞状/淡红色/3毫米, a date): ``aidqa.qa.analysis.cue_kind`` / ``ANSWER_CUES``, weighted by
``answering.cue_bonus`` (fitted by scripts/fit_answerer.py). Checked on public CMRC 2018 trial passages (Wikipedia,
CC BY-SA 4.0, read from ``../shared/data/cmrc2018/`` at test time). Uses the packaged model."""

from __future__ import annotations

import pytest
from conftest import cmrc_assistant_for, quoted_only_with_the_weight

from aidqa.qa.analysis import ANSWER_CUES, analyse, cue_kind

CASES = [("盾柱木的别名是什么？", "别称双翼豆"), ("黑龙江省博物馆在哪？", "位于黑龙江省哈尔滨市红军街50号"),
         ("假苹婆的花是什么样的？", "花为圆锥花序腋生")]


@pytest.mark.parametrize("question, kind", [
    ("为什么称猴面包树为笨蛋水果？", "why"), ("这张专辑销量惨淡的原因是什么？", "why"),
    ("盾柱木的别名是什么？", "name"), ("凉茶舖又叫什么？", "name"), ("该公司的英文名是什么？", "name"),
    ("黄鳍紫鱼主要分布在哪些地区？", "where"), ("东盟校区位于什么地方？", "where"), ("Where is the plant?", "where"),
    ("第1舰队是何时解散的？", "when"), ("基督教神学院兴建于哪一年？", "when"),
    ("假苹婆的花是什么样的？", "looks"), ("斯氏腔吻鳕的外形是怎样的？", "looks"),
    ("大果西番莲的根部有什么作用？", None), ("谁发起了这项计划？", None),
])
def test_what_kind_of_phrase_answers(question, kind):
    assert cue_kind(question) == kind


def test_an_amount_question_has_no_cue():
    # 在哪个县投资了多少 asks for a figure: the figure checks decide, not a place phrase.
    assert analyse("在哪个县投资了多少钱？", "zh").cue is None
    assert analyse("在哪个县投资建厂？", "zh").cue == "where"


@pytest.mark.parametrize("kind, sentence, holds", [
    ("why", "由于当时对香港「四大天王」的狂热风潮，此张专辑卖得只能以「惨澹」来形容。", True),
    ("why", "这张专辑主要包括了节奏轻快的流行音乐歌曲。", False),
    ("name", "凉茶舖，又名凉茶店，是售卖凉茶的商店。", True),
    ("name", "盾柱木（学名：），别称双翼豆。", True),
    ("name", "凉茶舖售卖的凉茶饮料不可含有西药成分。", False),
    ("where", "黑龙江省博物馆是中国省级综合性博物馆，位于黑龙江省哈尔滨市红军街50号。", True),
    ("where", "2005年末，黑龙江省委决定新建黑龙江省博物馆新馆。", False),
    ("looks", "成熟的树的叶则呈鳞状，1至3毫米长。", True),
    ("looks", "花淡红色，无花冠。", True),
    ("looks", "假苹婆常长于山谷溪旁。", False),
    ("looks", "这一制度逐渐形成。", False),  # 形成 is no shape
])
def test_the_phrases_that_answer(kind, sentence, holds):
    assert (ANSWER_CUES[kind].search(sentence) is not None) is holds


@pytest.fixture(scope="module")
def cmrc_assistant(tmp_path_factory):
    return cmrc_assistant_for(tmp_path_factory, {q for q, _ in CASES})


@pytest.mark.parametrize("question, span", CASES)
def test_the_sentence_with_the_phrase_asked_for_is_quoted(cmrc_assistant, question, span):
    # The characters of what is asked (answering.weight_chars: 别名 ↔ 别称) now rank this in too: both are taken out.
    quoted_only_with_the_weight(cmrc_assistant, question, span, cue_bonus=0.0, weight_chars=0.0)
