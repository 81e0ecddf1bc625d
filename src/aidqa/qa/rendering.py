"""The answer text: figures first, then every cited sentence verbatim with its [n] marker; the refusal text.

When an answer cites more than one report, every figure and every quote line names its report (《title》): a reader
must never take one report's figure for another's."""

from __future__ import annotations

import re

from aidqa.index.figures import short_phrase
from aidqa.models import Answer, Citation, CitedFigure, ComputedTotal
from aidqa.qa.grounding import report_label

_LIST_PUNCTUATION = "、，,；;：: "

# A citation marker in an answer's text: [n] is citation n.
MARKER = re.compile(r"\[(\d+)\]")

REFUSAL = {
    "zh": "报告中没有找到这个问题的答案。",
    "en": "The reports do not contain an answer to this question.",
}


# A compound question's parts, named when some are answered and some are not: a bare refusal line among answers
# would read as if the whole question went unanswered. Ordinals in words, so that no digit enters the answer that
# its quotes do not hold (aidqa.qa.grounding).
_PART_ORDINALS = {
    "zh": [f"第{n}问：" for n in "一二三四五六七八九十"],
    "en": [f"{n} part: " for n in "First Second Third Fourth Fifth Sixth Seventh Eighth Ninth Tenth".split()],
}
PART_LABELS = tuple(label for labels in _PART_ORDINALS.values() for label in labels)
PART_REFUSAL = {"zh": "报告中没有找到这一问的答案。", "en": "the reports do not answer it."}
PART_SEE_ABOVE = {"zh": "见上。", "en": "see above."}  # answered by the sentence an earlier part quoted


def part_label(language: str, index: int) -> str:
    """The label of a compound question's part ``index`` (from 0): 第一问： / First part: ; empty past the tenth."""
    labels = _PART_ORDINALS[language]
    return labels[index] if index < len(labels) else ""


def cites_several_reports(citations: list[Citation]) -> bool:
    return len({c.source for c in citations}) > 1


def render_answer(language: str, citations: list[Citation], figures: list[CitedFigure], total: ComputedTotal | None,
                  name_reports: bool | None = None, lead: str | None = None) -> str:
    """The answer text: for a figure question, the figures first (each with its marker), then every cited sentence
    verbatim with its marker. ``name_reports`` puts the report's 《title》 before each figure and quote; by default
    it does so when the citations come from more than one report. ``lead`` (是，增长4.0% [1] for a yes/no question)
    stands in for the figures line."""
    if name_reports is None:
        name_reports = cites_several_reports(citations)
    by_id = {c.id: c for c in citations}

    def named(citation_id: int, sep: str) -> str:
        c = by_id.get(citation_id)
        return f"{report_label(c)}{sep}" if name_reports and c is not None else ""

    sep = " " if language == "en" else ""
    lines = [lead] if lead else []
    if figures and not lead:
        stated: list[str] = []
        for i, f in enumerate(figures):
            phrase = short_phrase(f.measures).strip(_LIST_PUNCTUATION)
            if not phrase and i and figures[i - 1].citation_id == f.citation_id and stated:
                # The next item of a list (分别增长5.3%、7.1%) measures what the item before it does.
                stated[-1] = stated[-1].removesuffix(f" [{f.citation_id}]") + f"、{f.raw} [{f.citation_id}]"
                continue
            stated.append(f"{named(f.citation_id, sep)}{phrase}{f.raw} [{f.citation_id}]")
        lines.append(("Figures: " + "; ".join(stated)) if language == "en" else "；".join(stated))
    if total is not None:
        ops = "+".join(total.operands)
        lines.append(f"Total (computed from the cited figures {ops}; not a figure of the reports): {total.text}"
                     if language == "en" else f"合计{total.text}（由引用的{ops}相加得出，报告中没有这个合计数）")
    quotes = [f"{named(c.id, sep)}{c.quote} [{c.id}]" for c in citations]
    if language == "en":
        quotes[0] = "From the reports (quoted in Chinese): " + quotes[0]
    return "\n".join(lines + quotes)


def grounding_note(answer: Answer) -> str:
    """One short line when a language model's reply was not used, or some of its sentences were left out (plain
    text; the CLI prints it, the UI shows it in italics); empty otherwise."""
    g, en = answer.grounding, answer.language == "en"
    if g.fallback_reason:
        return (f"Note: the language model's answer was not used ({g.fallback_reason}); this answer comes from the "
                "reports' own sentences." if en else f"注：未采用大模型的回答（{g.fallback_reason}），改由报告原句作答。")
    if g.dropped:
        n = len(g.dropped)
        return (f"Note: {n} sentence(s) of the language model's answer could not be checked against the cited "
                "passages and were left out." if en else f"注：大模型回答中有 {n} 句无法用引用核实，已略去。")
    return ""
