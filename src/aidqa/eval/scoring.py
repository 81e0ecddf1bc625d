"""Scoring one answer (a pure function: no model, no index) and aggregating metrics."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from aidqa.eval.dataset import EvalItem
from aidqa.models import Answer, Citation
from aidqa.zh.chars import fold_for_match, fold_width
from aidqa.zh.numbers import numbers_in

if TYPE_CHECKING:  # the assistant pulls in torch and chroma; import it only where it is used
    pass


_MARKER = re.compile(r"\[\d+\]")


# ---------------------------------------------------------------------------------------------------------------
# Scoring one item (pure)
# ---------------------------------------------------------------------------------------------------------------


class ItemResult(BaseModel):
    """One item, asked and scored. ``reasons`` is empty iff the item passed."""

    id: str
    type: str
    question: str
    must: list[str] = Field(default_factory=list)
    evidence: str | None = None
    history: list[tuple[str, str]] = Field(default_factory=list)
    expected_refusal: bool
    answer: Answer | None = None
    error: str | None = None
    answer_correct: bool
    citation_correct: bool | None = None
    ungrounded: list[str] = Field(default_factory=list)
    # The figures the answer states first (its short answer): does one of them carry a number of the must strings?
    # None when the answer states no figure, or no must string holds a number.
    figure_stated_correct: bool | None = None
    retrieval_rank: int | None = None
    latency_ms: float
    reasons: list[str] = Field(default_factory=list)

    @property
    def refused(self) -> bool:
        return self.answer is not None and self.answer.refused

    @property
    def answered(self) -> bool:
        return self.answer is not None and not self.answer.refused

    @property
    def passed(self) -> bool:
        return not self.reasons


def _ungrounded_numbers(answer: str, citations: list[Citation]) -> list[str]:
    # Imported here: aidqa.qa.grounding loads the index stage, and reading an eval file should fail fast without it.
    from aidqa.qa.grounding import ungrounded_numbers

    return ungrounded_numbers(answer, citations)


def evidence_cited(evidence: str, citations: Sequence[Citation]) -> bool:
    """True iff the folded evidence lies inside one folded quote, or inside the folded quotes joined in report
    order (sorted by source, then start offset) — evidence spanning two adjacent cited sentences counts."""
    needle = fold_for_match(evidence)
    quotes = [fold_for_match(c.quote) for c in sorted(citations, key=lambda c: (c.source, c.start, c.end))]
    return any(needle in q for q in quotes) or needle in "".join(quotes)


def retrieval_rank(evidence: str, answer: Answer) -> int | None:
    """1-based rank of the first retrieved passage whose folded text contains the folded evidence, else None."""
    needle = fold_for_match(evidence)
    return next((i for i, p in enumerate(answer.retrieved, start=1) if needle in fold_for_match(p.text)), None)


def _plain_number(number: str) -> str:
    """A number compared by value as written: 1,200 and 1200 are one number, 12.9% and 12.9 too."""
    return number.replace(",", "").rstrip("%")


def score_item(item: EvalItem, answer: Answer | None, latency_ms: float, error: str | None = None) -> ItemResult:
    """Score ``answer`` (None when asking raised ``error``) against ``item``. No model needed.

    * answer_correct — answerable item: not refused and every ``must`` string (folded) is in the folded answer
      (``[n]`` markers removed); expected refusal: refused.
    * citation_correct — None without evidence or for an expected refusal; else ``evidence_cited``.
    * ungrounded — numbers in a non-refused answer that no cited quote contains.
    * figure_stated_correct — for an answered item whose ``must`` strings hold numbers and whose answer states
      figures first (``Answer.figures``, the short answer): whether one of those figures is one of the numbers. A
      wrong short answer fails the item even when the right figure is further down in a quote.
    * retrieval_rank — see ``retrieval_rank``; None without evidence.
    An item with an error is wrong wherever it is scored (answer False, citation False, rank None).
    """
    reasons: list[str] = []
    citation_correct: bool | None = None
    rank: int | None = None
    ungrounded: list[str] = []
    figure_stated_correct: bool | None = None
    if answer is None or error is not None:
        answer = None
        answer_correct = False
        if item.evidence is not None and not item.expected_refusal:
            citation_correct = False
        reasons.append(f"error: {error or 'no answer'}")
    else:
        folded_answer = fold_for_match(_MARKER.sub("", answer.answer))
        if item.expected_refusal:
            answer_correct = answer.refused
            if not answer.refused:
                reasons.append("answered but should refuse")
        elif answer.refused:
            answer_correct = False
            reasons.append("refused but answerable")
        else:
            missing = [m for m in item.must if fold_for_match(m) not in folded_answer]
            answer_correct = not missing
            reasons.extend(f"missing {m}" for m in missing)
        if item.evidence is not None:
            rank = retrieval_rank(item.evidence, answer)
            if not item.expected_refusal:
                citation_correct = not answer.refused and evidence_cited(item.evidence, answer.citations)
                if not citation_correct and not answer.refused:
                    reasons.append("evidence not cited")
        if not answer.refused:
            ungrounded = _ungrounded_numbers(answer.answer, answer.citations)
            if ungrounded:
                reasons.append(f"ungrounded numbers: {', '.join(ungrounded)}")
            expected = {_plain_number(n) for m in item.must for n in numbers_in(fold_width(m))}
            if answer.figures and expected and not item.expected_refusal:
                figure_stated_correct = any(_plain_number(n) in expected
                                            for f in answer.figures for n in numbers_in(fold_width(f.raw)))
                if not figure_stated_correct:
                    reasons.append(f"short answer states {', '.join(f.raw for f in answer.figures)}, not the asked figure")
    return ItemResult(
        id=item.id, type=item.type, question=item.question, must=item.must, evidence=item.evidence,
        history=item.history, expected_refusal=item.expected_refusal, answer=answer, error=error,
        answer_correct=answer_correct, citation_correct=citation_correct, ungrounded=ungrounded,
        figure_stated_correct=figure_stated_correct, retrieval_rank=rank,
        latency_ms=round(latency_ms, 2), reasons=reasons,
    )


# ---------------------------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------------------------


class Metrics(BaseModel):
    """Aggregates over a set of scored items (the whole run, or one type). A rate is None when its denominator is
    0 (nothing to measure); the denominators are kept alongside."""

    n: int
    answerable: int = Field(description="Items not expected to be refused (denominator of answer_accuracy).")
    answer_accuracy: float | None
    cited: int = Field(description="Items whose citation is scored (denominator of citation_accuracy).")
    citation_accuracy: float | None
    refused: int = Field(description="Items the assistant refused.")
    expected_refusals: int
    refusal_precision: float | None
    refusal_recall: float | None
    answered: int = Field(description="Items answered (not refused, no error): denominator of ungrounded_rate.")
    ungrounded_rate: float | None
    figures_stated: int = Field(0, description="Answered items whose answer states figures first and whose must "
                                "strings hold numbers: denominator of figure_stated_accuracy.")
    figure_stated_accuracy: float | None = Field(None, description="Share of those whose stated figures include an "
                                                 "expected number (the short answer is the asked figure).")
    retrieval_scored: int = Field(description="Items with evidence, not expected to be refused.")
    recall_at_1: float | None
    recall_at_3: float | None
    recall_at_5: float | None
    mrr: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    errors: int
    llm_answered: int = Field(0, description="Items the language model answered (its verified reply was used).")
    llm_fallbacks: int = Field(0, description="Items where the extractive answer replaced the model's reply.")
    dropped_sentences: int = Field(0, description="Sentences of the model's replies that failed verification.")


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile by linear interpolation between closest ranks (numpy's default 'linear' method):
    position (n-1)·p/100 in the sorted values. None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = math.floor(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def compute_metrics(results: Sequence[ItemResult]) -> Metrics:
    """Aggregate scored items.

    * answer_accuracy = answer_correct / items not expected to be refused.
    * citation_accuracy = citation_correct / items whose citation_correct is not None.
    * refusal_precision = refused ∧ expected / refused; refusal_recall = refused ∧ expected / expected.
    * ungrounded_rate = answered items with ≥1 ungrounded number / answered items.
    * figure_stated_accuracy = figure_stated_correct / answered items where it is not None (figures_stated).
    * recall_at_k = rank ≤ k, mrr = mean(1/rank, 0 when not found), over items with evidence not expected to be
      refused.
    * latency_p50_ms / latency_p95_ms: linear interpolation (see ``percentile``) over items without error.
    * llm_answered, llm_fallbacks, dropped_sentences: counts from each answer's ``answered_by`` and ``grounding``
      (0 with the extractive backend).
    An item with an error is wrong in answer and citation accuracy, not refused (so it lowers refusal recall),
    not found in retrieval, and left out of the ungrounded rate and latency.
    """
    answerable = [r for r in results if not r.expected_refusal]
    cited = [r for r in results if r.citation_correct is not None]
    refused = [r for r in results if r.refused]
    expected = [r for r in results if r.expected_refusal]
    answered = [r for r in results if r.answered]
    stated = [r for r in answered if r.figure_stated_correct is not None]
    scored = [r for r in answerable if r.evidence is not None]
    ranks = [r.retrieval_rank for r in scored]
    latencies = [r.latency_ms for r in results if r.error is None]

    def recall(k: int) -> float | None:
        return _ratio(sum(1 for x in ranks if x is not None and x <= k), len(ranks))

    return Metrics(
        n=len(results),
        answerable=len(answerable),
        answer_accuracy=_ratio(sum(r.answer_correct for r in answerable), len(answerable)),
        cited=len(cited),
        citation_accuracy=_ratio(sum(bool(r.citation_correct) for r in cited), len(cited)),
        refused=len(refused),
        expected_refusals=len(expected),
        refusal_precision=_ratio(sum(r.expected_refusal for r in refused), len(refused)),
        refusal_recall=_ratio(sum(r.refused for r in expected), len(expected)),
        answered=len(answered),
        ungrounded_rate=_ratio(sum(1 for r in answered if r.ungrounded), len(answered)),
        figures_stated=len(stated),
        figure_stated_accuracy=_ratio(sum(1 for r in stated if r.figure_stated_correct), len(stated)),
        retrieval_scored=len(scored),
        recall_at_1=recall(1),
        recall_at_3=recall(3),
        recall_at_5=recall(5),
        mrr=sum(1 / x for x in ranks if x) / len(ranks) if ranks else None,
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        errors=sum(1 for r in results if r.error is not None),
        llm_answered=sum(1 for r in results if r.answer is not None and r.answer.answered_by == "llm"),
        llm_fallbacks=sum(1 for r in results if r.answer is not None and r.answer.grounding.fallback_reason),
        dropped_sentences=sum(len(r.answer.grounding.dropped) for r in results if r.answer is not None),
    )


def metrics_by_type(results: Sequence[ItemResult]) -> dict[str, Metrics]:
    """Metrics per item type, in order of first appearance."""
    groups: dict[str, list[ItemResult]] = {}
    for r in results:
        groups.setdefault(r.type, []).append(r)
    return {t: compute_metrics(rs) for t, rs in groups.items()}
