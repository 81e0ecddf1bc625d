"""Load test (not a test): N concurrent clients for D seconds against one aidqa server, loopback only.

Half the clients POST dev-set questions (with their conversation history) to ``/api/ask``; the other half call the
UI's Gradio endpoint ``/ask_json`` through Gradio's HTTP API (``POST /gradio_api/call/ask_json``, then read the
event's stream until it completes; the raw HTTP API rather than ``gradio_client``, which would start extra threads
and fetch the app's config per client). Each client sends its next question as soon as it has an answer.

Prints, per endpoint: requests, errors (exceptions, timeouts, any non-2xx other than "busy", a Gradio error event
or an ``{"error": ...}`` answer), busy (``503 {"error": {"code": "busy"}}`` from /api, or Gradio's "queue is full";
a busy client waits for Retry-After before its next question), p50/p95/max latency of the answered requests and
throughput; then the server's peak RSS. Exit code 0 only if there was no error (1 otherwise, 2 for bad arguments).

    .venv/bin/python scripts/load.py [--clients 50] [--duration 60]            # starts the server in this process
    .venv/bin/python scripts/load.py --url http://127.0.0.1:7860 [--pid PID]  # a running `aidqa serve`

In-process, the server runs in a uvicorn thread on a free loopback port (like scripts/api_latency.py) with the
index built in a temporary folder unless ``--index-dir`` is given, and the peak RSS is this whole process's
(server + clients). With ``--url``, the peak RSS is read from /proc/PID/status (VmHWM) when ``--pid`` is given.
HTTP Basic credentials: ``--auth user:password``, or in-process the first AIDQA_AUTH user.

Bounded: at most 200 clients and 600 seconds; every request has a timeout (``--timeout``, default 60 s), so the
run ends at most that long after the duration. It refuses any host but 127.0.0.1, localhost and ::1.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from aidqa.eval.scoring import percentile

REPO = Path(__file__).resolve().parent.parent
DEV_SET = REPO / "tests" / "data" / "dev.jsonl"
MAX_CLIENTS = 200
MAX_DURATION = 600.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")
ENDPOINTS = ("/api/ask", "gradio /ask_json")


class UsageError(ValueError):
    """A bad argument (exit code 2)."""


# ---- what is measured --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    endpoint: str
    kind: str  # "ok" | "busy" | "error"
    seconds: float
    detail: str = ""
    retry_after: float = 0.0



@dataclass
class EndpointStats:
    endpoint: str
    clients: int
    requests: int = 0
    ok: int = 0
    busy: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    error_samples: dict[str, int] = field(default_factory=dict)

    def add(self, o: Outcome) -> None:
        self.requests += 1
        if o.kind == "ok":
            self.ok += 1
            self.latencies_ms.append(o.seconds * 1000)
        elif o.kind == "busy":
            self.busy += 1
        else:
            self.errors += 1
            self.error_samples[o.detail] = self.error_samples.get(o.detail, 0) + 1

    def latency(self, p: float | None) -> float | None:
        if not self.latencies_ms:
            return None
        return max(self.latencies_ms) if p is None else percentile(self.latencies_ms, p)


@dataclass
class Report:
    clients: int
    duration_s: float
    elapsed_s: float
    endpoints: dict[str, EndpointStats]
    peak_rss_mb: float | None = None
    rss_note: str = ""

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.endpoints.values())

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.endpoints.values())

    @property
    def busy(self) -> int:
        return sum(s.busy for s in self.endpoints.values())

    @property
    def ok(self) -> int:
        return sum(s.ok for s in self.endpoints.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "clients": self.clients, "duration_s": self.duration_s, "elapsed_s": round(self.elapsed_s, 2),
            "requests": self.requests, "answered": self.ok, "errors": self.errors, "busy": self.busy,
            "throughput_per_s": round(self.ok / self.elapsed_s, 2) if self.elapsed_s else 0.0,
            "peak_rss_mb": None if self.peak_rss_mb is None else round(self.peak_rss_mb),
            "endpoints": {
                name: {"clients": s.clients, "requests": s.requests, "answered": s.ok, "errors": s.errors,
                       "busy": s.busy, "p50_ms": _round(s.latency(50)), "p95_ms": _round(s.latency(95)),
                       "max_ms": _round(s.latency(None)),
                       "throughput_per_s": round(s.ok / self.elapsed_s, 2) if self.elapsed_s else 0.0,
                       "error_samples": dict(sorted(s.error_samples.items(), key=lambda kv: -kv[1])[:5])}
                for name, s in self.endpoints.items()
            },
        }

    def render(self) -> str:
        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v:.0f}"

        lines = [f"{self.clients} clients for {self.duration_s:g} s (ran {self.elapsed_s:.1f} s)", "",
                 f"{'endpoint':<18}{'clients':>8}{'requests':>10}{'answered':>10}{'errors':>8}{'busy':>7}"
                 f"{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'answers/s':>11}"]
        for s in self.endpoints.values():
            rate = s.ok / self.elapsed_s if self.elapsed_s else 0.0
            lines.append(f"{s.endpoint:<18}{s.clients:>8}{s.requests:>10}{s.ok:>10}{s.errors:>8}{s.busy:>7}"
                         f"{ms(s.latency(50)):>9}{ms(s.latency(95)):>9}{ms(s.latency(None)):>9}{rate:>11.2f}")
        rate = self.ok / self.elapsed_s if self.elapsed_s else 0.0
        lines.append(f"{'total':<18}{self.clients:>8}{self.requests:>10}{self.ok:>10}{self.errors:>8}{self.busy:>7}"
                     f"{'':>27}{rate:>11.2f}")
        rss = "not measured" if self.peak_rss_mb is None else f"{self.peak_rss_mb:.0f} MB"
        lines += ["", f"peak RSS: {rss}{f' ({self.rss_note})' if self.rss_note else ''}"]
        for s in self.endpoints.values():
            for detail, count in sorted(s.error_samples.items(), key=lambda kv: -kv[1])[:5]:
                lines.append(f"error ({s.endpoint}) x{count}: {detail}")
        return "\n".join(lines)


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


# ---- the two kinds of client -------------------------------------------------------------------------------------


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("code", ""))
    return ""


def classify_api(response: httpx.Response, seconds: float) -> Outcome:
    """A /api/ask response as ok, busy (503 code busy) or error (anything else that is not a 2xx answer)."""
    code = _error_code(response)
    if response.status_code == 503 and code == "busy":
        return Outcome(ENDPOINTS[0], "busy", seconds, retry_after=_retry_after(response))
    if response.is_success:
        try:
            answer = response.json()
        except ValueError:
            return Outcome(ENDPOINTS[0], "error", seconds, f"HTTP {response.status_code}: body is not JSON")
        if isinstance(answer, dict) and isinstance(answer.get("answer"), str):
            return Outcome(ENDPOINTS[0], "ok", seconds)
        return Outcome(ENDPOINTS[0], "error", seconds, f"HTTP {response.status_code}: no answer in the body")
    return Outcome(ENDPOINTS[0], "error", seconds, f"HTTP {response.status_code} {code}".rstrip())


def ask_api(http: httpx.Client, item: dict[str, Any]) -> Outcome:
    body: dict[str, Any] = {"question": item["question"]}
    if item.get("history"):
        body["history"] = item["history"]
    t = time.perf_counter()
    response = http.post("/api/ask", json=body)
    return classify_api(response, time.perf_counter() - t)


def classify_gradio_event(event: str, data: str, seconds: float) -> Outcome:
    """The last event of a Gradio call stream: ``complete`` with ``[answer]`` is ok (unless the answer is
    ``{"error": ...}``, which ``ask_json`` returns when it cannot answer), anything else is an error."""
    name = ENDPOINTS[1]
    if event != "complete":
        return Outcome(name, "error", seconds, f"gradio event {event or '(none)'}: {data[:120]}")
    try:
        payload = json.loads(data)
    except ValueError:
        return Outcome(name, "error", seconds, "gradio complete event: data is not JSON")
    result = payload[0] if isinstance(payload, list) and payload else None
    if isinstance(result, dict) and isinstance(result.get("answer"), str):
        return Outcome(name, "ok", seconds)
    detail = result.get("error") if isinstance(result, dict) else result
    return Outcome(name, "error", seconds, f"ask_json answered without an answer: {str(detail)[:120]}")


def ask_gradio(http: httpx.Client, item: dict[str, Any]) -> Outcome:
    name = ENDPOINTS[1]
    t = time.perf_counter()
    joined = http.post("/gradio_api/call/ask_json", json={"data": [item["question"]]})
    if joined.status_code == 503:  # Gradio's queue is full (detail "Queue is full…"): its way of saying busy
        return Outcome(name, "busy", time.perf_counter() - t, retry_after=1.0)
    if not joined.is_success:
        return Outcome(name, "error", time.perf_counter() - t, f"HTTP {joined.status_code} joining the queue")
    event_id = joined.json()["event_id"]
    event, data = "", ""
    with http.stream("GET", f"/gradio_api/call/ask_json/{event_id}") as stream:
        if not stream.is_success:
            return Outcome(name, "error", time.perf_counter() - t, f"HTTP {stream.status_code} reading the result")
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:") and event not in ("heartbeat", "generating"):
                data = line.partition(":")[2].strip()
                if event in ("complete", "error"):
                    break
    return classify_gradio_event(event, data, time.perf_counter() - t)


def _client(kind: str, number: int, clients: int, base_url: str, deadline: float, items: list[dict[str, Any]],
            outcomes: list[Outcome], lock: threading.Lock, auth: tuple[str, str] | None, timeout: float) -> None:
    call = ask_api if kind == ENDPOINTS[0] else ask_gradio
    k = 0
    with httpx.Client(base_url=base_url, timeout=timeout, auth=auth) as http:
        while (now := time.monotonic()) < deadline:
            item = items[(number + k * clients) % len(items)]  # clients start at different questions
            k += 1
            t = time.perf_counter()
            try:
                outcome = call(http, item)
            except Exception as exc:  # a timeout, a refused or dropped connection, a malformed stream
                outcome = Outcome(kind, "error", time.perf_counter() - t, f"{type(exc).__name__}: {str(exc)[:120]}")
            with lock:
                outcomes.append(outcome)
            if outcome.kind == "busy":
                time.sleep(max(0.0, min(outcome.retry_after, deadline - now)))


def run_load(base_url: str, clients: int = 50, duration: float = 60.0, items: list[dict[str, Any]] | None = None,
             auth: tuple[str, str] | None = None, timeout: float = 60.0) -> Report:
    """Run the clients (the first half /api/ask, the rest Gradio) until ``duration`` has passed; every request
    still in flight then is awaited (bounded by ``timeout``)."""
    check_loopback(base_url)
    check_bounds(clients, duration)
    items = items or load_items(DEV_SET)
    api_clients = (clients + 1) // 2
    kinds = [ENDPOINTS[0]] * api_clients + [ENDPOINTS[1]] * (clients - api_clients)
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + duration
    threads = [threading.Thread(target=_client, name=f"load-{i}", daemon=True,
                                args=(kind, i, clients, base_url, deadline, items, outcomes, lock, auth, timeout))
               for i, kind in enumerate(kinds)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + timeout + 30)
    elapsed = time.monotonic() - started
    stats = {name: EndpointStats(name, kinds.count(name)) for name in ENDPOINTS}
    with lock:
        for o in outcomes:
            stats[o.endpoint].add(o)
    return Report(clients, duration, elapsed, stats)


# ---- arguments, the server ---------------------------------------------------------------------------------------


def check_loopback(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or (parts.hostname or "") not in LOOPBACK:
        raise UsageError(f"refusing {url!r}: this load generator only targets a server on this machine "
                         f"(http://127.0.0.1, http://localhost or http://[::1])")


def check_bounds(clients: int, duration: float) -> None:
    if not 1 <= clients <= MAX_CLIENTS:
        raise UsageError(f"--clients must be between 1 and {MAX_CLIENTS} (got {clients})")
    if not 0 < duration <= MAX_DURATION:
        raise UsageError(f"--duration must be more than 0 and at most {MAX_DURATION:g} seconds (got {duration:g})")


def load_items(path: Path) -> list[dict[str, Any]]:
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"question": i["question"], "history": i.get("history") or []} for i in items]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base_url: str, auth: tuple[str, str] | None, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=30, auth=auth) as http:
        while True:
            try:
                r = http.get("/api/health")
                if r.status_code == 200:
                    http.post("/api/ask", json={"question": "天津累计投入了多少资金？"})  # warm-up, not counted
                    return
                if r.status_code == 503 and r.json().get("status") == "error":
                    raise SystemExit(f"the server's index failed to load: {r.json().get('message')}")
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{base_url} did not become ready within {timeout:g} s")
            time.sleep(0.1)


@contextmanager
def serve_in_process(settings: Any = None, assistant: Any = None) -> Iterator[str]:
    """The real app (API + Gradio) in a uvicorn thread on a free loopback port; yields its base URL."""
    import uvicorn

    from aidqa.web.app import create_app

    settings = settings or (assistant.settings if assistant is not None else None)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, assistant), host="127.0.0.1", port=port,
                                           log_level="warning", timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise SystemExit("the server did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def peak_rss_of(pid: int) -> float | None:
    """VmHWM (peak resident set) of a process, in MB, from /proc; None if it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _auth(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user:
        raise UsageError("--auth must be user:password")
    return user, password


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50, help=f"concurrent clients, half per endpoint (max {MAX_CLIENTS})")
    parser.add_argument("--duration", type=float, default=60.0, help=f"seconds of load (max {MAX_DURATION:g})")
    parser.add_argument("--url", help="a running server on this machine (default: start one in this process)")
    parser.add_argument("--pid", type=int, help="with --url: the server's process id, for its peak RSS")
    parser.add_argument("--auth", help="HTTP Basic credentials user:password (AIDQA_AUTH on the server)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before one request counts as an error")
    parser.add_argument("--dev-set", type=Path, default=DEV_SET, help="JSONL questions (question, optional history)")
    parser.add_argument("--index-dir", type=Path, help="in-process: reuse this index folder (default: a fresh temp dir)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, assistant: Any = None) -> int:
    """Run the load and print the report; returns the exit code. ``assistant``: serve this (already built)
    assistant in-process instead of building one (the tests pass the session's)."""
    args = parse_args(argv)
    try:
        check_bounds(args.clients, args.duration)
        if args.url:
            check_loopback(args.url)
        if args.timeout <= 0 or args.timeout > MAX_DURATION:
            raise UsageError(f"--timeout must be more than 0 and at most {MAX_DURATION:g} seconds")
        auth = _auth(args.auth)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    items = load_items(args.dev_set)

    if args.url:
        base = args.url.rstrip("/")
        wait_ready(base, auth)
        report = run_load(base, args.clients, args.duration, items, auth, args.timeout)
        if args.pid:
            report.peak_rss_mb, report.rss_note = peak_rss_of(args.pid), f"VmHWM of pid {args.pid}"
        else:
            report.rss_note = "give --pid for the server's peak RSS"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            settings = assistant.settings if assistant is not None else None
            if settings is None:
                from aidqa.settings import Settings

                settings = Settings(corpus_dir=REPO / "docs_corpus", index_dir=args.index_dir or Path(tmp) / "index")
            if auth is None and getattr(settings, "auth", None) is not None:
                auth = next(iter(settings.auth_users().items()))
            with serve_in_process(settings, assistant) as base:
                wait_ready(base, auth)
                report = run_load(base, args.clients, args.duration, items, auth, args.timeout)
        report.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        report.rss_note = "this whole process: the server and the load clients"
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) if args.json else report.render(), flush=True)
    return 0 if report.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
