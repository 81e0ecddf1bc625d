"""API latency (not a test): starts the real web app (uvicorn in a thread, loopback, a free port), waits for
/api/health to say ready, then POSTs every dev-set question (with its history) to /api/ask one after another and
prints the wall-clock latency per request (count, median, p95, max) and the process's peak RSS. Asserts nothing.

    .venv/bin/python scripts/api_latency.py [--repeat N] [--index-dir DIR]

By default the index is built in a temporary folder, so the figures include nothing cached from earlier runs
except the model files themselves.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

from aidqa.eval.scoring import percentile

REPO = Path(__file__).resolve().parent.parent



def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1, help="times to ask the whole dev set")
    parser.add_argument("--dev-set", type=Path, default=REPO / "tests" / "data" / "dev.jsonl")
    parser.add_argument("--index-dir", type=Path, default=None, help="reuse this index folder (default: a fresh temp dir)")
    args = parser.parse_args()

    import httpx
    import uvicorn

    from aidqa.settings import Settings
    from aidqa.web.app import create_app

    items = [json.loads(line) for line in args.dev_set.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(corpus_dir=REPO / "docs_corpus", index_dir=args.index_dir or Path(tmp) / "index")
        port = free_port()
        t0 = time.perf_counter()
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                               timeout_graceful_shutdown=5))
        thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{port}"
        try:
            while not server.started:
                if not thread.is_alive():
                    raise SystemExit("the server did not start")
                time.sleep(0.02)
            listening_s = time.perf_counter() - t0
            with httpx.Client(base_url=base, timeout=300) as http:
                first = http.get("/api/health")
                first_health = f"{first.status_code} {first.json()['status']}"
                while (health := http.get("/api/health")).status_code != 200:
                    if health.json()["status"] == "error":
                        raise SystemExit(f"the index failed to load: {health.json()['message']}")
                    time.sleep(0.05)
                ready_s = time.perf_counter() - t0
                http.post("/api/ask", json={"question": items[0]["question"]}).raise_for_status()  # warm-up

                latencies: list[float] = []
                server_ms: list[float] = []  # the assistant's own timings_ms.total, to separate HTTP overhead
                statuses: dict[int, int] = {}
                for _ in range(args.repeat):
                    for item in items:
                        body = {"question": item["question"]}
                        if item.get("history"):
                            body["history"] = item["history"]
                        t = time.perf_counter()
                        r = http.post("/api/ask", json=body)
                        latencies.append((time.perf_counter() - t) * 1000)
                        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                        if r.status_code == 200:
                            server_ms.append(r.json()["timings_ms"]["total"])
        finally:
            server.should_exit = True
            thread.join(30)

    print(f"server listening after        {listening_s:8.2f} s (first /api/health: {first_health})")
    print(f"index ready (health 200) after {ready_s:8.2f} s")
    print(f"POST /api/ask requests         {len(latencies):8d} (HTTP status counts: {dict(sorted(statuses.items()))})")
    print(f"latency median                 {statistics.median(latencies):8.1f} ms")
    print(f"latency p95                    {percentile(latencies, 95):8.1f} ms")
    print(f"latency max                    {max(latencies):8.1f} ms")
    if server_ms:
        print(f"assistant.ask alone (median)   {statistics.median(server_ms):8.1f} ms (Answer.timings_ms.total)")
    print(f"peak RSS (whole process)       {peak_rss_mb():8.0f} MB")


if __name__ == "__main__":
    main()
