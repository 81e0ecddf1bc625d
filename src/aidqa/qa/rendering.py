"""The answer text: figures first, then every cited sentence verbatim with its [n] marker; the refusal text."""

from __future__ import annotations

from aidqa.index.figures import short_phrase
from aidqa.models import Citation, CitedFigure, ComputedTotal

REFUSAL = {
    "zh": "报告中没有找到这个问题的答案。",
    "en": "The reports do not contain an answer to this question.",
}


def render_answer(language: str, citations: list[Citation], figures: list[CitedFigure], total: ComputedTotal | None) -> str:
    """The answer text: for a figure question, the figures first (each with its marker), then every cited sentence
    verbatim with its marker."""
    lines = []
    if figures:
        stated = [f"{short_phrase(f.measures)}{f.raw} [{f.citation_id}]" for f in figures]
        lines.append(("Figures: " + "; ".join(stated)) if language == "en" else "；".join(stated))
    if total is not None:
        ops = "+".join(total.operands)
        lines.append(f"Total (computed from the cited figures {ops}; not a figure of the reports): {total.text}"
                     if language == "en" else f"合计{total.text}（由引用的{ops}相加得出，报告中没有这个合计数）")
    quotes = [f"{c.quote} [{c.id}]" for c in citations]
    if language == "en":
        quotes[0] = "From the reports (quoted in Chinese): " + quotes[0]
    return "\n".join(lines + quotes)
