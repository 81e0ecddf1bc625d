"""Fit ``answering.title_word_min_share``: when does a word of some report's title name that report?

    .venv/bin/python scripts/title_words.py [--work DIR] [--shared ../shared]

A question word that stands in a report's title rules out, for the answer, every report that never uses the word
(aidqa.qa.scope). That is right for a place name (周口 in 《2023年周口市…公报》 asked of a corpus that also holds
黔东南's communiqué) and wrong for ordinary vocabulary that happens to be in one title (语言 in 《西班牙语言》, when the
article that answers 会讲哪些语言？ lists 法语、英语 without the word). What tells them apart is how many of the reports
using the word have it in their title.

One corpus, indexed once: the 256 CMRC 2018 trial passages (each a report titled by its article), the shared dev
reports and the seed report. For every question of the CMRC trial set, the dev-report sets and the seed dev sets,
each question word found in some title is labelled:

- **harmful** when the question's own report never uses it (the rule would rule the answer out);
- **useful** when its report uses it and some other report does not (the rule narrows the search correctly).

Prints the share (titled reports / reports using the word) of each label, and the thresholds that keep every useful
word while dropping harmful ones.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "scripts"))

from eval_cmrc import passages, write_corpus  # noqa: E402

from aidqa.qa.assistant import Assistant  # noqa: E402
from aidqa.qa.scope import ReportScope, question_words  # noqa: E402
from aidqa.settings import Settings  # noqa: E402

logger = logging.getLogger("title_words")
SEED = "tianjin-huangnan-report.txt"


def questions(shared: Path, corpus: Path) -> list[tuple[str, str, str]]:
    """(set, question, the file name of its report) for every question whose report is in ``corpus``."""
    out = [("cmrc", qa["question"], f"{p['id']}.txt")
           for p in passages(shared / "data" / "cmrc2018" / "cmrc2018_trial.json") for qa in p["qas"]
           if qa["question"].strip()]
    for path in sorted((REPO / "tests" / "data" / "reports").glob("*.jsonl")):
        report = next((p.name for p in sorted(corpus.glob(path.stem + ".*"))), None)
        if report:
            out += [("reports", json.loads(line)["question"], report)
                    for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for name in ("dev.jsonl", "holdout.jsonl"):
        lines = (REPO / "tests" / "data" / name).read_text(encoding="utf-8").splitlines()
        out += [("seed", json.loads(line)["question"], SEED) for line in lines if line.strip()]
    return out


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/aidqa-title-words"), help="corpus and index go here")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args()
    corpus = args.work / "corpus"
    write_corpus(corpus, passages(args.shared / "data" / "cmrc2018" / "cmrc2018_trial.json"))
    for questions_file in sorted((REPO / "tests" / "data" / "reports").glob("*.jsonl")):
        reports = sorted(p for p in (args.shared / "dev-reports").glob(questions_file.stem + ".*"))
        if reports:
            shutil.copy(reports[0], corpus / reports[0].name)
    shutil.copy(REPO / "docs_corpus" / SEED, corpus / SEED)
    assistant = Assistant(Settings(corpus_dir=corpus, index_dir=args.work / "index"))
    scope = ReportScope(assistant.ensure_ready())
    shares: dict[tuple[str, str], list[float]] = defaultdict(list)
    examples: dict[tuple[str, str], list[str]] = defaultdict(list)
    for set_name, question, report in questions(args.shared, corpus):
        for word in question_words(question):
            share = scope.title_word_share(word)
            if share is None:
                continue
            holding = scope.reports_holding(word)
            if report not in holding:
                label = "harmful"
            elif len(holding) < len(scope.ids):
                label = "useful"
            else:
                continue
            shares[set_name, label].append(share)
            examples[set_name, label].append(f"{word} {share:.2f}")
    print(f"{len(scope.ids)} reports; question words that stand in some title, by set and label:")
    print("| set | label | n | share min | share max | examples |")
    print("|---|---|---|---|---|---|")
    for (set_name, label), values in sorted(shares.items()):
        print(f"| {set_name} | {label} | {len(values)} | {min(values):.2f} | {max(values):.2f} | "
              f"{', '.join(sorted(set(examples[set_name, label]))[:8])} |")
    print("| threshold | useful kept | harmful kept |")
    print("|---|---|---|")
    useful = [s for (_, label), v in shares.items() if label == "useful" for s in v]
    harmful = [s for (_, label), v in shares.items() if label == "harmful" for s in v]
    for threshold in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        print(f"| {threshold:.1f} | {sum(s >= threshold for s in useful)} / {len(useful)} | "
              f"{sum(s >= threshold for s in harmful)} / {len(harmful)} |")
    safe = [t / 100 for t in range(101) if not any(s >= t / 100 for s in harmful)]
    if safe:
        print(f"every threshold from {safe[0]:.2f} drops all {len(harmful)} harmful words")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
