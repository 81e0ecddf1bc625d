"""Figures as data: every quantitative expression in a report as a typed record, extracted at index time.

``extract_figures(text, source, section_of)`` finds amounts (18.51亿元, 567个, 近2.5万人, 80%以上, 万余个, 三批次),
ordinals (第25届) and years/dates (2010年, 8月), with the number normalised (18.51亿元 → 1851000000), the unit, the
qualifier (近 → approx, 超/余/多 → more_than, 以上 → at_least), what the figure measures, and its exact place:
``text[start:end] == raw``. Slogans and names built from numerals (一个中心, "两区三园", 3+3+N) are not figures.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Literal

from pydantic import BaseModel, Field

from aidqa.zh.numbers import (
    CODE_DIGITS_RE,
    FIGURE_RE,
    FOOTNOTE_MARK_RE,
    TABLE_CELL_RE,
    THRESHOLD_AFTER_RE,
    YEAR,
    figure_value,
    fold_thousands,
)
from aidqa.zh.segment import split_sentences, tokenize_all
from aidqa.zh.structure import topic_phrase

FIGURE_RULES_VERSION = "12"  # bump when extraction changes: it is part of the index name

Qualifier = Literal["none", "approx", "more_than", "at_least"]
Kind = Literal["amount", "ordinal", "year", "date"]

_QUALIFIERS: dict[str, Qualifier] = {
    "近": "approx", "约": "approx", "左右": "approx",
    "超": "more_than", "超过": "more_than", "逾": "more_than", "余": "more_than", "多": "more_than",
    "以上": "at_least", "不少于": "at_least", "不低于": "at_least",
}
# Chinese numerals count only before these units (三批次, 四所); elsewhere 一/两/三 are words (一批新项目, 两地).
_CN_COUNT_UNITS = {"批次", "批", "所", "个", "名", "项", "场", "家", "位", "人", "届", "期", "次", "座", "条", "支", "类"}
_QUOTE_OPEN = "\"“「『《"
_QUOTE_CLOSE = "\"”」』》"
_RELATIVE_TIME = ("去年", "今年", "前年", "明年", "当年")
# 、 does not end a clause here: 走访规上企业、科研院所120余家 measures both.
_CLAUSE_PUNCT = "，,。；;！？!?：:（）()"


class Figure(BaseModel):
    """One quantitative expression of a report, located exactly: ``document_text[start:end] == raw``."""

    id: str = Field(description="Stable id: source and start offset.")
    value: float = Field(description="The number normalised: 18.51亿元 → 1851000000, 近2.5万人 → 25000, 80%以上 → 80.")
    unit: str = Field(description="The unit or measure word after the number: 元, 人次, 个, %, 平方米, 届, 年 …")
    raw: str = Field(description="The figure exactly as the report writes it, with its qualifier: 近2.5万人.")
    qualifier: Qualifier = Field(description="近/约/左右 → approx; 超/超过/逾/余/多 → more_than; 以上/不少于 → at_least.")
    kind: Kind = Field(description="amount, ordinal (第25届), year (2010年) or date (8月).")
    measures: str = Field(description="What the figure quantifies: the words just before it in its clause, at most "
                          "12 characters of whole words (全年粮食产量).")
    object: str = Field("", description="The words just after it, when the figure precedes what it counts (个 → 项目).")
    topic: str = Field("", description="The heading phrase of the statement it belongs to (在推进城乡融合发展上), "
                       "when the sentence is part of a ；-chain that opens with one.")
    sentence: str = Field(description="The sentence the figure stands in.")
    sentence_start: int = Field(description="Offset of the sentence in the stored text.")
    section: str = Field(description="Heading of the section.")
    source: str = Field(description="Report file, relative to the corpus folder.")
    start: int = Field(description="Offset of the figure in the stored (normalised) text.")
    end: int = Field(description="End offset (exclusive).")


def whole_dates(figures: list[Figure], text: str) -> list[Figure]:
    """``figures`` with each run of a year and its month and day (2023年3月9日, 2024 年 4 月 29 日) joined into one
    figure: a date is stated whole, not as 2023年、3月、9日. Parts joined only when nothing but spaces separates
    them, in year → month → day order; the joined figure keeps its first part's value and what that part measures."""
    out: list[Figure] = []
    for f in figures:
        prev = out[-1] if out else None
        if (prev is not None and f.kind == "date" and prev.kind in ("year", "date") and prev.source == f.source
                and prev.end <= f.start and not text[prev.end : f.start].strip()
                and _DATE_ORDER.get(prev.unit, -1) < _DATE_ORDER.get(f.unit, -1)):
            out[-1] = prev.model_copy(update={"raw": text[prev.start : f.end], "end": f.end, "unit": f.unit,
                                              "kind": "date"})
        else:
            out.append(f)
    return out


_DATE_ORDER = {"年": 0, "月": 1, "日": 2}


def quoted_spans(text: str, max_chars: int = 24) -> list[tuple[int, int]]:
    """Spans of short quoted names and slogans ("两区三园", “一个中心”). ASCII quotes open and close in turn
    within a line; a long quotation is not a name, so only spans up to ``max_chars`` are returned."""
    spans: list[tuple[int, int]] = []
    open_at: int | None = None
    for i, ch in enumerate(text):
        if ch == "\n":
            open_at = None
        elif ch in "“「『" or (ch == '"' and open_at is None):
            open_at = i
        elif ch in "”」』" or (ch == '"' and open_at is not None):
            if open_at is not None and i - open_at - 1 <= max_chars:
                spans.append((open_at + 1, i))
            open_at = None
    return spans


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    a = start
    while a > 0 and text[a - 1] not in _CLAUSE_PUNCT and text[a - 1] != "\n":
        a -= 1
    b = end
    while b < len(text) and text[b] not in _CLAUSE_PUNCT and text[b] != "\n":
        b += 1
    return a, b


_RATE_TAIL = re.compile(r"^/(?:小时|[年月日天周人次户台辆吨])")


def _measures(text: str, start: int, end: int, previous_end: int) -> tuple[str, str]:
    """(words before, words after) the figure inside its clause, at most 8 characters each, not reaching back
    over the previous figure."""
    a, b = _clause_bounds(text, start, end)
    # The previous figure's rate unit (1,200吨/年) is not what this one measures, nor what this one counts.
    before = _whole_words(_RATE_TAIL.sub("", text[max(a, previous_end) : start]), from_end=True, limit=12)
    after = _RATE_TAIL.sub("", text[end:b])
    m = FIGURE_RE.search(after)
    if m:
        after = after[: m.start()]
    after = _whole_words(after, from_end=False)
    before = re.sub(r"^(?:并且|并|和|及|与|以及|其中|共|累计共|等)", "", before.strip())
    return before.strip(), after.strip()


def short_phrase(measures: str, limit: int = 8) -> str:
    """The last whole words of what a figure measures, for a one-line summary (全市规模以上工业企业实现利润 →
    实现利润), without footnote marks: 生产总值[2]100亿元 would read as if it cited passage 2."""
    return _whole_words(FOOTNOTE_MARK_RE.sub("", measures), from_end=True, limit=limit)


def _whole_words(phrase: str, from_end: bool, limit: int = 8) -> str:
    """The last (or first) whole jieba words of ``phrase`` that fit in ``limit`` characters."""
    if len(phrase) <= limit:
        return phrase
    words = tokenize_all(phrase)
    kept: list[str] = []
    for word in reversed(words) if from_end else words:
        if sum(map(len, kept)) + len(word) > limit:
            break
        kept.append(word)
    return "".join(reversed(kept) if from_end else kept)


def _topic(text: str, sentences: list[tuple[int, int]], index: int | None) -> str:
    """The 在…上/在…方面 phrase opening the ；-chain that sentence ``index`` belongs to ("" if none)."""
    if index is None:
        return ""
    i = index
    while i > 0:
        a, b = sentences[i - 1]
        if not text[a:b].rstrip().endswith(("；", ";")) or "\n\n" in text[b : sentences[i][0] + 1]:
            break
        i -= 1
    a, b = sentences[i]
    m = topic_phrase(text[a:b])
    return m or ""


def _kind(unit: str, ordinal: bool, number: str | None) -> Kind:
    if ordinal:
        return "ordinal"
    if unit == "年" and number and re.fullmatch(YEAR, number):
        return "year"
    if unit in ("月", "日"):
        return "date"
    return "amount"


def extract_figures(text: str, source: str, section_of: Callable[[int], str]) -> list[Figure]:
    """All figures in ``text`` (a report's stored text), in order. ``section_of(offset)`` names the section."""
    sentences = split_sentences(text)
    quotes = quoted_spans(text)

    def quoted(a: int, b: int) -> bool:
        return any(qs <= a and b <= qe for qs, qe in quotes)

    figures: list[Figure] = []
    previous_end = 0
    for m in FIGURE_RE.finditer(fold_thousands(text)):
        start, end = m.span()
        number, cn, unit = m.group("num"), m.group("cn"), m.group("unit")
        before_char = text[start - 1] if start else ""
        after_char = text[end] if end < len(text) else ""
        if number is not None and (before_char.isdigit() or before_char == "." or after_char == "+"
                                   or CODE_DIGITS_RE.match(text, start)):
            continue  # part of a longer token, a formula such as 3+3+N or a code such as PM10
        if number is None and cn is None and not m.group("mid"):
            continue  # bare 万 before a unit: not a figure
        if cn is not None:
            if unit not in _CN_COUNT_UNITS or cn == "一" or quoted(start, end):
                continue  # 一批 (indefinite), "两区三园" (a name), 三个必须 (a slogan)
            if after_char in "大向" or before_char in "第" or text.startswith("产业", end):
                continue  # …, and 三次产业 (the three sectors of a statistical communique) counts no times
        if number is not None and quoted(start, end):
            continue  # a number inside a quoted name is part of the name
        if THRESHOLD_AFTER_RE.match(text, end - len(m.group("post") or "")):
            continue  # a threshold that bounds what a noun names (1000万元及以上的项目): no amount the report states
        kind = _kind(unit, bool(m.group("ordinal")), number)
        if kind == "date" and text[max(0, start - 2) : start] in _RELATIVE_TIME:
            start -= 2  # 去年8月 is one date
        value = figure_value(number or cn or "", m.group("mult") or "")
        if value is None:
            continue
        qualifier_words = [w for w in (m.group("pre"), m.group("mid0"), m.group("mid"), m.group("post")) if w]
        qualifier: Qualifier = _QUALIFIERS[qualifier_words[0]] if qualifier_words else "none"
        s_index = next((i for i, (a, b) in enumerate(sentences) if a <= start < b), None)
        s_start, s_end = sentences[s_index] if s_index is not None else (start, end)
        measures, obj = _measures(text, start, end, previous_end)
        figures.append(Figure(
            id=f"{source}:{start}", value=value, unit=unit, raw=text[start:end], qualifier=qualifier,
            kind=kind, measures=measures, object=obj, topic=_topic(text, sentences, s_index),
            sentence=text[s_start:s_end], sentence_start=s_start, section=section_of(start), source=source,
            start=start, end=end,
        ))
        previous_end = end
    figures = _respectively(text, figures)
    figures += _table_cells(text, source, section_of, sentences)
    figures.sort(key=lambda f: f.start)
    return figures


# "甲、乙和丙…分别增长x、y、z": the items before 分别 pair in order with the figures after it.
_ITEM_SEPARATOR = re.compile(r"[、和及与]")
_FIGURE_SEPARATOR = re.compile(r"\s*(?:[、，,]|和|及)?\s*")
_CLAUSE_BREAK = "，,；;。：:\n"


def _respectively(text: str, figures: list[Figure]) -> list[Figure]:
    """Figures of a 分别 list measure their own item: in 化学需氧量和氨氮、二氧化硫、氮氧化物排放总量分别下降12.9%、
    13%、18%、18.6%, the 18.6% is 氮氧化物排放总量's, not what the words before the first figure say. Lists whose
    items cannot be counted off one to one (城乡居民收入分别增长5.3%、7.1%: one written item) are left alone."""
    out = list(figures)  # in text order, as FIGURE_RE found them
    starts = [f.start for f in out]
    at = 0
    while (at := text.find("分别", at)) >= 0:
        at += 2
        first = bisect_left(starts, at)
        if first == len(out) or not out[first].sentence_start <= at or len(text[at : out[first].start]) > 8:
            continue  # no figure right after 分别 in its sentence: the figures are not what 分别 introduces
        chain = [first]
        for i in range(first + 1, len(out)):
            if not _FIGURE_SEPARATOR.fullmatch(text[out[chain[-1]].end : out[i].start]):
                break
            chain.append(i)
        clause_start = max(text.rfind(c, 0, at - 2) for c in _CLAUSE_BREAK) + 1
        items = [w.strip() for w in _ITEM_SEPARATOR.split(text[clause_start : at - 2]) if w.strip()]
        if len(chain) < 2 or len(items) < len(chain):
            continue
        for i, item in zip(chain, items[-len(chain):]):
            out[i] = out[i].model_copy(update={"measures": _whole_words(item, from_end=False)})
    return out


def _table_cells(text: str, source: str, section_of: Callable[[int], str],
                 sentences: list[tuple[int, int]]) -> list[Figure]:
    """The figures of table rows (年末数（万人）：190.90): the bracketed unit and the number, as written, are the
    figure's raw text (（万人）：190.90); it measures the row label and the column header (60周岁及以上·年末数)."""
    figures = []
    for m in TABLE_CELL_RE.finditer(text):
        value = figure_value(m.group("num"), m.group("mult") or "")
        if value is None:
            continue
        value = -value if m.group("sign") else value
        start, end = m.start(), m.end()
        line_start = text.rfind("\n", 0, start) + 1
        label_end = text.find("·", line_start, start)
        label = text[line_start:label_end].strip() if label_end >= 0 else ""
        header_start = max(text.rfind("；", line_start, start), label_end) + 1
        header_start = max(header_start, line_start)
        header = text[header_start:start].strip()
        s_start, s_end = next(((a, b) for a, b in sentences if a <= start < b), (start, end))
        figures.append(Figure(
            id=f"{source}:{start}", value=value, unit=m.group("unit"), raw=text[start:end], qualifier="none",
            kind="amount", measures="·".join(p for p in (label, header) if p), sentence=text[s_start:s_end],
            sentence_start=s_start, section=section_of(start), source=source, start=start, end=end,
        ))
    return figures


def filter_figures(figures: Iterable[Figure], grep: str | None = None, unit: str | None = None,
                   minimum: float | None = None, maximum: float | None = None,
                   kinds: Iterable[str] | None = ("amount", "ordinal")) -> list[Figure]:
    """Figures matching every given condition (grep: in the raw text, what it measures, sentence or section)."""
    wanted = set(kinds) if kinds is not None else None
    out = []
    for f in figures:
        if wanted is not None and f.kind not in wanted:
            continue
        if unit is not None and f.unit != unit:
            continue
        if minimum is not None and f.value < minimum:
            continue
        if maximum is not None and f.value > maximum:
            continue
        if grep and not any(grep in x for x in (f.raw, f.measures, f.object, f.topic, f.sentence, f.section)):
            continue
        out.append(f)
    return out
