"""Reporting a run: thresholds and JSON for machines, aligned tables for the terminal, a page for people.

The terminal tables are laid out by rich, which counts a CJK character as two columns (item types and ids are
often Chinese), and printed through a plain console so the text has no colour codes. The HTML page is a Jinja2
template (``templates/report.html.j2``) with autoescaping on, so report text (questions, answers, quotes, labels)
cannot inject markup; this module only decides what to show and computes the charts' geometry.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from rich import box
from rich.console import Console, RenderableType
from rich.table import Table

from aidqa.eval.runner import EvalRun
from aidqa.eval.scoring import ItemResult, Metrics, percentile

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------------------------
# Thresholds and JSON
# ---------------------------------------------------------------------------------------------------------------


def check_thresholds(
    run: EvalRun, min_answer: float | None = None, min_citation: float | None = None, min_refusal: float | None = None
) -> list[str]:
    """Messages for every threshold the run misses (empty: all met). ``min_refusal`` applies to refusal precision
    and recall. A metric that is None has nothing to measure and passes — except refusal precision when nothing
    was refused although refusals were expected."""
    m = run.overall
    checks = [
        ("answer accuracy", m.answer_accuracy, min_answer, False),
        ("citation accuracy", m.citation_accuracy, min_citation, False),
        ("refusal precision", m.refusal_precision, min_refusal, m.expected_refusals > 0),
        ("refusal recall", m.refusal_recall, min_refusal, False),
    ]
    failures = []
    for name, value, threshold, none_fails in checks:
        if threshold is None:
            continue
        if value is None:
            if none_fails:
                failures.append(f"{name} undefined (nothing refused, {m.expected_refusals} refusals expected) < "
                                f"{threshold:g} (run: {run.label})")
        elif value < threshold:
            failures.append(f"{name} {value:.3f} < {threshold:g} (run: {run.label})")
    return failures


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


def _item_json(r: ItemResult) -> dict[str, Any]:
    a = r.answer
    return {
        "id": r.id,
        "type": r.type,
        "question": r.question,
        "expected_refusal": r.expected_refusal,
        "answer_correct": r.answer_correct,
        "citation_correct": r.citation_correct,
        "refused": a.refused if a is not None else None,
        "answer": a.answer if a is not None else None,
        "citations": [
            {"id": c.id, "source": c.source, "section": c.section, "quote": c.quote, "start": c.start, "end": c.end}
            for c in (a.citations if a is not None else [])
        ],
        "ungrounded": r.ungrounded,
        "figure_stated_correct": r.figure_stated_correct,
        "retrieval_rank": r.retrieval_rank,
        "latency_ms": r.latency_ms,
        "error": r.error,
        "reasons": r.reasons,
    }


def report_data(runs: Sequence[EvalRun], thresholds: dict[str, float | None] | None = None) -> dict[str, Any]:
    """The machine-readable report (what ``to_json`` serialises); the shape is the same for one run or several."""
    thresholds = {k: v for k, v in (thresholds or {}).items()}
    failures = [msg for run in runs for msg in check_thresholds(run, **thresholds)]
    return _rounded({
        "runs": [
            {
                "label": run.label,
                "config": run.config,
                "overrides": run.overrides,
                "dataset": run.dataset,
                "started_at": run.started_at,
                "duration_s": run.duration_s,
                "overall": run.overall.model_dump(),
                "per_type": {t: m.model_dump() for t, m in run.per_type.items()},
                "items": [_item_json(r) for r in run.items],
            }
            for run in runs
        ],
        "passed": not failures,
        "thresholds": thresholds,
        "failures": failures,
    })


def to_json(runs: Sequence[EvalRun], thresholds: dict[str, float | None] | None = None) -> str:
    """``report_data`` as indented UTF-8 JSON text; floats rounded to 4 decimals."""
    return json.dumps(report_data(runs, thresholds), ensure_ascii=False, indent=2)


# ---------------------------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------------------------

DASH = "–"
_COLUMNS: list[tuple[str, Callable[[Metrics], str]]] = [  # (header, formatter) of the per-type metrics
    ("n", lambda m: str(m.n)),
    ("answer", lambda m: _f(m.answer_accuracy)),
    ("citation", lambda m: _f(m.citation_accuracy)),
    ("refusal P/R", lambda m: f"{_f(m.refusal_precision, 2)}/{_f(m.refusal_recall, 2)}"),
    ("ungrounded", lambda m: _f(m.ungrounded_rate)),
    ("stated fig", lambda m: _f(m.figure_stated_accuracy)),
    ("R@1", lambda m: _f(m.recall_at_1)),
    ("R@3", lambda m: _f(m.recall_at_3)),
    ("R@5", lambda m: _f(m.recall_at_5)),
    ("MRR", lambda m: _f(m.mrr)),
    ("p50 ms", lambda m: _ms(m.latency_p50_ms)),
    ("p95 ms", lambda m: _ms(m.latency_p95_ms)),
    ("errors", lambda m: str(m.errors)),
]
# Wide enough that rich never wraps or squeezes a column (a long list of reasons included): a table not set to
# expand takes its natural width, so nothing is padded out to this.
_TEXT_WIDTH = 10_000


def _f(value: float | None, digits: int = 3) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def _ms(value: float | None) -> str:
    return DASH if value is None else f"{value:.0f}"


def _letter(index: int) -> str:
    """A run's short name in comparisons: A, B, … and numbers past the letters."""
    return _LETTERS[index] if index < len(_LETTERS) else str(index + 1)


def _metrics_rows(run: EvalRun) -> list[tuple[str, Metrics]]:
    return [*run.per_type.items(), ("all", run.overall)]


def _text_table() -> Table:
    """A borderless table: a rule under the header (and above the footer), two spaces between columns."""
    return Table(box=box.SIMPLE, show_edge=False, pad_edge=False, padding=(0, 1), collapse_padding=True)


def _plain(renderable: RenderableType) -> list[str]:
    """``renderable`` as plain lines: no ANSI codes, no markup or emoji codes interpreted in report text (a reason
    holding ``[1]`` stays as it is), no trailing blanks. rich measures CJK characters as two columns."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=_TEXT_WIDTH, color_system=None, force_terminal=False, soft_wrap=False,
                      markup=False, emoji=False, highlight=False)
    console.print(renderable)
    return [line.rstrip() for line in buffer.getvalue().splitlines()]


def failing_lines(run: EvalRun) -> list[str]:
    """'Failing items (k of n):' and one indented line per failing item: id, type and reasons in aligned columns."""
    failing = [r for r in run.items if not r.passed]
    if not failing:
        return [f"No failing items ({len(run.items)} of {len(run.items)} passed)."]
    grid = Table.grid(padding=(0, 2))
    for _ in range(3):
        grid.add_column(no_wrap=True)
    for r in failing:
        grid.add_row(r.id, r.type, "; ".join(r.reasons))
    return [f"Failing items ({len(failing)} of {len(run.items)}):", *("  " + line for line in _plain(grid))]


def _run_header(run: EvalRun) -> list[str]:
    c = run.config
    chunking = ", ".join(f"{k}={v}" for k, v in c["chunking"].items())
    return [
        f"aidqa eval — {run.label}" + (f" — {run.dataset}" if run.dataset else ""),
        (f"{run.overall.n} items in {run.duration_s:.1f} s · model {c['embedding_model']} · "
         f"index {c['index_name']} · top_k {c['top_k']} · chunking {chunking}"),
    ]


def render_table(run: EvalRun, show_failures: bool = True) -> str:
    """Aligned table: one row per item type and, under a rule, one for all items; then the failing items with
    their reasons."""
    table = _text_table()
    table.show_footer = True  # the "all" row, below a rule
    table.add_column("type", footer="all", no_wrap=True)
    for header, fmt in _COLUMNS:
        table.add_column(header, footer=fmt(run.overall), justify="right", no_wrap=True)
    for name, m in run.per_type.items():
        table.add_row(name, *(fmt(m) for _, fmt in _COLUMNS))
    lines = [*_run_header(run), "", *_plain(table)]
    lines += ["", (f"{DASH} = not applicable (no such items). answer = must strings in answer; citation = evidence "
                   "in cited quotes; ungrounded = answers with a number not in their quotes; stated fig = the "
                   "figures an answer states first include the asked one.")]
    if show_failures:
        lines += ["", *failing_lines(run)]
    return "\n".join(lines)


_KEY_METRICS = [
    ("answer accuracy", "answer_accuracy"),
    ("citation accuracy", "citation_accuracy"),
    ("refusal precision", "refusal_precision"),
    ("refusal recall", "refusal_recall"),
    ("ungrounded rate", "ungrounded_rate"),
    ("stated figure accuracy", "figure_stated_accuracy"),
    ("recall@1", "recall_at_1"),
    ("recall@3", "recall_at_3"),
    ("recall@5", "recall_at_5"),
    ("MRR", "mrr"),
    ("latency p50 ms", "latency_p50_ms"),
    ("latency p95 ms", "latency_p95_ms"),
    ("errors", "errors"),
    ("LLM answers", "llm_answered"),
    ("LLM fallbacks", "llm_fallbacks"),
    ("dropped sentences", "dropped_sentences"),
]
_COUNT_METRICS = ("errors", "llm_answered", "llm_fallbacks", "dropped_sentences")  # shown as whole numbers
_TYPE_METRICS = [("answer", "answer_accuracy"), ("citation", "citation_accuracy"), ("R@3", "recall_at_3")]
_LETTERS = "ABCDEFGH"


def _fmt_metric(attr: str, value: float | None) -> str:
    if attr.startswith("latency"):
        return _ms(value)
    if attr in _COUNT_METRICS:
        return DASH if value is None else str(int(value))
    return _f(value)


def _delta(attr: str, a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return DASH
    d = b - a
    if attr.startswith("latency") or attr in _COUNT_METRICS:
        return f"{d:+.0f}"
    return f"{d:+.3f}"


def render_comparison(runs: Sequence[EvalRun], show_failures: bool = True) -> str:
    """Side by side: overall and per-type key metrics of each run, the delta of each run against the first (A),
    the items whose pass/fail changed, and (``show_failures``) each run's failing items."""
    runs = list(runs)
    if len(runs) < 2:
        return render_table(runs[0], show_failures)
    letters = [_letter(i) for i in range(len(runs))]
    lines = [f"aidqa eval — comparison on {runs[0].overall.n} items" + (f" — {runs[0].dataset}" if runs[0].dataset else "")]
    for letter, run in zip(letters, runs):
        c = run.config
        lines.append(f"  {letter}: {run.label}  (model {c['embedding_model']}, index {c['index_name']}, "
                     f"{run.duration_s:.1f} s)")

    overall = _text_table()
    overall.add_column("metric", no_wrap=True)
    for header in [*letters, *(f"Δ {x}−A" for x in letters[1:])]:
        overall.add_column(header, justify="right", no_wrap=True)
    for name, attr in _KEY_METRICS:
        values = [getattr(r.overall, attr) for r in runs]
        overall.add_row(name, *(_fmt_metric(attr, v) for v in values), *(_delta(attr, values[0], v) for v in values[1:]))
    lines += ["", *_plain(overall)]

    by_type = _text_table()
    by_type.add_column("type", no_wrap=True)
    by_type.add_column("n", justify="right", no_wrap=True)
    for short, _ in _TYPE_METRICS:
        for header in [*(f"{short} {x}" for x in letters), *(f"Δ{x}" for x in letters[1:])]:
            by_type.add_column(header, justify="right", no_wrap=True)
    for t in dict.fromkeys(t for r in runs for t in r.per_type):
        ms = [r.per_type.get(t) for r in runs]
        n = next((m.n for m in ms if m is not None), 0)
        cells = [t, str(n)]
        for _, attr in _TYPE_METRICS:
            values = [getattr(m, attr) if m is not None else None for m in ms]
            cells += [*(_f(v) for v in values), *(_delta(attr, values[0], v) for v in values[1:])]
        by_type.add_row(*cells)
    lines += ["", "Per type:", *_plain(by_type)]

    base = {r.id: r for r in runs[0].items}
    for letter, run in zip(letters[1:], runs[1:]):
        fixed = [r for r in run.items if r.id in base and r.passed and not base[r.id].passed]
        broken = [r for r in run.items if r.id in base and not r.passed and base[r.id].passed]
        lines += ["", f"Changed from A to {letter}: {len(fixed)} fixed, {len(broken)} broken"]
        lines += [f"  fixed   {r.id}" for r in fixed]
        lines += [f"  broken  {r.id}  {'; '.join(r.reasons)}" for r in broken]  # one item a line: no columns to align
    if show_failures:
        for letter, run in zip(letters, runs):
            lines += ["", f"{letter} ({run.label}):", *failing_lines(run)]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# HTML: the markup is in templates/report.html.j2; here only what to show and the charts' geometry.
# ---------------------------------------------------------------------------------------------------------------

_COLORS = ["#2563eb", "#f59e0b", "#10b981", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626"]
_DENOMINATORS = {"answer_accuracy": "answerable", "citation_accuracy": "cited", "recall_at_3": "retrieval_scored"}
_CARDS: list[tuple[str, str, Callable[[Metrics], str]]] = [  # (title, metric, note on the first run's counts)
    ("answer accuracy", "answer_accuracy", lambda m: f"of {m.answerable} answerable questions"),
    ("citation accuracy", "citation_accuracy", lambda m: f"evidence cited, of {m.cited}"),
    ("refusal precision", "refusal_precision", lambda m: f"of {m.refused} refused"),
    ("refusal recall", "refusal_recall", lambda m: f"of {m.expected_refusals} to refuse"),
    ("ungrounded answers", "ungrounded_rate", lambda m: f"of {m.answered} answered"),
    ("stated figure", "figure_stated_accuracy", lambda m: f"short answer is the asked figure, of {m.figures_stated}"),
    ("recall@1", "recall_at_1", lambda m: f"evidence in top 1, of {m.retrieval_scored}"),
    ("recall@3", "recall_at_3", lambda m: f"evidence in top 3, of {m.retrieval_scored}"),
    ("recall@5", "recall_at_5", lambda m: f"evidence in top 5, of {m.retrieval_scored}"),
    ("MRR", "mrr", lambda m: "mean of 1/rank of the evidence"),
    ("latency p50", "latency_p50_ms", lambda m: "median per question"),
    ("latency p95", "latency_p95_ms", lambda m: "95th percentile"),
    ("errors", "errors", lambda m: "questions that raised"),
]
_CHARTS = [("Answer accuracy", "answer_accuracy"), ("Citation accuracy", "citation_accuracy"),
           ("Retrieval recall@3", "recall_at_3")]


@functools.cache
def _environment() -> Environment:
    # autoescape: every question, answer, quote and label is escaped; nothing is ever marked safe.
    return Environment(loader=PackageLoader("aidqa", "eval/templates"), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def _pct(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.1f}%"


def _color(index: int) -> str:
    return _COLORS[index % len(_COLORS)]


def _px(value: float) -> float:
    """An SVG coordinate to a tenth of a unit: short attributes, no visible difference."""
    return round(value, 1)


def _bar_chart(title: str, attr: str, runs: Sequence[EvalRun]) -> dict[str, Any]:
    """Horizontal grouped bars (one group per type, one bar per run), values 0–1, as SVG geometry."""
    types = list(dict.fromkeys(t for r in runs for t in r.per_type)) + ["all"]
    label_w, bar_w, value_w = 92, 230, 52
    bar_h, gap, top = 13, 2, 8
    group_h = len(runs) * (bar_h + gap) + 9
    height = top + group_h * len(types) + 20
    groups = []
    for gi, t in enumerate(types):
        y0 = top + gi * group_h
        bars = []
        for ri, run in enumerate(runs):
            m = run.overall if t == "all" else run.per_type.get(t)
            value = getattr(m, attr) if m is not None else None
            y = y0 + ri * (bar_h + gap)
            bar: dict[str, Any] = {"y": y, "text_y": y + bar_h - 3, "value": value, "pct": _pct(value),
                                   "color": _color(ri)}
            if value is not None:
                bar["width"] = _px(max(value * bar_w, 1.5))  # a zero still shows as a sliver
                bar["tooltip"] = f"{run.label} · {t}: {_pct(value)} of {getattr(m, _DENOMINATORS[attr])} items"
            bars.append(bar)
        groups.append({"type": t, "label_y": _px(y0 + len(runs) * (bar_h + gap) / 2 + 4), "bars": bars})
    return {
        "title": title, "width": label_w + bar_w + value_w, "height": height, "bar_x": label_w, "bar_h": bar_h,
        "label_x": label_w - 8, "value_x": label_w + bar_w + 6, "grid_y1": top - 4, "grid_y2": height - 16,
        "ticks": [{"x": _px(label_w + frac * bar_w), "label": f"{frac * 100:.0f}%"} for frac in (0, 0.25, 0.5, 0.75, 1)],
        "groups": groups,
    }


def _latency_chart(runs: Sequence[EvalRun]) -> dict[str, Any]:
    """Each run's latencies sorted (x: share of questions, y: ms) with its p50 and p95 marked, as SVG geometry."""
    series = [sorted(r.latency_ms for r in run.items if r.error is None) for run in runs]
    top_ms = max((s[-1] for s in series if s), default=1.0) or 1.0
    magnitude = 10 ** math.floor(math.log10(max(top_ms, 1.0)))
    y_max = next(m * magnitude for m in (1, 2, 4, 8, 10) if m * magnitude >= top_ms)  # quarters stay round numbers
    left, right, top, bottom, width, height = 52, 12, 10, 26, 900, 190
    plot_w, plot_h = width - left - right, height - top - bottom

    def y_of(ms: float) -> float:
        return _px(top + plot_h * (1 - ms / y_max))

    lines = []
    for ri, (run, s) in enumerate(zip(runs, series)):
        if not s:
            continue
        n = len(s)
        points = " ".join(f"{_px(left + plot_w * (i / (n - 1) if n > 1 else 0.5))},{y_of(v)}" for i, v in enumerate(s))
        marks = []
        for p in (50, 95):
            v = percentile(s, p)
            assert v is not None
            x, y = _px(left + plot_w * p / 100), y_of(v)
            dy = -8 if ri % 2 == 0 else 18  # alternate above/below so that two runs' labels do not collide
            marks.append({"x": x, "y": y, "text_x": _px(x - 6), "text_y": _px(y + dy), "label": f"p{p} {v:.0f} ms",
                          "tooltip": f"{run.label}: p{p} {v:.0f} ms"})
        lines.append({"color": _color(ri), "points": points, "marks": marks})
    return {
        "width": width, "height": height, "x1": left, "x2": width - right, "label_x": left - 6,
        "y_ticks": [{"y": _px(top + plot_h * (1 - frac)), "label_y": _px(top + plot_h * (1 - frac) + 4),
                     "label": f"{y_max * frac:.0f} ms"} for frac in (0, 0.25, 0.5, 0.75, 1)],
        "x_ticks": [{"x": _px(left + plot_w * q / 100), "label": f"{q}%", "anchor": anchor}
                    for q, anchor in ((0, "start"), (25, "middle"), (50, "middle"), (75, "middle"), (100, "end"))],
        "x_label_y": height - 8, "lines": lines,
    }


def _card(title: str, attr: str, runs: Sequence[EvalRun], note: Callable[[Metrics], str]) -> dict[str, Any]:
    """One summary card: the metric of each run and, for runs after the first, the change against the first."""
    values = [getattr(r.overall, attr) for r in runs]
    is_ms = attr.startswith("latency")
    higher_better = not (is_ms or attr in ("ungrounded_rate", "errors"))
    rows = []
    for i, v in enumerate(values):
        shown = _ms(v) + " ms" if is_ms and v is not None else (str(v) if attr == "errors" else _pct(v))
        delta = None
        if i > 0 and v is not None and values[0] is not None:
            d = v - values[0]
            if abs(d) > 1e-12:
                text = f"{d:+.0f} ms" if is_ms else (f"{d:+d}" if attr == "errors" else f"{d * 100:+.1f} pt")
                delta = {"text": text, "cls": "up" if (d > 0) == higher_better else "down"}
            else:
                delta = {"text": "±0", "cls": ""}
        rows.append({"color": _color(i), "shown": shown, "delta": delta})
    return {"title": title, "rows": rows, "note": note(runs[0].overall)}


def _type_table(run: EvalRun) -> list[dict[str, Any]]:
    return [{"name": name, "cells": [fmt(m) for _, fmt in _COLUMNS], "is_all": name == "all"}
            for name, m in _metrics_rows(run)]


def _answer_view(r: ItemResult | None) -> dict[str, Any] | None:
    """What one run did with a failing question; None if the question is not in that run."""
    if r is None:
        return None
    a = r.answer
    if a is None:  # it raised: the template shows the error instead
        return {"result": r, "answer": None}
    if r.evidence is None:
        rank = "no evidence to look for"
    elif r.retrieval_rank:
        rank = f"evidence at retrieval rank {r.retrieval_rank}"
    else:
        rank = f"evidence not in the top {len(a.retrieved)} retrieved passages"
    return {"result": r, "answer": a, "asked_as": a.standalone_question,
            "meta": f"{rank} · {r.latency_ms:.0f} ms"}


def _failures(runs: Sequence[EvalRun]) -> list[dict[str, Any]]:
    """Every question failing in any run, in run order: the expected side (from the first run that has it) and
    each run's answer."""
    by_run = [{r.id: r for r in run.items} for run in runs]
    order = dict.fromkeys(r.id for run in runs for r in run.items)
    failing = [i for i in order if any(i in m and not m[i].passed for m in by_run)]
    return [{"expected": next(m[i] for m in by_run if i in m), "answers": [_answer_view(m.get(i)) for m in by_run]}
            for i in failing]


def render_html(runs: Sequence[EvalRun], thresholds: dict[str, float | None] | None = None) -> str:
    """A self-contained HTML report (inline CSS and SVG, no scripts, nothing fetched): summary cards, per-type bar
    charts, latency, per-type tables and every failing question with what was expected next to what each run
    answered and cited. All question, answer and report text is HTML-escaped (the template autoescapes)."""
    runs = list(runs)
    if not runs:
        raise ValueError("no runs to report")
    active = {k: v for k, v in (thresholds or {}).items() if v is not None}
    page = _environment().get_template("report.html.j2").render(
        runs=[{"letter": _letter(i), "color": _color(i), "run": run,
               "chunking": ", ".join(f"{k}={v}" for k, v in run.config["chunking"].items()),
               "type_rows": _type_table(run)}
              for i, run in enumerate(runs)],
        many=len(runs) > 1,
        first=runs[0],
        when=runs[0].started_at.replace("T", " "),
        durations=" + ".join(f"{r.duration_s:.1f} s" for r in runs),
        limits=", ".join(f"{k.replace('_', ' ')} ≥ {v:g}" for k, v in active.items()),
        threshold_failures=[msg for run in runs for msg in check_thresholds(run, **(thresholds or {}))] if active else [],
        cards=[_card(title, attr, runs, note) for title, attr, note in _CARDS],
        charts=[_bar_chart(title, attr, runs) for title, attr in _CHARTS],
        latency=_latency_chart(runs),
        type_headers=["type", *(h for h, _ in _COLUMNS)],
        failures=_failures(runs),
        ms=_ms,
    )
    logger.debug("rendered the HTML report of %d run(s): %d characters", len(runs), len(page))
    return page
