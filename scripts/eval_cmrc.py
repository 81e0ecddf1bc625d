"""Measure the assistant on the CMRC 2018 trial set: is the answer span in the answer, and are questions refused when
their passage is not in the corpus?

    .venv/bin/python scripts/eval_cmrc.py [--work DIR] [--removed-every K] [--set KEY=VALUE ...] [--json FILE]

CMRC 2018 (../shared/data/cmrc2018, CC BY-SA 4.0) holds 256 Wikipedia passages and 1,002 human questions, each
answered by a span of its passage. Two corpora, each indexed like `aidqa index` would:

- **full**: every passage is a report of its own (its article title, then the passage). Every question is asked;
  "span in answer" is the share whose answer text holds one of the question's answer spans (compared with
  whitespace, width and case folded), "span cited" the share whose cited quotes hold one.
- **removed**: every K-th passage (deterministic, by position) is left out of the corpus and the questions on it
  are asked: the corpus still holds the other passages of the same article (the topic neighbours), but not the
  answer. "refused" is the share refused; anything else states something that is not the answer.

Two trial questions are empty strings and are left out (the assistant refuses an empty question with an error).
Not a test and not a report set: Wikipedia passages with one-sentence answers, few figures. Answer rules have been
measured on it since 2026-12-06 (docs/evaluation.md), so it is a dev set like the others. Prints one row per measure
with its n.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO / "src"))

from aidqa.eval.runner import settings_with_overrides  # noqa: E402
from aidqa.eval.scoring import percentile  # noqa: E402
from aidqa.qa.assistant import Assistant  # noqa: E402
from aidqa.settings import Settings  # noqa: E402
from aidqa.zh.chars import fold_for_match  # noqa: E402

logger = logging.getLogger("eval_cmrc")
DATA = SHARED / "data" / "cmrc2018" / "cmrc2018_trial.json"


def passages(data_file: Path) -> list[dict]:
    """Every passage with its article title and its questions, in file order."""
    data = json.loads(data_file.read_text(encoding="utf-8"))["data"]
    return [{"id": para["id"], "title": doc.get("title", ""), "context": para["context"], "qas": para["qas"]}
            for doc in data for para in doc["paragraphs"]]


def write_corpus(folder: Path, kept: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt"):
        old.unlink()
    for p in kept:
        (folder / f"{p['id']}.txt").write_text(f"{p['title']}\n\n{p['context']}\n", encoding="utf-8")


def ask_all(assistant: Assistant, items: list[dict]) -> list[dict]:
    """Each question's outcome: refused, span in the answer, span in a cited quote, latency."""
    out = []
    for qa in items:
        if not qa["question"].strip():  # two questions of the trial set are empty strings
            continue
        spans = [fold_for_match(a["text"]) for a in qa["answers"] if a["text"].strip()]
        t0 = time.perf_counter()
        answer = assistant.ask(qa["question"])
        ms = (time.perf_counter() - t0) * 1000
        text = fold_for_match(answer.answer)
        quotes = fold_for_match(" ".join(c.quote for c in answer.citations))
        out.append({"id": qa["id"], "question": qa["question"], "answer": answer.answer, "refused": answer.refused, "span_in_answer": any(s in text for s in spans),
                    "span_cited": any(s in quotes for s in spans), "ms": ms})
    return out


def share(rows: list[dict], key: str) -> float:
    return sum(r[key] for r in rows) / len(rows) if rows else 0.0


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/aidqa-cmrc"), help="corpora and indexes go here")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--removed-every", type=int, default=4, help="leave out every K-th passage (removed set)")
    parser.add_argument("--set", action="append", default=[], help="a setting override KEY=VALUE (as aidqa eval --set)")
    parser.add_argument("--json", type=Path, help="also write every question's outcome here")
    args = parser.parse_args()
    if not args.data.is_file():
        logger.error("CMRC 2018 trial set not found: %s", args.data)
        return 2
    all_passages = passages(args.data)
    removed = all_passages[:: args.removed_every]
    removed_ids = {p["id"] for p in removed}
    results: dict[str, list[dict]] = {}
    for name, kept, asked in (("full", all_passages, all_passages),
                              ("removed", [p for p in all_passages if p["id"] not in removed_ids], removed)):
        corpus = args.work / name / "corpus"
        write_corpus(corpus, kept)
        settings, _ = settings_with_overrides(Settings(corpus_dir=corpus, index_dir=args.work / name / "index"), args.set)
        assistant = Assistant(settings)
        assistant.ensure_ready()
        results[name] = ask_all(assistant, [qa for p in asked for qa in p["qas"]])
        logger.info("%s: %d passages indexed, %d questions asked", name, len(kept), len(results[name]))

    full, gone = results["full"], results["removed"]
    latencies = [r["ms"] for r in full]
    print(f"CMRC 2018 trial ({args.data.name}): {len(all_passages)} passages; removed set: every "
          f"{args.removed_every}th passage ({len(removed)}) left out; overrides: {args.set or 'none'}")
    print("| corpus | measure | value | n |")
    print("|---|---|---|---|")
    print(f"| full | span in answer | {share(full, 'span_in_answer'):.3f} | {len(full)} |")
    print(f"| full | span in a cited quote | {share(full, 'span_cited'):.3f} | {len(full)} |")
    print(f"| full | refused | {share(full, 'refused'):.3f} | {len(full)} |")
    print(f"| removed | refused (passage not in the corpus) | {share(gone, 'refused'):.3f} | {len(gone)} |")
    print(f"| full | ask p50 / p95 ms | {percentile(latencies, 50):.0f} / {percentile(latencies, 95):.0f} | "
          f"{len(full)} |")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
