"""A sentence that holds the question's characters, not its words, can be the answer: 身体是什么颜色 is answered by
本鱼体呈银灰色 (体, 色) — while the article's opening sentence holds the fish's name and outranked it. Partial
credit for the key terms a sentence does not write (the share of each one's characters it holds, function characters
such as 为 aside) is a feature weighted by ``answering.weight_chars`` (fitted by ``scripts/fit_answerer.py --only
chars``). Checked on public CMRC 2018 trial passages (Wikipedia, CC BY-SA 4.0, read from ``../shared/data/cmrc2018/``
at test time). Uses the packaged model."""

from __future__ import annotations

import pytest
from conftest import cmrc_assistant_for, quoted_only_with_the_weight

CASES = [("蓝线裸顶鲷的身体是什么颜色的？", "本鱼体呈银灰色"), ("黄鳍紫鱼的身体是什么颜色的？", "体呈淡蓝红色")]


@pytest.fixture(scope="module")
def cmrc_assistant(tmp_path_factory):
    return cmrc_assistant_for(tmp_path_factory, {q for q, _ in CASES})


@pytest.mark.parametrize(("question", "span"), CASES)
def test_the_sentence_with_the_asked_characters_is_quoted(cmrc_assistant, question, span):
    quoted_only_with_the_weight(cmrc_assistant, question, span, weight_chars=0.0)
