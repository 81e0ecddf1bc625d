"""What every answerer gives back, and the interface the assistant calls. Two implementations: the extractive
answerer (the default) and the LLM answerer (``answerers.llm``), whose output goes through the same grounding
checks (``aidqa.qa.grounding``) after its own sentence-by-sentence verification."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from aidqa.models import Citation, CitedFigure, ComputedTotal, Grounding
from aidqa.retrieval.hybrid import ScoredChunk


@dataclass
class Extraction:
    """An answerer's result before it becomes an ``Answer``: the text, whether it refused, and what it cites."""

    answer: str
    refused: bool
    citations: list[Citation]
    reason: str  # why it answered or refused (logged; useful when tuning)
    figures: list[CitedFigure] = field(default_factory=list)
    total: ComputedTotal | None = None
    answered_by: Literal["llm", "extractive"] = "extractive"
    grounding: Grounding = field(default_factory=Grounding)


class Answerer(Protocol):
    """Answers one question from retrieved passages, or refuses."""

    def answer(self, question: str, language: str, hits: list[ScoredChunk], query_vector: np.ndarray,
               context: str | None = None, topic: str | None = None) -> Extraction:
        """``context``: the earlier question a dependent follow-up leans on; ``topic``: what an elliptical
        follow-up (合成生物那块呢？) asks about, which the quoted sentence must name."""
        ...


def merged_provenance(results: list[Extraction]) -> dict[str, Any]:
    """``answered_by`` and ``grounding`` for one answer merged from several (a compound question's parts): by the
    LLM if any part is, with every part's dropped sentences and fallback reasons."""
    reasons = [r.grounding.fallback_reason for r in results if r.grounding.fallback_reason]
    return {
        "answered_by": "llm" if any(r.answered_by == "llm" for r in results) else "extractive",
        "grounding": Grounding(checked=any(r.grounding.checked for r in results),
                               dropped=[d for r in results for d in r.grounding.dropped],
                               fallback_reason="; ".join(dict.fromkeys(reasons)) or None),
    }
