"""What a report is about does not pick the answering sentence (issue 12, item 4: the report's own context as a
feature). A question names its subject (纽西兰鸡毛松有多高？); the subject stands in the report's cover and first
sentence, and not in the sentence that answers. Ranking credits a term the report is about in every sentence of it,
so the first sentence no longer wins for spelling it out. The cover's other words are content like any sentence's. Checked on public CMRC 2018 trial passages (Wikipedia, CC
BY-SA 4.0, read from ``../shared/data/cmrc2018/`` at test time), each indexed as a report of its own, as
scripts/eval_cmrc.py does. Uses the packaged model.
"""

from __future__ import annotations

import pytest
from conftest import cmrc_assistant_for, quoted_only_with_the_weight

# (question, the answer span it must quote) — questions of the trial set whose passage opens with their subject.
CASES = [("纽西兰鸡毛松有多高？", "55米"), ("公理高中书院现任校长是谁？", "阮爱馨"), ("松平康忠什么时候被任命为知行？", "永禄5年"),
         ("中国（南京）国际象棋超级大赛的级别有多高？", "21级"),
         # The cover is the title and the first 200 characters: in a short article that is half its content, and
         # only the names there (the question's anchors) hold for every sentence, not its other words (根部, 分布).
         ("大果西番莲的根部有什么作用？", "催吐剂与麻醉药品"), ("挪威海螯虾主要分布在哪些地区？", "主要分布于东大西洋海域")]
# Questions whose answer only the focus feature (the share of the terms the report is not about) ranks first: the
# subject's name makes every sentence that spells it out close to the question in embedding.
FOCUS_CASES = [("斯氏腔吻鳕主要以什么为食？", "几乎是以多毛类为食"), ("蓝线裸顶鲷以什么为食？", "以甲壳类、头足类和小鱼为食")]


@pytest.fixture(scope="module")
def cmrc_assistant(tmp_path_factory):
    return cmrc_assistant_for(tmp_path_factory, {q for q, _ in CASES + FOCUS_CASES})


@pytest.mark.parametrize("question, span", CASES)
def test_the_sentence_that_answers_wins_over_the_one_naming_the_subject(cmrc_assistant, question, span):
    answer = cmrc_assistant.ask(question)
    assert not answer.refused and span in answer.answer, answer.answer
    assert any(span in c.quote for c in answer.citations)


@pytest.mark.parametrize("question, span", FOCUS_CASES)
def test_what_the_question_asks_beyond_the_subject_ranks_the_sentences(cmrc_assistant, question, span):
    quoted_only_with_the_weight(cmrc_assistant, question, span, weight_focus=0.0)

