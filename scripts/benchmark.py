"""Benchmark (not a test): index build time, model load time, per-question latency (median, p95) over the dev
set, and peak RSS. Prints figures; asserts nothing.

    .venv/bin/python scripts/benchmark.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent



def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1, help="times to ask the whole dev set")
    parser.add_argument("--dev-set", type=Path, default=REPO / "tests" / "data" / "dev.jsonl")
    args = parser.parse_args()

    t = time.perf_counter()
    from aidqa import Assistant
    from aidqa.settings import Settings

    import_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        assistant = Assistant(Settings(corpus_dir=REPO / "docs_corpus", index_dir=Path(tmp) / "index"))
        t = time.perf_counter()
        assistant.embeddings.embed_queries(["加载模型"])  # the weights load lazily, on the first encode
        model_s = time.perf_counter() - t
        t = time.perf_counter()
        index = assistant.ensure_ready()
        build_s = time.perf_counter() - t
        t = time.perf_counter()
        second = Assistant(assistant.settings)  # a restart: model + the index already on disk
        second.embeddings.embed_queries(["加载模型"])
        second.ensure_ready()
        reload_s = time.perf_counter() - t

        questions = [json.loads(line)["question"] for line in args.dev_set.read_text(encoding="utf-8").splitlines() if line.strip()]
        assistant.ask(questions[0])  # warm-up (jieba dictionaries, first query)
        latencies = []
        for _ in range(args.repeat):
            for q in questions:
                t = time.perf_counter()
                assistant.ask(q)
                latencies.append((time.perf_counter() - t) * 1000)

    print(f"python {sys.version.split()[0]}, corpus: {len(index.documents)} file(s), {len(index.chunks)} chunks")
    print(f"import aidqa:              {import_s:8.2f} s")
    print(f"embedding model load:      {model_s:8.2f} s")
    print(f"index build (fresh):       {build_s:8.2f} s")
    print(f"cold start, existing index:{reload_s:8.2f} s  (second Assistant: model load + index load)")
    print(f"questions asked:           {len(latencies):8d}")
    from aidqa.eval.scoring import percentile

    print(f"latency median:            {statistics.median(latencies):8.1f} ms")
    print(f"latency p95:               {percentile(latencies, 95):8.1f} ms")
    print(f"latency max:               {max(latencies):8.1f} ms")
    print(f"peak RSS:                  {peak_rss_mb():8.0f} MB")


if __name__ == "__main__":
    main()
