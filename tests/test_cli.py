"""The aidqa command, run as a real subprocess, checked on its exact output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import CORPUS


@pytest.fixture(scope="module")
def env(settings, assistant):
    # Reuse the session's built index (same settings → same index name).
    return {**os.environ, "AIDQA_CORPUS_DIR": str(CORPUS), "AIDQA_INDEX_DIR": str(settings.index_dir)}


def run(args, env, stdin=None):
    return subprocess.run([sys.executable, "-m", "aidqa.cli", *args], input=stdin, capture_output=True, text=True, env=env, timeout=300)


def test_ask_readable(env):
    r = run(["ask", "举办了多少场招聘活动？"], env)
    assert r.returncode == 0, r.stderr
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
    r = run(["ask", "天津对口支援黄南州累计投入了多少资金？", "--json"], env)
    data = json.loads(r.stdout)
    assert data["refused"] is False and "18.51亿元" in data["answer"]
    assert data["citations"][0]["quote"] in data["answer"]


def test_ask_json_stdin_one_line_per_question(env):
    questions = ["举办了多少场招聘活动？", "", "2015年天津投入了多少资金？", "How many projects has Tianjin implemented?"]
    r = run(["ask", "--json"], env, stdin="\n".join(questions) + "\n")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 4
    assert "18场" in rows[0]["answer"]
    assert rows[1] == {"question": "", "error": "the question is empty; please type a question about the reports (请输入问题)"}
    assert rows[2]["refused"] is True
    assert "567个" in rows[3]["answer"]


def test_empty_question_exit_code_and_message(env):
    r = run(["ask", "   "], env)
    assert r.returncode == 2
    assert r.stderr.strip() == "Error: the question is empty; please type a question about the reports (请输入问题)"
    assert r.stdout == ""


def test_index_command_reports_counts(env):
    r = run(["index"], env)
    assert r.returncode == 0, r.stderr
    assert "chunks from 1 file(s)" in r.stdout


def test_missing_corpus_is_a_clean_error(env, tmp_path):
    r = run(["ask", "问题"], {**env, "AIDQA_CORPUS_DIR": str(tmp_path / "nope"), "AIDQA_INDEX_DIR": str(tmp_path / "i")})
    assert r.returncode == 1
    assert r.stderr.strip() == f"Error: corpus folder {tmp_path / 'nope'} does not exist"
    assert "Traceback" not in r.stderr


def test_bad_setting_is_a_clean_error(env):
    r = run(["ask", "问题"], {**env, "AIDQA_TOP_K": "lots"})
    assert r.returncode == 1 and r.stderr.startswith("Error: invalid configuration")


def test_figures_lists_filtered_figures_exactly(env):
    r = run(["figures", "--grep", "医疗", "--unit", "元"], env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "700万元\t7,000,000\t元\t\t前方指挥部投入援青资金（提升基层医疗卫生水平）\ttianjin-huangnan-report.txt:1517-1522",
        "1000万元\t10,000,000\t元\t\t投入（提升基层医疗卫生水平）\ttianjin-huangnan-report.txt:1556-1562",
        "1400万元\t14,000,000\t元\t\t分期投入（提升基层医疗卫生水平）\ttianjin-huangnan-report.txt:1614-1620",
    ]
    assert r.stderr.strip().endswith("3 figure(s)")


def test_figures_json_and_csv(env):
    data = json.loads(run(["figures", "--json", "--min", "1亿"], env).stdout)
    assert [f["raw"] for f in data] == ["18.51亿元", "2.3亿元", "52亿元", "近18.38亿元"]
    assert data[3]["qualifier"] == "approx" and data[0]["value"] == 1851000000
    r = run(["figures", "--csv", "--unit", "%"], env)
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(r.stdout.lstrip("\ufeff"))))
    assert [(row["raw"], row["value"], row["qualifier"]) for row in rows] == [("50%以上", "50", "at_least"), ("80%以上", "80", "at_least")]


def test_figures_bad_options(env):
    r = run(["figures", "--min", "abc"], env)
    assert r.returncode == 2 and r.stderr.startswith("Error: --min/--max:")
    r = run(["figures", "--json", "--csv"], env)
    assert r.returncode == 2 and r.stderr == "Error: choose one of --json and --csv\n"
