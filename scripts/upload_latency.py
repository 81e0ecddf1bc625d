"""Corpus management timings (not a test): starts the real web app (uvicorn in a thread, loopback, a free port) on a
temporary corpus holding the seed report, with an administrator, then uploads each shared dev report through
POST /api/documents, polls its job until it is done, and deletes it again. Prints, per report and action: the
request's wall-clock time (the checks and the write), the time until the job is done (the incremental build and
the swap), and the passages embedded and reused; then the process's peak RSS. Asserts nothing.

    .venv/bin/python scripts/upload_latency.py [--repeat N] [--reports DIR]

The reports are read from ../shared/dev-reports/ (their licences do not all allow copying them into the repository).
"""

from __future__ import annotations

import argparse
import base64
import resource
import shutil
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "docs_corpus" / "tianjin-huangnan-report.txt"
REPORTS = ("sichuan-2026-government-work-report.txt", "nuclear-psr-part1-standard-draft-2023.docx",
           "zhoukou-2023-statistical-communique.pdf", "fuxiang-pharma-2024-esg-report.md")
ADMIN = {"Authorization": "Basic " + base64.b64encode(b"bench:bench-pw").decode()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_job(http, job_id: str) -> dict:
    while True:
        job = http.get(f"/api/documents/jobs/{job_id}", headers=ADMIN).json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1, help="times to upload and delete every report")
    parser.add_argument("--reports", type=Path, default=REPO.parent / "shared" / "dev-reports")
    args = parser.parse_args()

    import httpx
    import uvicorn

    from aidqa.settings import Settings
    from aidqa.web.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        shutil.copy(SEED, corpus / SEED.name)
        settings = Settings(corpus_dir=corpus, index_dir=Path(tmp) / "index", auth="bench:bench-pw", admins="bench")
        app = create_app(settings)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                               timeout_graceful_shutdown=5))
        thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        rows: list[tuple[str, str, float, float, int, int]] = []
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as http:
                while http.get("/api/health").status_code != 200:
                    time.sleep(0.2)
                for _ in range(args.repeat):
                    for name in REPORTS:
                        data = (args.reports / name).read_bytes()
                        t0 = time.perf_counter()
                        r = http.post("/api/documents", files={"file": (name, data)}, headers=ADMIN)
                        accepted = time.perf_counter()
                        r.raise_for_status()
                        job = wait_for_job(http, r.json()["job"]["id"])
                        done = time.perf_counter()
                        c = job["changes"] or {}
                        rows.append((name, "upload " + job["state"], accepted - t0, done - accepted,
                                     c.get("embedded_chunks", 0), c.get("reused_chunks", 0)))
                        t0 = time.perf_counter()
                        r = http.delete(f"/api/documents/{name}", headers=ADMIN)
                        accepted = time.perf_counter()
                        r.raise_for_status()
                        job = wait_for_job(http, r.json()["job"]["id"])
                        done = time.perf_counter()
                        c = job["changes"] or {}
                        rows.append((name, "delete " + job["state"], accepted - t0, done - accepted,
                                     c.get("embedded_chunks", 0), c.get("reused_chunks", 0)))
        finally:
            server.should_exit = True
            thread.join(30)

    print(f"{'report':45} {'action':14} {'request s':>9} {'job s':>7} {'embedded':>8} {'reused':>6}")
    for name, action, request_s, job_s, embedded, reused in rows:
        print(f"{name:45} {action:14} {request_s:9.2f} {job_s:7.2f} {embedded:8d} {reused:6d}")
    for action in ("upload", "delete"):
        jobs = [r[3] for r in rows if r[1].startswith(action)]
        requests = [r[2] for r in rows if r[1].startswith(action)]
        print(f"{action}: n={len(jobs)}, request median {statistics.median(requests):.2f} s, "
              f"job median {statistics.median(jobs):.2f} s, job max {max(jobs):.2f} s")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
