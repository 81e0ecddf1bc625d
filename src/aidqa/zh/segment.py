"""Sentences, clauses, words and character bigrams of Chinese text; the question's language."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

from aidqa.zh.chars import CLOSING, SENTENCE_END, fold_width, is_han

# ---------------------------------------------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------------------------------------------


# A table row as ingest writes it (粮食 · 产量（吨）：1223474；比上年增长（%）：1.8。): a short row label, the
# separator, then header：value cells. Its ；s join cells of one fact, so they do not end a sentence.
TABLE_ROW_RE = re.compile(r"[^\n。；]{1,60}?\s?·\s?[^\n：]{1,40}：")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans ``(s, e)`` of ``text[start:end]``, split after 。！？；!?; and at line breaks.

    Closing quotes/brackets stay with the sentence they close; a terminator between two digits never splits
    (so no number is cut); a ； inside a table row never splits (the row is one fact with its label); surrounding
    spaces are trimmed; empty spans are dropped.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    s = start
    i = start
    in_row = bool(TABLE_ROW_RE.match(text, start))
    while i < end:
        ch = text[i]
        if ch == "\n":
            spans.append((s, i))
            s = i + 1
            in_row = bool(TABLE_ROW_RE.match(text, s))
        elif ch in "；;" and in_row:
            pass
        elif ch in SENTENCE_END:
            if i + 1 < end and text[i - 1 : i].isdigit() and text[i + 1].isdigit():
                i += 1
                continue
            j = i + 1
            while j < end and (text[j] in SENTENCE_END or text[j] in CLOSING):
                j += 1
            spans.append((s, j))
            s = j
            i = j
            continue
        i += 1
    spans.append((s, end))
    result = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            result.append((a, b))
    return result


def split_clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clause spans inside one sentence (split after ，、：), used only to break over-long sentences."""
    spans = []
    s = start
    for i in range(start, end):
        if text[i] in "，,、：:" and not (0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()):
            spans.append((s, i + 1))
            s = i + 1
    if s < end:
        spans.append((s, end))
    return spans


# ---------------------------------------------------------------------------------------------------------------
# Language and tokens
# ---------------------------------------------------------------------------------------------------------------


def detect_language(text: str) -> str:
    """'zh' when the text has any Han characters, 'en' when it is mostly Latin letters."""
    han = sum(1 for c in text if is_han(c))
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    if han == 0 and latin > 0:
        return "en"
    return "zh"


# Function words and question words: they say how something is asked, not what is asked about.
ZH_STOP_WORDS = frozenset(
    """
    的 了 和 与 及 以及 或 是 在 对 为 于 把 被 将 等 这 那 这个 那个 这些 那些 其 其中 之 也 都 还 就 又 并 并且 而 但
    从 向 到 由 以 给 让 使 个 中 上 下 里 内 外 后 前 时 吗 呢 吧 啊 呀 么 嘛 哪 哪些 哪个 哪里 哪儿 什么 啥 怎么 怎样
    怎么样 如何 多少 几 几个 多大 多 谁 为何 为什么 是否 有没有 有 没有 请问 请 问 一下 告诉 我 你 我们 你们 他们 它 它们
    情况 方面 哪方面 一共 总共 共 具体 主要 呢 可以 能 能够 会 吗 多久 了解 介绍 一些 相关 关于 所 得 地 着 过 该
    哪一年 哪年 一年 开始 叫 叫做 名字 称为 指 指的是 包括 包含 哪几 几位 几个 分别 目前 现在 已经 这些 年来 大家 加起来
    哪家 哪位 哪所 哪项 怎样 如何 多少钱 是不是 有多少 有多大 一下 又 还有 都有 到底 究竟
    """.split()
)
EN_STOP_WORDS = frozenset(
    """
    a an the of to in on for and or is are was were be been by with at from as that this these those it its what
    which who whom how many much did do does has have had there their they them about into than then so such
    can could will would should may might please tell me i we you our your when where why much
    over under between during each per since until through across roughly approximately around also both if like
    hold holds held make makes made get gets got take takes took taken give gives given put go goes went gone up out off
    """.split()
)
# An English number word is its Chinese numeral, matched wherever it stands (top five ↔ 前五名, 五种): a numeral is
# part of a word, never a word of its own, so it is no word of the corpus's vocabulary either.
EN_NUMBER_WORDS = dict(zip("one two three four five six seven eight nine ten".split(), "一二三四五六七八九十"))


# Units an English question asks its answer in ("how many tonnes", "in yuan"): the question's analysis reads the
# unit from them (aidqa.qa.analysis.asked_units), and a report writes the unit beside its figure (万吨, 亿元), where
# the dictionary's word for it (英吨 for tonnes) is not.
EN_UNIT_NOUNS = frozenset("yuan rmb tonnes tonne tons ton hectares hectare dollars dollar kilometres kilometers km".split())


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _is_punct_or_space(tok: str) -> bool:
    return all(unicodedata.category(c)[0] in "PSZC" for c in tok)


def tokenize_words(text: str) -> list[str]:
    """Content words for keyword search: jieba (search mode) tokens, lower-cased, stop words and punctuation
    removed. Numbers stay whole (18.51)."""
    text = fold_width(text).lower()
    tokens = []
    for tok in _jieba().lcut_for_search(text):
        tok = tok.strip()
        if not tok or _is_punct_or_space(tok) or tok in ZH_STOP_WORDS or tok in EN_STOP_WORDS:
            continue
        tokens.append(tok)
    return tokens


def tokenize_all(text: str) -> list[str]:
    """Every jieba word of ``text`` in order, stop words and punctuation included (so the words join back to
    ``text``)."""
    return _jieba().lcut(text)


def char_bigrams(text: str) -> list[str]:
    """Overlapping Han-character bigrams (a lone Han character stays a unigram); Latin words and numbers whole.

    Robust where word segmentation is not (名词 split differently in question and report)."""
    text = fold_width(text).lower()
    tokens: list[str] = []
    for m in re.finditer(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9][a-z0-9.%]*", text):
        run = m.group()
        if not is_han(run[0]):
            if run not in EN_STOP_WORDS:
                tokens.append(run.rstrip("."))
            continue
        if len(run) == 1:
            if run not in ZH_STOP_WORDS:
                tokens.append(run)
            continue
        tokens.extend(run[k : k + 2] for k in range(len(run) - 1))
    return tokens
