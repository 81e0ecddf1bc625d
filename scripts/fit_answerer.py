"""Fit the extractive answerer's sentence-scoring weights on data, and show how well they transfer.

    .venv/bin/python scripts/fit_answerer.py [--work DIR] [--write] [--no-cmrc] [--no-generated] [--only FEATURE…]

The answerer ranks the sentences of the retrieved passages by a weighted sum of features
(``aidqa.qa.answerers.extractive.SCORE_FEATURES``: key-term coverage, bigram coverage, embedding cosine, passage
rank, and for how-much questions number/unit/measure flags). This script learns those weights with a pairwise
logistic regression — for each question, the sentence holding the evidence against each other candidate of the same
question — so the weights say how much each feature separates answers from their neighbours, not what one report
happens to reward.

Data, one group per corpus (each corpus indexed alone, exactly as `aidqa index` would):
- ``seed``: tests/data/dev.jsonl and holdout.jsonl on docs_corpus/ (the report the project was developed on);
- one group per shared dev report (../shared/dev-reports/<stem>.*): the questions in tests/data/reports/<stem>.jsonl
  that have evidence (answerable, not follow-ups), plus questions generated from the report's own figure index
  ("<what the figure measures>是多少？", evidence = the figure's sentence; every k-th figure, deterministic);
- ``cmrc``: the CMRC 2018 trial set (../shared/data/cmrc2018, CC BY-SA 4.0), its 256 passages as one corpus, its
  human questions with their answer spans as evidence — Wikipedia, not reports, so it is a supplement.

It prints, per group with its n, how often the top-scored sentence holds the evidence (among questions whose
evidence is among the candidates at all) for: the current settings, weights fitted on every *other* group (leave
one group out: the honest estimate for an unseen report), and weights fitted on all groups. ``--write`` puts the
all-groups weights into the defaults of AnsweringSettings in src/aidqa/settings.py. ``--only FEATURE…`` fits those
weights with the others held at their settings (how a new feature joins), by a grid search for the best top-1
averaged over the groups. Deterministic: same data, same
weights.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO / "src"))

from aidqa.qa.analysis import analyse  # noqa: E402
from aidqa.qa.answerers.extractive import SCORE_FEATURES, ExtractiveAnswerer, score_weights  # noqa: E402
from aidqa.qa.assistant import Assistant  # noqa: E402
from aidqa.retrieval.hybrid import HybridSearcher  # noqa: E402
from aidqa.settings import AnsweringSettings, Settings  # noqa: E402
from aidqa.zh.chars import fold_for_match  # noqa: E402

logger = logging.getLogger("fit_answerer")

# The settings each weight lives in, in SCORE_FEATURES order; "no_number" is stored as a penalty (its negation).
SETTING_OF = {"terms": "weight_terms", "focus": "weight_focus", "bigrams": "weight_bigrams", "dense": "weight_dense", "rank": "weight_rank",
              "number": "number_bonus", "no_number": "no_number_penalty", "unit": "unit_bonus",
              "measure_phrase": "measure_phrase_bonus", "definition": "definition_bonus", "cue": "cue_bonus",
              "chars": "weight_chars"}
# The features every sentence has (the rest are flags for some kinds of question).
BASE_FEATURES = ("terms", "focus", "bigrams", "dense", "rank", "chars")
GENERATED_PER_REPORT = 60
MAX_NEGATIVES = 20


@dataclass
class Question:
    text: str
    evidence: list[str] = field(default_factory=list)  # strings one of which the answering sentence holds
    span: tuple[str, int] | None = None  # or: (source, offset) the answering sentence covers
    origin: str = "written"  # written | generated | cmrc


@dataclass
class Sample:
    group: str
    origin: str
    features: np.ndarray  # candidates × features
    positive: np.ndarray  # bool per candidate


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", fold_for_match(text))


def _written(path: Path) -> list[Question]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        if item.get("type") in ("unanswerable", "followup") or not item.get("must"):
            continue
        evidence = [item["evidence"]] if item.get("evidence") else []
        out.append(Question(item["question"], evidence or ["".join(item["must"])]))
    return out


def _generated(assistant: Assistant) -> list[Question]:
    """Questions from the report's own figures: "<measures>是多少？", answered by the figure's sentence."""
    figures = [f for f in assistant.figures() if f.kind == "amount" and len(f.measures) >= 4]
    step = max(1, len(figures) // GENERATED_PER_REPORT)
    return [Question(f"{f.measures}是多少？", span=(f.source, f.start), origin="generated") for f in figures[::step]]


def _corpora(work: Path, cmrc: bool) -> list[tuple[str, Path, list[Path]]]:
    """(group, corpus folder, question files) for every corpus, written under ``work``."""
    groups = [("seed", REPO / "docs_corpus", [REPO / "tests/data/dev.jsonl", REPO / "tests/data/holdout.jsonl"])]
    for questions in sorted((REPO / "tests/data/reports").glob("*.jsonl")):
        reports = sorted(p for p in (SHARED / "dev-reports").glob(questions.stem + ".*") if p.suffix != ".jsonl")
        if not reports:
            logger.warning("no report for %s", questions.name)
            continue
        corpus = work / questions.stem / "corpus"
        if not corpus.exists():
            corpus.mkdir(parents=True)
            shutil.copy(reports[0], corpus / reports[0].name)
        groups.append((questions.stem, corpus, [questions]))
    if cmrc:
        corpus = work / "cmrc" / "corpus"
        if not corpus.exists():
            corpus.mkdir(parents=True)
            for doc in json.loads((SHARED / "data/cmrc2018/cmrc2018_trial.json").read_text(encoding="utf-8"))["data"]:
                for para in doc["paragraphs"]:
                    (corpus / f"{para['id']}.txt").write_text(f"{doc.get('title', '')}\n\n{para['context']}\n",
                                                              encoding="utf-8")
        groups.append(("cmrc", corpus, []))
    return groups


def _cmrc_questions() -> list[Question]:
    data = json.loads((SHARED / "data/cmrc2018/cmrc2018_trial.json").read_text(encoding="utf-8"))["data"]
    return [Question(qa["question"], [a["text"] for a in qa["answers"]], origin="cmrc")
            for doc in data for para in doc["paragraphs"] for qa in para["qas"]]


def collect(work: Path, cmrc: bool, generated: bool) -> list[Sample]:
    samples: list[Sample] = []
    for group, corpus, files in _corpora(work, cmrc):
        index_dir = (work / group / "index") if group != "seed" else (work / "seed-index")
        settings = Settings(corpus_dir=corpus, index_dir=index_dir)
        assistant = Assistant(settings)
        index = assistant.ensure_ready()
        searcher = HybridSearcher(index, assistant.embeddings, settings.retrieval)
        answerer = ExtractiveAnswerer(index, assistant.embeddings, settings.answering)
        questions = [q for f in files for q in _written(f)]
        if group == "cmrc":
            questions = _cmrc_questions()
        elif generated:
            questions += _generated(assistant)
        kept = 0
        for question in questions:
            analysis = analyse(question.text, "zh", index.keywords.lexicon)
            vector = assistant.embeddings.embed_queries([question.text])[0]
            hits = searcher.search(question.text, settings.top_k, query_vector=vector.tolist())
            ranked = answerer.ranked_candidates(analysis, hits, vector)
            if not ranked:
                continue
            if question.span:
                source, at = question.span
                positive = np.array([c.source == source and c.start <= at < c.end for c in ranked])
            else:
                wanted = [_squash(e) for e in question.evidence if e.strip()]
                positive = np.array([any(w in _squash(c.text) or _squash(c.text) in w for w in wanted
                                         if len(_squash(c.text)) >= 4) for c in ranked])
            samples.append(Sample(group, question.origin, np.stack([c.features for c in ranked]), positive))
            kept += 1
        logger.info("%s: %d questions, %d with candidates", group, len(questions), kept)
    return samples


def top1(samples: list[Sample], weights: np.ndarray) -> tuple[float, int]:
    """Share of questions (with evidence among the candidates) whose best-scored candidate holds it."""
    usable = [s for s in samples if s.positive.any()]
    hits = sum(bool(s.positive[int(np.argmax(s.features @ weights))]) for s in usable)
    return hits / max(1, len(usable)), len(usable)


def fit_all(samples: list[Sample]) -> np.ndarray:
    """Pairwise logistic regression (no intercept): evidence sentence minus each other candidate → 1, and the
    reverse → 0; every question weighs the same however many candidates it has."""
    from sklearn.linear_model import LogisticRegression

    rows, labels, weights = [], [], []
    for s in samples:
        if not s.positive.any() or s.positive.all():
            continue
        pos = s.features[s.positive]
        neg = s.features[~s.positive][:MAX_NEGATIVES]
        diffs = (pos[:, None, :] - neg[None, :, :]).reshape(-1, pos.shape[1])
        rows += [diffs, -diffs]
        labels += [np.ones(len(diffs)), np.zeros(len(diffs))]
        weights += [np.full(2 * len(diffs), 1.0 / (2 * len(diffs)))]
    model = LogisticRegression(fit_intercept=False, C=1.0, max_iter=1000)
    model.fit(np.concatenate(rows), np.concatenate(labels), sample_weight=np.concatenate(weights))
    coef = model.coef_[0]
    # Scores are compared as ratios (support_margin, companion_ratio), so only the direction matters: scale the
    # base weights to sum to 1, as the settings do. A flag can only add (or, no_number, subtract) in settings.
    base = coef[[SCORE_FEATURES.index(f) for f in BASE_FEATURES]].clip(min=0)
    coef = coef / (base.sum() or 1.0)
    signs = np.array([-1 if name == "no_number" else 1 for name in SCORE_FEATURES])
    return np.where(signs * coef < 0, 0.0, coef)


GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0)


def fit_some(samples: list[Sample], current: np.ndarray, features: list[str]) -> np.ndarray:
    """``current`` with only ``features``' weights fitted, the others held: how a new feature joins weights that
    earlier fits and measurements settled, without moving them. A grid search for the best top-1, averaged over the
    groups (each report and CMRC count the same, so the thousand CMRC questions do not outvote the reports); the
    smallest weights win a tie. (The pairwise logistic loss of ``fit_all`` runs a flag that is rare but nearly always
    right to its bound without changing a single top-1.)"""
    import itertools

    ks = [SCORE_FEATURES.index(f) for f in features]
    groups = sorted({s.group for s in samples})
    best, best_score = current.copy(), -1.0
    for values in itertools.product(GRID, repeat=len(ks)):
        trial = current.copy()
        trial[ks] = values
        score = float(np.mean([top1([s for s in samples if s.group == g], trial)[0] for g in groups]))
        if score > best_score + 1e-9:
            best, best_score = trial, score
    return best


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("aidqa").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/aidqa-fit"), help="where corpora and indexes are kept")
    parser.add_argument("--write", action="store_true", help="write the all-groups weights into settings.py")
    parser.add_argument("--no-cmrc", action="store_true", help="leave the CMRC supplement out")
    parser.add_argument("--no-generated", action="store_true", help="leave the generated figure questions out")
    parser.add_argument("--only", nargs="+", choices=SCORE_FEATURES, metavar="FEATURE",
                        help="fit these features' weights alone, the others held")
    args = parser.parse_args()
    samples = collect(args.work, cmrc=not args.no_cmrc, generated=not args.no_generated)
    current = score_weights(AnsweringSettings())

    def fit(chosen: list[Sample]) -> np.ndarray:
        return fit_some(chosen, current, args.only) if args.only else fit_all(chosen)

    fitted = fit(samples)
    groups = sorted({s.group for s in samples}, key=lambda g: (g == "cmrc", g != "seed", g))
    print("Top-1: share of questions whose best-scored candidate holds the evidence, among the n whose evidence is")
    print("among the candidates at all (\"reached\": that n over all questions of the group — the retrieval cap).\n")
    print("| group | questions | reached | n | current | fitted on the other groups | fitted on all |")
    print("|---|---|---|---|---|---|---|")
    for group in groups:
        inside = [s for s in samples if s.group == group]
        held_out = fit([s for s in samples if s.group != group])
        (cur, n), (loo, _), (all_, _) = top1(inside, current), top1(inside, held_out), top1(inside, fitted)
        print(f"| {group} | {len(inside)} | {n / len(inside):.3f} | {n} | {cur:.3f} | {loo:.3f} | {all_:.3f} |")
    for origin in ("written", "generated", "cmrc"):
        part = [s for s in samples if s.origin == origin]
        if part:
            (cur, n), (all_, _) = top1(part, current), top1(part, fitted)
            print(f"| all {origin} | {len(part)} | {n / len(part):.3f} | {n} | {cur:.3f} | | {all_:.3f} |")
    print()
    print("| feature | setting | current | fitted |")
    print("|---|---|---|---|")
    for name, cur, new in zip(SCORE_FEATURES, current, fitted):
        print(f"| {name} | {SETTING_OF[name]} | {cur:.3f} | {new:.3f} |")
    if args.write:
        _write(fitted, args.only)
    return 0


def _write(weights: np.ndarray, only: list[str] | None = None) -> None:
    path = REPO / "src/aidqa/settings.py"
    text = path.read_text(encoding="utf-8")
    for name, value in zip(SCORE_FEATURES, weights):
        if only and name not in only:
            continue
        setting = SETTING_OF[name]
        value = -value if name == "no_number" else value
        text, n = re.subn(rf"(    {setting}: float = Field\()[-0-9.e]+", rf"\g<1>{round(float(value), 3)}", text)
        if n != 1:
            raise SystemExit(f"cannot find the default of {setting} in {path}")
    path.write_text(text, encoding="utf-8")
    logger.info("wrote the fitted weights into %s", path)


if __name__ == "__main__":
    sys.exit(main())
