"""Grounding checks shared by every answerer: every number of an answer must stand in a cited quote; a
computed total is allowed only when its operands are cited, come from one report and add up."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aidqa.models import Citation, CitedFigure, ComputedTotal
from aidqa.zh.numbers import format_amount, numbers_in
from aidqa.zh.segment import char_bigrams


def compute_total(figures: list[CitedFigure], citations: Sequence[Citation] = ()) -> ComputedTotal | None:
    """The sum of the stated figures — only when there are several, all in one unit, all exact (a sum of
    近/超/余 figures is not a figure anyone can cite), from different sentences, measuring the same thing, and (given
    the ``citations`` the figures point to) all from one report: two reports' figures never add up to anything."""
    if len(figures) < 2 or len({f.unit for f in figures}) != 1 or any(f.qualifier != "none" for f in figures):
        return None
    if len(_sources_of(figures, citations)) > 1:
        return None
    # Only like with like: one figure per cited sentence (6个领域 and 15个班 in one sentence count
    # different things), and the figures measure the same action (投入 / 另投入).
    if len({f.citation_id for f in figures}) != len(figures):
        return None
    shared = set.intersection(*(set(char_bigrams(f.measures)) for f in figures))
    if not shared:
        return None
    value = sum(f.value for f in figures)
    unit = figures[0].unit
    return ComputedTotal(text=format_amount(value, unit), value=value, unit=unit, operands=[f.raw for f in figures],
                         citation_ids=sorted({f.citation_id for f in figures}))


def _sources_of(figures: list[CitedFigure], citations: Sequence[Citation]) -> set[str]:
    source = {c.id: c.source for c in citations}
    return {source[f.citation_id] for f in figures if f.citation_id in source}


def report_label(citation: Citation) -> str:
    """How an answer names the report a quote comes from: 《title》 (the file name when the title is empty)."""
    return f"《{citation.title or citation.source}》"


def ungrounded_numbers(answer: str, citations: list[Citation], total: ComputedTotal | None = None) -> list[str]:
    """Numbers in the answer that no cited quote contains (must be empty for any answer we return). A computed
    total is exempt only if it checks out: its operands are in the cited quotes of one report and add up to it. The
    names of the cited reports (《2023年…公报》) and the headings of the cited sections are not figures of the answer."""
    quoted = " ".join(c.quote for c in citations)
    body = re.sub(r"\[\d+\]", "", answer)
    for label in sorted({report_label(c) for c in citations}, key=len, reverse=True):
        body = body.replace(label, "")
    # Nor are the headings of the cited quotes' sections (an overview names each part: 一、2023年工作回顾).
    headings = {c.section.lstrip("#").strip() for c in citations}
    for heading in sorted((h for h in headings if len(h) >= 4), key=len, reverse=True):  # never a bare 2023
        body = body.replace(heading, "")
    if total is not None and _total_checks_out(total, citations):
        body = body.replace(total.text, "")
    return [n for n in numbers_in(body) if n not in numbers_in(quoted)]


def _total_checks_out(total: ComputedTotal, citations: list[Citation]) -> bool:
    from aidqa.index.figures import extract_figures

    holding = [c for c in citations if c.id in total.citation_ids]
    if len({c.source for c in holding}) > 1:
        return False
    quoted = [f for c in holding for f in extract_figures(c.quote, c.source, lambda i: "")]
    values = []
    for raw in total.operands:
        match = next((f for f in quoted if f.raw == raw), None)
        if match is None:
            return False
        values.append(match.value)
    return abs(sum(values) - total.value) < 1e-6 * max(1.0, abs(total.value)) and total.text == format_amount(total.value, total.unit)
