"""What every answerer gives back, and the interface the assistant calls. The extractive answerer is today's only
implementation; an LLM answerer will implement the same interface, and its output goes through the same grounding
checks (``aidqa.qa.grounding``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from aidqa.models import Citation, CitedFigure, ComputedTotal
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


class Answerer(Protocol):
    """Answers one question from retrieved passages, or refuses."""

    def answer(self, question: str, language: str, hits: list[ScoredChunk], query_vector: np.ndarray,
               context: str | None = None) -> Extraction: ...
