"""Benchmark (not a test): in one run, on one corpus, with the real packaged model —

* index build throughput end to end (chunks/s) and the embedding floor (the same chunks embedded alone);
* `ask` latency p50/p95 over the dev set, the bare dense lookup p50 (question embedding + Chroma top 5) and
  their ratio (how far answering is above the floor);
* cold start: `aidqa ask` in a fresh process with the index on disk, and `aidqa serve` until /api/health says
  ready; plus this process's import and model-load times and peak RSS.

Prints figures; asserts nothing. On a shared machine the absolute figures move with the load; the ratios of
figures taken in the same run are steadier.

    .venv/bin/python scripts/benchmark.py [--corpus DIR] [--repeat N] [--cold-runs N] [--no-processes]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(corpus: Path, index_dir: Path) -> dict[str, str]:
    env = {**os.environ, "AIDQA_CORPUS_DIR": str(corpus), "AIDQA_INDEX_DIR": str(index_dir)}
    src = str(REPO / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def cold_ask_seconds(env: dict[str, str], question: str) -> float:
    """Wall time of `aidqa ask QUESTION` in a new process, the index already built."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "aidqa.cli", "ask", question], env=env, check=True, capture_output=True,
                   timeout=600)
    return time.perf_counter() - t


def server_ready_seconds(env: dict[str, str], timeout: float = 300) -> float:
    """Seconds from starting `aidqa serve` until GET /api/health answers 200 (the index loaded and probed)."""
    port = free_port()
    t = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "aidqa.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - t < timeout:
            if server.poll() is not None:
                raise RuntimeError("aidqa serve exited")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - t
            except OSError:
                pass
            time.sleep(0.05)  # polling the server until it answers
        raise RuntimeError(f"aidqa serve was not ready within {timeout} s")
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO / "docs_corpus", help="reports to index")
    parser.add_argument("--repeat", type=int, default=1, help="times to ask the whole dev set")
    parser.add_argument("--dev-set", type=Path, default=REPO / "tests" / "data" / "dev.jsonl")
    parser.add_argument("--cold-runs", type=int, default=3, help="fresh `aidqa ask` processes to time")
    parser.add_argument("--no-processes", action="store_true", help="skip the cold `aidqa ask` and `aidqa serve`")
    args = parser.parse_args()

    t = time.perf_counter()
    from aidqa import Assistant
    from aidqa.settings import Settings

    import_s = time.perf_counter() - t
    questions = [json.loads(line)["question"] for line in args.dev_set.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        assistant = Assistant(Settings(corpus_dir=args.corpus, index_dir=index_dir))
        t = time.perf_counter()
        assistant.embeddings.embed_queries(["加载模型"])  # the weights load lazily, on the first encode
        model_s = time.perf_counter() - t
        t = time.perf_counter()
        index = assistant.ensure_ready()
        build_s = time.perf_counter() - t
        n_chunks, n_sentences = len(index.chunks), len(index.sentences)
        texts = [c.text for c in index.chunks]
        t = time.perf_counter()
        assistant.embeddings.embed_passages(texts)
        embed_s = time.perf_counter() - t
        t = time.perf_counter()
        second = Assistant(assistant.settings)  # a restart in-process: model + the index already on disk
        second.embeddings.embed_queries(["加载模型"])
        second.ensure_ready()
        reload_s = time.perf_counter() - t

        assistant.ask(questions[0])  # warm-up (jieba dictionaries, first query)
        asks, dense = [], []
        store = index.vectorstore
        for _ in range(args.repeat):
            for q in questions:
                t = time.perf_counter()
                assistant.ask(q)
                asks.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                store.similarity_search_by_vector_with_relevance_scores(assistant.embeddings.embed_query(q), k=5)
                dense.append((time.perf_counter() - t) * 1000)

        cold, ready = [], None
        if not args.no_processes:
            env = child_env(args.corpus, index_dir)
            cold = [cold_ask_seconds(env, questions[0]) for _ in range(args.cold_runs)]
            ready = server_ready_seconds(env)

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}; "
          f"corpus {args.corpus}: {len(index.documents)} file(s), {n_chunks} chunks")
    print(f"import aidqa:                    {import_s:8.2f} s")
    print(f"embedding model load:            {model_s:8.2f} s")
    print(f"index build (fresh):             {build_s:8.2f} s  = {n_chunks / build_s:7.1f} chunks/s end to end")
    print(f"embedding alone (same chunks):   {embed_s:8.2f} s  = {n_chunks / embed_s:7.1f} chunks/s (the floor)")
    print(f"sentence vectors built:          {n_sentences:8d}     (the answerer's candidates, embedded with the index)")
    print(f"restart in-process:              {reload_s:8.2f} s  (new Assistant: model + index load)")
    if cold:
        print(f"cold start `aidqa ask` (n={len(cold)}):    median {statistics.median(cold):6.2f} s, "
              f"max {max(cold):.2f} s (new process, index on disk)")
        print(f"`aidqa serve` ready:             {ready:8.2f} s  (start → /api/health 200)")
    ask50, dense50 = statistics.median(asks), statistics.median(dense)
    print(f"questions asked:                 {len(asks):8d}")
    print(f"ask p50 / p95:                   {ask50:8.1f} / {p(asks, 95):.1f} ms")
    print(f"dense lookup p50 / p95:          {dense50:8.1f} / {p(dense, 95):.1f} ms  (question embedding + top 5)")
    print(f"ask p50 / dense lookup p50:      {ask50 / dense50:8.1f} x")
    print(f"peak RSS:                        {peak_rss_mb():8.0f} MB")


if __name__ == "__main__":
    main()
