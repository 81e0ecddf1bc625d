"""Measure the assistant on the shared dev reports, one report per corpus, and print one row per set with its n.

    .venv/bin/python scripts/eval_reports.py [--shared ../shared/dev-reports] [--sets DIR] [--set KEY=VALUE ...]
                                             [--together]

Each question set in tests/data/reports/<stem>.jsonl belongs to the report ../shared/dev-reports/<stem>.<ext>;
``--sets tests/data/reports_en`` asks the English versions of the same questions instead (``reports_probe`` and
``reports_terse`` hold smaller sets written by hand, see their README); ``--also FILE`` asks a set
of every report as well (tests/data/offtopic_en.jsonl: questions no report answers).
Each report is indexed alone, in a temporary folder, and scored with `aidqa eval --json`. With ``--together`` all
the reports and the seed report go into one corpus, indexed once, and every set (the seed's two dev sets too) is
asked of it: what a user with many reports gets, where a question that does not name its report competes with the
others. These are dev sets: they were written on reports the code was not developed on, but any tuning against them
makes them dev sets too.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SETS = REPO / "tests" / "data" / "reports"
SEED = REPO / "docs_corpus" / "tianjin-huangnan-report.txt"
logger = logging.getLogger("eval_reports")


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "dev-reports")
    parser.add_argument("--sets", type=Path, default=SETS, help="the folder of question sets, <report stem>.jsonl")
    parser.add_argument("--set", action="append", default=[], help="a setting override, passed to aidqa eval")
    parser.add_argument("--top-k", type=int, default=5, help="passages retrieved per question (aidqa eval --top-k)")
    parser.add_argument("--json-dir", type=Path, help="also keep each set's full `aidqa eval --json` output here")
    parser.add_argument("--also", type=Path, action="append", default=[],
                        help="a question set asked of every report as well (tests/data/offtopic_en.jsonl)")
    parser.add_argument("--together", action="store_true",
                        help="one corpus of all the reports and the seed report; every set asked of it")
    args = parser.parse_args()
    pairs = []
    for questions in sorted(args.sets.glob("*.jsonl")):
        reports = sorted(p for p in args.shared.glob(questions.stem + ".*") if p.suffix != ".jsonl")
        if not reports:
            logger.warning("no report for %s in %s", questions.name, args.shared)
            continue
        pairs.append((questions, reports[0]))
        if not args.together:
            pairs += [(also, reports[0]) for also in args.also]
    if args.together:
        pairs += [(REPO / "tests" / "data" / name, SEED) for name in ("dev.jsonl", "holdout.jsonl")]
        pairs += [(also, SEED) for also in args.also]  # one corpus: asked once
    rows = []
    with tempfile.TemporaryDirectory(prefix="aidqa-eval-reports-") as tmp:
        if args.together:
            corpus = Path(tmp) / "all" / "corpus"
            corpus.mkdir(parents=True)
            for report in {report for _, report in pairs}:  # the seed report serves two sets
                shutil.copy(report, corpus / report.name)
            together = {**os.environ, "AIDQA_CORPUS_DIR": str(corpus), "AIDQA_INDEX_DIR": str(corpus.parent / "index")}
            subprocess.run([sys.executable, "-m", "aidqa.cli", "index"], env=together, capture_output=True, check=True)
        for questions, report in pairs:
            if args.together:
                env = together
            else:
                corpus = Path(tmp) / report.stem / "corpus"
                if not corpus.is_dir():  # a report's own set and the --also sets share its index
                    corpus.mkdir(parents=True)
                    shutil.copy(report, corpus / report.name)
                env = {**os.environ, "AIDQA_CORPUS_DIR": str(corpus), "AIDQA_INDEX_DIR": str(corpus.parent / "index")}
            command = [sys.executable, "-m", "aidqa.cli", "eval", "--json", str(questions)]
            command += [f"--set={s}" for s in args.set] + [f"--top-k={args.top_k}"]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode not in (0, 3):
                logger.error("%s: aidqa eval exited %d: %s", questions.stem, done.returncode, done.stderr[-500:])
                continue
            run = json.loads(done.stdout)["runs"][0]
            own = questions.stem == report.stem or args.together
            if args.json_dir:
                args.json_dir.mkdir(parents=True, exist_ok=True)
                file = f"{questions.stem}.json" if own else f"{questions.stem}-{report.stem}.json"
                (args.json_dir / file).write_text(done.stdout, encoding="utf-8")
            name = questions.stem if own else f"{questions.stem} on {report.stem}"
            rows.append((name, report.suffix, run["overall"], run["per_type"]))
    header = ("| set | format | n | answerable | answer | citation | refusal P / R | ungrounded | stated figure (n) "
              "| R@5 |")
    lines = [header, "|" + "---|" * 10]
    by_type: dict[str, list[int]] = {}
    for stem, suffix, o, per_type in rows:
        for kind, m in per_type.items():
            if m.get("answer_accuracy") is not None:
                counts = by_type.setdefault(kind, [0, 0])
                counts[0] += round(m["answer_accuracy"] * m["answerable"])
                counts[1] += m["answerable"]
        lines.append(f"| {stem} | {suffix} | {o['n']} | {o['answerable']} | {_rate(o['answer_accuracy'])} | "
                     f"{_rate(o['citation_accuracy'])} | {_rate(o['refusal_precision'])} / {_rate(o['refusal_recall'])} | "
                     f"{_rate(o['ungrounded_rate'])} | {_rate(o.get('figure_stated_accuracy'))} ({o.get('figures_stated', 0)}) | "
                     f"{_rate(o.get('recall_at_5'))} |")
    lines += ["", "| type (all sets) | answered correctly | n answerable |", "|---|---|---|"]
    lines += [f"| {kind} | {ok / n:.2f} | {n} |" for kind, (ok, n) in sorted(by_type.items()) if n]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
