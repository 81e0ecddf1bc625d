"""The aidqa command, checked on its exact output.

Most tests run the command in-process with click's CliRunner: torch, the index and the embedding model load once
per test session instead of once per case. A few tests run a real process, where the process itself is the point
(the installed entry points, a real pipe, a closed stdout, an interrupt); each says why.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import CORPUS

from aidqa.cli import main

EMPTY_QUESTION = "the question is empty; please type a question about the reports (请输入问题)"


@pytest.fixture(scope="module")
def env(settings, assistant) -> dict[str, str]:
    # Reuse the session's built index (same settings → same index name).
    return {"AIDQA_CORPUS_DIR": str(CORPUS), "AIDQA_INDEX_DIR": str(settings.index_dir)}


@pytest.fixture(scope="module", autouse=True)
def shared_embedding_model(assistant):
    """In-process runs reuse the session assistant's loaded embedding model (its tokenizer alone takes seconds to
    load) instead of loading it again per command. Only the model object is shared: every command still builds its
    own Settings, Assistant and loaded index. The real loading path is covered by the subprocess tests below."""
    from aidqa.index import embeddings

    real_load = embeddings.load_sentence_transformer
    loaded = {(assistant.settings.embedding_model, assistant.settings.embedding_trust_remote_code):
              assistant.embeddings.model}

    def load(name: str, trust_remote_code: bool = False, threads: int = 1):
        if (name, trust_remote_code) not in loaded:
            loaded[name, trust_remote_code] = real_load(name, trust_remote_code, threads)  # raises: nothing is cached
        return loaded[name, trust_remote_code]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(embeddings, "load_sentence_transformer", load)
        yield


def cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> Result:
    """Run ``aidqa ARGS`` in-process. ``env`` is laid over os.environ for the run only (the command reads its
    Settings then). An exception the command does not turn into an exit code fails the test with its traceback
    (a real process would print one), rather than becoming exit code 1."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    # With no root handlers, the command's logging.basicConfig writes log records to the run's stderr, as in a fresh
    # process, so exact stderr checks also see stray log output. Put pytest's handlers and level back afterwards.
    root.handlers.clear()
    try:
        return CliRunner().invoke(main, args, input=stdin, env=env, catch_exceptions=False)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


# ---- in-process ----------------------------------------------------------------------------------------------


def test_ask_readable(env):
    r = cli(["ask", "举办了多少场招聘活动？"], env)
    assert r.exit_code == 0, r.stderr
    quote = ("在提升就业创业能力上，天津援青前方指挥部推动两地人社部门新签订《共同推动青海省人力资源社会保障事业发展合作协议》，"
             "举办对口支援招聘活动18场，提供岗位万余个；")
    assert r.stdout.splitlines() == [
        "答：对口支援招聘活动18场 [1]",  # the figure first, with what it counts
        f"{quote} [1]",
        "",
        "来源：",
        '[1] tianjin-huangnan-report.txt · 抓牢"民生和美" 在增强群众幸福感获得感上用心用力用情 · 1249-1328',
        f"    「{quote}」",
    ]


def test_ask_json_single(env):
    r = cli(["ask", "天津对口支援黄南州累计投入了多少资金？", "--json"], env)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["refused"] is False and "18.51亿元" in data["answer"]
    assert data["citations"][0]["quote"] in data["answer"]


def test_ask_json_stdin_one_line_per_question(env):
    questions = ["举办了多少场招聘活动？", "", "2015年天津投入了多少资金？", "How many projects has Tianjin implemented?"]
    r = cli(["ask", "--json"], env, stdin="\n".join(questions) + "\n")
    assert r.exit_code == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 4
    assert "18场" in rows[0]["answer"]
    assert rows[1] == {"question": "", "error": EMPTY_QUESTION}
    assert rows[2]["refused"] is True
    assert "567个" in rows[3]["answer"]


def test_index_command_reports_counts(env):
    r = cli(["index"], env)
    assert r.exit_code == 0, r.stderr
    assert "chunks from 1 file(s)" in r.stdout


def test_missing_corpus_is_a_clean_error(env, tmp_path):
    r = cli(["ask", "问题"], {**env, "AIDQA_CORPUS_DIR": str(tmp_path / "nope"), "AIDQA_INDEX_DIR": str(tmp_path / "i")})
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: corpus folder {tmp_path / 'nope'} does not exist"
    assert "Traceback" not in r.stderr


def test_bad_setting_is_a_clean_error(env):
    r = cli(["ask", "问题"], {**env, "AIDQA_TOP_K": "lots"})
    assert r.exit_code == 1 and r.stderr.startswith("Error: invalid configuration")


def test_figures_lists_filtered_figures_exactly(env):
    r = cli(["figures", "--grep", "医疗", "--unit", "元"], env)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        "700万元\t7,000,000\t元\t\t前方指挥部投入援青资金（提升基层医疗卫生水平）\ttianjin-huangnan-report.txt:1517-1522",
        "1000万元\t10,000,000\t元\t\t投入（提升基层医疗卫生水平）\ttianjin-huangnan-report.txt:1556-1562",
        "1400万元\t14,000,000\t元\t\t分期投入（提升基层医疗卫生水平）\ttianjin-huangnan-report.txt:1614-1620",
    ]
    assert r.stderr.strip().endswith("3 figure(s)")


def test_figures_json_and_csv(env):
    r = cli(["figures", "--json", "--min", "1亿"], env)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert [f["raw"] for f in data] == ["18.51亿元", "2.3亿元", "52亿元", "近18.38亿元"]
    assert data[3]["qualifier"] == "approx" and data[0]["value"] == 1851000000
    r = cli(["figures", "--csv", "--unit", "%"], env)
    assert r.exit_code == 0, r.stderr
    assert r.stdout_bytes.startswith(codecs.BOM_UTF8)  # so that Excel reads the Chinese
    rows = list(csv.DictReader(io.StringIO(r.stdout.lstrip("\ufeff"))))
    assert [(row["raw"], row["value"], row["qualifier"]) for row in rows] == [("50%以上", "50", "at_least"), ("80%以上", "80", "at_least")]


def test_figures_bad_options(env):
    r = cli(["figures", "--min", "abc"], env)
    assert r.exit_code == 2 and r.stderr.startswith("Error: --min/--max:")
    r = cli(["figures", "--json", "--csv"], env)
    assert r.exit_code == 2 and r.stderr == "Error: choose one of --json and --csv\n"


# ---- real processes ------------------------------------------------------------------------------------------


def popen(command: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env}, **kwargs)


def test_empty_question_exit_code_and_message(env):
    # A subprocess through the installed `aidqa` script: the console entry point exists and is wired to the
    # command, the exit status is the real one, and stderr is the whole process's stderr (a library printing or
    # logging on its own, which in-process capture cannot see, would break the exact match).
    script = Path(sys.executable).with_name("aidqa")
    assert script.is_file(), f"{script} is missing: install the package (pip install -e .)"
    r = subprocess.run([str(script), "ask", "   "], capture_output=True, text=True, env={**os.environ, **env},
                       timeout=300)
    assert r.returncode == 2
    assert r.stderr.strip() == f"Error: {EMPTY_QUESTION}"
    assert r.stdout == ""


def test_stdin_mode_streams_answers_and_stops_on_interrupt(env):
    # A subprocess through `python -m aidqa.cli` driven over real pipes, as a co-process would use it: each answer
    # must come out (flushed) before the next question is written, which a CliRunner's in-memory streams cannot
    # show; then a real SIGINT while it waits on stdin must end it with click's "Aborted!" and exit 1, no traceback.
    p = popen([sys.executable, "-m", "aidqa.cli", "ask", "--json"], env)
    try:
        for question, check in [("举办了多少场招聘活动？", lambda row: "18场" in row["answer"]),
                                ("2015年天津投入了多少资金？", lambda row: row["refused"] is True)]:
            p.stdin.write(question + "\n")
            p.stdin.flush()
            row = json.loads(p.stdout.readline())  # blocks until this answer is flushed; stdin stays open
            assert row["question"] == question and check(row), row
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 1
    assert out == ""
    assert err == "\nAborted!\n"


def test_closed_stdout_ends_stdin_mode_quietly(env):
    # A subprocess whose stdout pipe is closed before it writes (a reader such as `| head -1` gone): the first write
    # fails with EPIPE, which only a real pipe produces. The batch must stop at once with exit 1 and nothing on
    # stderr (click's handling of a broken pipe), not a BrokenPipeError traceback.
    p = popen([sys.executable, "-m", "aidqa.cli", "ask", "--json"], env)
    p.stdout.close()
    try:
        _, err = p.communicate("举办了多少场招聘活动？\n" * 3, timeout=300)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 1
    assert err == ""
