"""Reporting a run: thresholds, JSON, the terminal table and comparison, the HTML report."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aidqa.eval.runner import EvalRun
from aidqa.eval.scoring import ItemResult, Metrics, percentile

if TYPE_CHECKING:  # the assistant pulls in torch and chroma; import it only where it is used
    pass


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
_COLUMNS = [  # (header, width, formatter)
    ("n", 4, lambda m: str(m.n)),
    ("answer", 7, lambda m: _f(m.answer_accuracy)),
    ("citation", 9, lambda m: _f(m.citation_accuracy)),
    ("refusal P/R", 12, lambda m: f"{_f(m.refusal_precision, 2)}/{_f(m.refusal_recall, 2)}"),
    ("ungrounded", 11, lambda m: _f(m.ungrounded_rate)),
    ("R@1", 6, lambda m: _f(m.recall_at_1)),
    ("R@3", 6, lambda m: _f(m.recall_at_3)),
    ("R@5", 6, lambda m: _f(m.recall_at_5)),
    ("MRR", 6, lambda m: _f(m.mrr)),
    ("p50 ms", 7, lambda m: _ms(m.latency_p50_ms)),
    ("p95 ms", 7, lambda m: _ms(m.latency_p95_ms)),
    ("errors", 7, lambda m: str(m.errors)),
]


def _f(value: float | None, digits: int = 3) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def _ms(value: float | None) -> str:
    return DASH if value is None else f"{value:.0f}"


def _metrics_rows(run: EvalRun) -> list[tuple[str, Metrics]]:
    return [*run.per_type.items(), ("all", run.overall)]


def failing_lines(run: EvalRun) -> list[str]:
    failing = [r for r in run.items if not r.passed]
    if not failing:
        return [f"No failing items ({len(run.items)} of {len(run.items)} passed)."]
    id_w = max(len(r.id) for r in failing)
    type_w = max(len(r.type) for r in failing)
    lines = [f"Failing items ({len(failing)} of {len(run.items)}):"]
    lines += [f"  {r.id:<{id_w}}  {r.type:<{type_w}}  {'; '.join(r.reasons)}" for r in failing]
    return lines


def _run_header(run: EvalRun) -> list[str]:
    c = run.config
    chunking = ", ".join(f"{k}={v}" for k, v in c["chunking"].items())
    return [
        f"aidqa eval — {run.label}" + (f" — {run.dataset}" if run.dataset else ""),
        (f"{run.overall.n} items in {run.duration_s:.1f} s · model {c['embedding_model']} · "
         f"index {c['index_name']} · top_k {c['top_k']} · chunking {chunking}"),
    ]


def render_table(run: EvalRun, show_failures: bool = True) -> str:
    """Fixed-width table: one row per item type and one for all items, then the failing items with reasons."""
    type_w = max(len("type"), *(len(t) for t in run.per_type), len("all"))
    header = f"{'type':<{type_w}}" + "".join(f"  {h:>{w}}" for h, w, _ in _COLUMNS)
    rule = "-" * len(header)
    lines = [*_run_header(run), "", header, rule]
    for name, m in _metrics_rows(run):
        if name == "all":
            lines.append(rule)
        lines.append(f"{name:<{type_w}}" + "".join(f"  {fmt(m):>{w}}" for _, w, fmt in _COLUMNS))
    lines += ["", (f"{DASH} = not applicable (no such items). answer = must strings in answer; citation = evidence "
                   "in cited quotes; ungrounded = answers with a number not in their quotes.")]
    if show_failures:
        lines += ["", *failing_lines(run)]
    return "\n".join(lines)


_KEY_METRICS = [
    ("answer accuracy", "answer_accuracy"),
    ("citation accuracy", "citation_accuracy"),
    ("refusal precision", "refusal_precision"),
    ("refusal recall", "refusal_recall"),
    ("ungrounded rate", "ungrounded_rate"),
    ("recall@1", "recall_at_1"),
    ("recall@3", "recall_at_3"),
    ("recall@5", "recall_at_5"),
    ("MRR", "mrr"),
    ("latency p50 ms", "latency_p50_ms"),
    ("latency p95 ms", "latency_p95_ms"),
    ("errors", "errors"),
]
_TYPE_METRICS = [("answer", "answer_accuracy"), ("citation", "citation_accuracy"), ("R@3", "recall_at_3")]
_LETTERS = "ABCDEFGH"


def _fmt_metric(attr: str, value: float | None) -> str:
    if attr.startswith("latency"):
        return _ms(value)
    if attr == "errors":
        return DASH if value is None else str(int(value))
    return _f(value)


def _delta(attr: str, a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return DASH
    d = b - a
    if attr.startswith("latency") or attr == "errors":
        return f"{d:+.0f}"
    return f"{d:+.3f}"


def render_comparison(runs: Sequence[EvalRun], show_failures: bool = True) -> str:
    """Side by side: overall and per-type key metrics of each run, the delta of each run against the first (A),
    the items whose pass/fail changed, and (``show_failures``) each run's failing items."""
    runs = list(runs)
    if len(runs) < 2:
        return render_table(runs[0], show_failures)
    letters = _LETTERS[: len(runs)]
    lines = [f"aidqa eval — comparison on {runs[0].overall.n} items" + (f" — {runs[0].dataset}" if runs[0].dataset else "")]
    for letter, run in zip(letters, runs):
        c = run.config
        lines.append(f"  {letter}: {run.label}  (model {c['embedding_model']}, index {c['index_name']}, "
                     f"{run.duration_s:.1f} s)")
    name_w = max(len(n) for n, _ in _KEY_METRICS)
    col = 9
    head = f"{'metric':<{name_w}}" + "".join(f"  {x:>{col}}" for x in letters)
    head += "".join(f"  {'Δ ' + x + '−A':>{col}}" for x in letters[1:])
    lines += ["", head, "-" * len(head)]
    for name, attr in _KEY_METRICS:
        values = [getattr(r.overall, attr) for r in runs]
        row = f"{name:<{name_w}}" + "".join(f"  {_fmt_metric(attr, v):>{col}}" for v in values)
        row += "".join(f"  {_delta(attr, values[0], v):>{col}}" for v in values[1:])
        lines.append(row)

    types = list(dict.fromkeys(t for r in runs for t in r.per_type))
    type_w = max(len("type"), *(len(t) for t in types))
    head = f"{'type':<{type_w}}  {'n':>4}"
    for short, _ in _TYPE_METRICS:
        head += "".join(f"  {short + ' ' + x:>{col}}" for x in letters)
        head += "".join(f"  {'Δ' + x:>{6}}" for x in letters[1:])
    lines += ["", "Per type:", head, "-" * len(head)]
    for t in types:
        ms = [r.per_type.get(t) for r in runs]
        n = next((m.n for m in ms if m is not None), 0)
        row = f"{t:<{type_w}}  {n:>4}"
        for _, attr in _TYPE_METRICS:
            values = [getattr(m, attr) if m is not None else None for m in ms]
            row += "".join(f"  {_f(v):>{col}}" for v in values)
            row += "".join(f"  {_delta(attr, values[0], v):>{6}}" for v in values[1:])
        lines.append(row)

    base = {r.id: r for r in runs[0].items}
    for letter, run in zip(letters[1:], runs[1:]):
        fixed = [r for r in run.items if r.id in base and r.passed and not base[r.id].passed]
        broken = [r for r in run.items if r.id in base and not r.passed and base[r.id].passed]
        lines += ["", f"Changed from A to {letter}: {len(fixed)} fixed, {len(broken)} broken"]
        lines += [f"  fixed   {r.id}" for r in fixed]
        lines += [f"  broken  {r.id}  {'; '.join(r.reasons)}" for r in broken]
    if show_failures:
        for letter, run in zip(letters, runs):
            lines += ["", f"{letter} ({run.label}):", *failing_lines(run)]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------------------------

_COLORS = ["#2563eb", "#f59e0b", "#10b981", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626"]

_CSS = """
:root { --ink:#1f2937; --muted:#6b7280; --line:#e5e7eb; --bg:#f6f7f9; --card:#fff; --bad:#b91c1c; --good:#047857; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); font: 15px/1.55 system-ui, -apple-system, "Segoe UI",
  "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
  "WenQuanYi Micro Hei", "Noto Serif CJK SC", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 28px 24px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 19px; margin: 34px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 8px; }
.sub { color: var(--muted); margin: 0; }
.banner { margin: 16px 0 0; padding: 10px 14px; border-radius: 8px; font-weight: 600; }
.banner.pass { background: #ecfdf5; color: var(--good); border: 1px solid #a7f3d0; }
.banner.fail { background: #fef2f2; color: var(--bad); border: 1px solid #fecaca; }
.banner ul { margin: 6px 0 0; padding-left: 20px; font-weight: 400; }
.configs { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 12px; margin-top: 18px; }
.config, .card, .chart, .item { background: var(--card); border: 1px solid var(--line); border-radius: 10px; }
.config { padding: 12px 14px; font-size: 13px; }
.config .name { font-weight: 600; font-size: 14px; margin-bottom: 4px; }
.config code { font-size: 12px; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 3px; margin-right: 6px; vertical-align: -1px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(178px, 1fr)); gap: 12px; }
.card { padding: 12px 14px; }
.card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .v { font-size: 26px; font-weight: 650; line-height: 1.2; margin-top: 2px; font-variant-numeric: tabular-nums; }
.card .v.small { font-size: 18px; }
.card .row { display: flex; align-items: baseline; gap: 6px; }
.card .d { font-size: 12px; font-variant-numeric: tabular-nums; }
.card .note { color: var(--muted); font-size: 12px; margin-top: 2px; }
.up { color: var(--good); } .down { color: var(--bad); }
.charts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; }
.chart { padding: 12px 12px 6px; }
.chart svg { width: 100%; height: auto; display: block; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 13px; margin: 0 0 10px; color: var(--muted); }
.latency { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.latency p { margin: 0 0 6px; }
.latency svg { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; background: var(--card); font-size: 13px;
  font-variant-numeric: tabular-nums; border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
th, td { padding: 6px 9px; text-align: right; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: #f9fafb; font-weight: 600; color: #374151; }
tr.all td { font-weight: 650; background: #f9fafb; }
details { margin-top: 10px; } summary { cursor: pointer; color: #374151; font-weight: 600; }
.item { padding: 14px 16px; margin-bottom: 12px; }
.item-head { display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; margin-bottom: 8px; }
.item-head .id { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 13px; color: var(--muted); }
.item-head .q { font-size: 16px; font-weight: 600; }
.badge { display: inline-block; font-size: 11px; padding: 1px 7px; border-radius: 999px; background: #eef2ff; color: #3730a3;
  font-weight: 600; white-space: nowrap; }
.badge.refused { background: #f3f4f6; color: #4b5563; }
.badge.pass { background: #ecfdf5; color: var(--good); }
.badge.fail { background: #fef2f2; color: var(--bad); }
.history { font-size: 13px; color: var(--muted); margin: -2px 0 8px; }
.history div { margin: 1px 0; }
.cols { display: grid; gap: 12px; }
.cols > div { min-width: 0; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: #fcfcfd; }
.cols h4 { margin: 0 0 6px; font-size: 13px; color: #374151; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.label { color: var(--muted); font-size: 12px; margin: 6px 0 2px; }
.must { display: flex; flex-wrap: wrap; gap: 5px; }
.must span { background: #fff7ed; border: 1px solid #fed7aa; color: #9a3412; border-radius: 6px; padding: 0 6px; font-size: 13px; }
.must span.ok { background: #ecfdf5; border-color: #a7f3d0; color: var(--good); }
.evidence, .quote { font-size: 13px; background: #fff; border-left: 3px solid #cbd5e1; padding: 4px 8px; margin: 2px 0; }
.answer { white-space: pre-wrap; word-break: break-word; font-size: 14px; }
.reasons { display: flex; flex-wrap: wrap; gap: 5px; margin-bottom: 6px; }
.reasons span { background: #fef2f2; color: var(--bad); border-radius: 6px; padding: 0 7px; font-size: 12px; }
.cites { margin: 4px 0 0; padding: 0; list-style: none; }
.cites li { margin: 6px 0 0; font-size: 13px; }
.cites .src { color: var(--muted); font-size: 12px; }
.meta { color: var(--muted); font-size: 12px; margin-top: 6px; }
.empty { color: var(--muted); }
footer { color: var(--muted); font-size: 12px; margin-top: 40px; }
@media (max-width: 900px) { .charts { grid-template-columns: 1fr; } }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _pct(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.1f}%"


def _bar_chart(title: str, attr: str, runs: Sequence[EvalRun]) -> str:
    """Horizontal grouped bars (one group per type, one bar per run), values 0–1, as inline SVG."""
    types = list(dict.fromkeys(t for r in runs for t in r.per_type)) + ["all"]
    label_w, bar_w, value_w = 92, 230, 52
    width = label_w + bar_w + value_w
    bar_h, gap = 13, 2
    group_h = len(runs) * (bar_h + gap) + 9
    top = 8
    height = top + group_h * len(types) + 20
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}" font-size="11">']
    for frac in (0, 0.25, 0.5, 0.75, 1):
        x = label_w + frac * bar_w
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 16}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle" fill="#9ca3af">{frac * 100:.0f}%</text>')
    for gi, t in enumerate(types):
        y0 = top + gi * group_h
        mid = y0 + (len(runs) * (bar_h + gap)) / 2
        weight = ' font-weight="700"' if t == "all" else ""
        parts.append(f'<text x="{label_w - 8}" y="{mid + 4:.1f}" text-anchor="end" fill="#374151"{weight}>{_e(t)}</text>')
        for ri, run in enumerate(runs):
            m = run.overall if t == "all" else run.per_type.get(t)
            value = getattr(m, attr) if m is not None else None
            y = y0 + ri * (bar_h + gap)
            color = _COLORS[ri % len(_COLORS)]
            if value is None:
                parts.append(f'<text x="{label_w + 4}" y="{y + bar_h - 3}" fill="#9ca3af">{DASH} n/a</text>')
                continue
            w = max(value * bar_w, 1.5)
            n_note = f"{getattr(m, _DENOMINATORS[attr])} items"
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="2" fill="{color}">'
                         f'<title>{_e(run.label)} · {_e(t)}: {_pct(value)} of {n_note}</title></rect>')
            parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + bar_h - 3}" fill="#374151">{_pct(value)}</text>')
    parts.append("</svg>")
    return f'<div class="chart"><h3>{_e(title)}</h3>{"".join(parts)}</div>'


_DENOMINATORS = {"answer_accuracy": "answerable", "citation_accuracy": "cited", "recall_at_3": "retrieval_scored"}


def _latency_chart(runs: Sequence[EvalRun]) -> str:
    """Each run's latencies sorted (x: share of questions, y: ms) with its p50 and p95 marked."""
    series = [sorted(r.latency_ms for r in run.items if r.error is None) for run in runs]
    top_ms = max((s[-1] for s in series if s), default=1.0) or 1.0
    magnitude = 10 ** math.floor(math.log10(max(top_ms, 1.0)))
    y_max = next(m * magnitude for m in (1, 2, 4, 8, 10) if m * magnitude >= top_ms)  # quarters stay round numbers
    left, right, top, bottom, width, height = 52, 12, 10, 26, 900, 190
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="latency" font-size="11">']
    for frac in (0, 0.25, 0.5, 0.75, 1):
        y = top + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#9ca3af">{y_max * frac:.0f} ms</text>')
    for q, anchor in ((0, "start"), (25, "middle"), (50, "middle"), (75, "middle"), (100, "end")):
        x = left + plot_w * q / 100
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}" fill="#9ca3af">{q}%</text>')
    for ri, (run, s) in enumerate(zip(runs, series)):
        if not s:
            continue
        color = _COLORS[ri % len(_COLORS)]
        n = len(s)
        pts = " ".join(
            f"{left + plot_w * (i / (n - 1) if n > 1 else 0.5):.1f},{top + plot_h * (1 - v / y_max):.1f}"
            for i, v in enumerate(s)
        )
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        for p in (50, 95):
            v = percentile(s, p)
            assert v is not None
            x, y = left + plot_w * p / 100, top + plot_h * (1 - v / y_max)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#fff" stroke="{color}" stroke-width="2">'
                         f'<title>{_e(run.label)}: p{p} {v:.0f} ms</title></circle>')
            dy = -8 if ri % 2 == 0 else 18  # alternate above/below so that two runs' labels do not collide
            parts.append(f'<text x="{x - 6:.1f}" y="{y + dy:.1f}" text-anchor="end" fill="{color}">p{p} {v:.0f} ms</text>')
    parts.append("</svg>")
    return "".join(parts)


def _legend(runs: Sequence[EvalRun]) -> str:
    if len(runs) < 2:
        return ""
    entries = "".join(
        f'<span><span class="swatch" style="background:{_COLORS[i % len(_COLORS)]}"></span>'
        f"{_LETTERS[i] if i < len(_LETTERS) else i + 1}: {_e(run.label)}</span>"
        for i, run in enumerate(runs)
    )
    return f'<div class="legend">{entries}</div>'


def _card(title: str, attr: str, runs: Sequence[EvalRun], note: Callable[[Metrics], str]) -> str:
    values = [getattr(r.overall, attr) for r in runs]
    is_ms = attr.startswith("latency")
    higher_better = not (is_ms or attr in ("ungrounded_rate", "errors"))
    rows = []
    for i, v in enumerate(values):
        shown = _ms(v) + " ms" if is_ms and v is not None else (str(v) if attr == "errors" else _pct(v))
        swatch = f'<span class="swatch" style="background:{_COLORS[i % len(_COLORS)]}"></span>' if len(runs) > 1 else ""
        delta = ""
        if i > 0 and v is not None and values[0] is not None:
            d = v - values[0]
            if abs(d) > 1e-12:
                cls = "up" if (d > 0) == higher_better else "down"
                text = f"{d:+.0f} ms" if is_ms else (f"{d:+d}" if attr == "errors" else f"{d * 100:+.1f} pt")
                delta = f'<span class="d {cls}">{text}</span>'
            else:
                delta = '<span class="d">±0</span>'
        size = " small" if len(runs) > 1 else ""
        rows.append(f'<div class="row">{swatch}<span class="v{size}">{shown}</span>{delta}</div>')
    return (f'<div class="card"><div class="k">{_e(title)}</div>{"".join(rows)}'
            f'<div class="note">{_e(note(runs[0].overall))}</div></div>')


def _cards(runs: Sequence[EvalRun]) -> str:
    cards = [
        ("answer accuracy", "answer_accuracy", lambda m: f"of {m.answerable} answerable questions"),
        ("citation accuracy", "citation_accuracy", lambda m: f"evidence cited, of {m.cited}"),
        ("refusal precision", "refusal_precision", lambda m: f"of {m.refused} refused"),
        ("refusal recall", "refusal_recall", lambda m: f"of {m.expected_refusals} to refuse"),
        ("ungrounded answers", "ungrounded_rate", lambda m: f"of {m.answered} answered"),
        ("recall@1", "recall_at_1", lambda m: f"evidence in top 1, of {m.retrieval_scored}"),
        ("recall@3", "recall_at_3", lambda m: f"evidence in top 3, of {m.retrieval_scored}"),
        ("recall@5", "recall_at_5", lambda m: f"evidence in top 5, of {m.retrieval_scored}"),
        ("MRR", "mrr", lambda m: "mean of 1/rank of the evidence"),
        ("latency p50", "latency_p50_ms", lambda m: "median per question"),
        ("latency p95", "latency_p95_ms", lambda m: "95th percentile"),
        ("errors", "errors", lambda m: "questions that raised"),
    ]
    return '<div class="cards">' + "".join(_card(t, a, runs, n) for t, a, n in cards) + "</div>"


def _type_table(run: EvalRun) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h, _, _ in _COLUMNS)
    rows = []
    for name, m in _metrics_rows(run):
        cls = ' class="all"' if name == "all" else ""
        rows.append(f"<tr{cls}><td>{_e(name)}</td>" + "".join(f"<td>{_e(fmt(m))}</td>" for _, _, fmt in _COLUMNS) + "</tr>")
    return f"<table><thead><tr><th>type</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _expected_block(r: ItemResult) -> str:
    parts = ['<div><h4>Expected</h4>']
    if r.expected_refusal:
        parts.append('<div><span class="badge refused">refusal</span> the reports do not answer this</div>')
    if r.must:
        parts.append('<div class="label">must appear in the answer</div><div class="must">'
                     + "".join(f"<span>{_e(m)}</span>" for m in r.must) + "</div>")
    if r.evidence is not None:
        parts.append(f'<div class="label">evidence (must be cited)</div><div class="evidence">{_e(r.evidence)}</div>')
    parts.append("</div>")
    return "".join(parts)


def _answer_block(r: ItemResult | None, run: EvalRun, index: int, many: bool) -> str:
    color = _COLORS[index % len(_COLORS)]
    letter = _LETTERS[index] if index < len(_LETTERS) else str(index + 1)
    name = (f'<span><span class="swatch" style="background:{color}"></span>{_e(letter)}: {_e(run.label)}</span>'
            if many else "<span>Answer</span>")
    if r is None:
        return f'<div><h4>{name}</h4><div class="empty">not in this run</div></div>'
    status = '<span class="badge pass">pass</span>' if r.passed else '<span class="badge fail">fail</span>'
    parts = [f"<div><h4>{name} {status}</h4>"]
    if r.reasons:
        parts.append('<div class="reasons">' + "".join(f"<span>{_e(x)}</span>" for x in r.reasons) + "</div>")
    a = r.answer
    if a is None:
        parts.append(f'<div class="empty">no answer ({_e(r.error or "error")})</div></div>')
        return "".join(parts)
    rewritten = getattr(a, "standalone_question", None)
    if rewritten:
        parts.append(f'<div class="label">asked as: {_e(rewritten)}</div>')
    refused = '<span class="badge refused">refused</span> ' if a.refused else ""
    parts.append(f'<div class="answer">{refused}{_e(a.answer)}</div>')
    if a.citations:
        parts.append('<ul class="cites">')
        for c in a.citations:
            parts.append(f'<li><span class="src">[{c.id}] {_e(c.source)} · {_e(c.section)} · {c.start}–{c.end}</span>'
                         f'<div class="quote">{_e(c.quote)}</div></li>')
        parts.append("</ul>")
    if r.evidence is not None:
        rank = f"evidence at retrieval rank {r.retrieval_rank}" if r.retrieval_rank else \
            f"evidence not in the top {len(a.retrieved)} retrieved passages"
    else:
        rank = "no evidence to look for"
    parts.append(f'<div class="meta">{_e(rank)} · {r.latency_ms:.0f} ms</div></div>')
    return "".join(parts)


def _failures_section(runs: Sequence[EvalRun]) -> str:
    by_run = [{r.id: r for r in run.items} for run in runs]
    order = list(dict.fromkeys(r.id for run in runs for r in run.items))
    failing = [i for i in order if any(i in m and not m[i].passed for m in by_run)]
    many = len(runs) > 1
    title = f"Failing questions ({len(failing)})" if not many else f"Questions failing in any run ({len(failing)})"
    if not failing:
        return f'<h2>{title}</h2><p class="empty">Every question passed.</p>'
    articles = []
    for item_id in failing:
        first = next(m[item_id] for m in by_run if item_id in m)
        head = (f'<div class="item-head"><span class="id">{_e(item_id)}</span><span class="badge">{_e(first.type)}</span>'
                f'<span class="q">{_e(first.question)}</span></div>')
        history = ""
        if first.history:
            turns = "".join(f"<div>earlier: {_e(u)} → {_e(a)}</div>" for u, a in first.history)
            history = f'<div class="history">{turns}</div>'
        blocks = [_expected_block(first)] + [_answer_block(m.get(item_id), run, i, many) for i, (m, run) in
                                             enumerate(zip(by_run, runs))]
        cols = f"minmax(0, 0.8fr) repeat({len(runs)}, minmax(0, 1.2fr))"
        articles.append(f'<article class="item">{head}{history}'
                        f'<div class="cols" style="grid-template-columns:{cols}">{"".join(blocks)}</div></article>')
    return f"<h2>{title}</h2>" + "".join(articles)


def render_html(runs: Sequence[EvalRun], thresholds: dict[str, float | None] | None = None) -> str:
    """A self-contained HTML report (inline CSS and SVG, no scripts, nothing fetched): summary cards, per-type bar
    charts, latency, per-type tables and every failing question with what was expected next to what each run
    answered and cited. All question, answer and report text is HTML-escaped."""
    runs = list(runs)
    if not runs:
        raise ValueError("no runs to report")
    first = runs[0]
    many = len(runs) > 1
    title = "aidqa evaluation" + (" — comparison" if many else "")
    when = first.started_at.replace("T", " ")
    dataset = f"{_e(first.dataset)} · " if first.dataset else ""
    out = [
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        (f'<p class="sub">{dataset}{first.overall.n} questions · {_e(when)} · '
         f'{" + ".join(f"{r.duration_s:.1f} s" for r in runs)}</p>'),
    ]
    active = {k: v for k, v in (thresholds or {}).items() if v is not None}
    if active:
        failures = [msg for run in runs for msg in check_thresholds(run, **(thresholds or {}))]
        limits = ", ".join(f"{k.replace('_', ' ')} ≥ {v:g}" for k, v in active.items())
        if failures:
            out.append(f'<div class="banner fail">Thresholds not met ({_e(limits)})<ul>'
                       + "".join(f"<li>{_e(f)}</li>" for f in failures) + "</ul></div>")
        else:
            out.append(f'<div class="banner pass">All thresholds met ({_e(limits)})</div>')
    out.append('<div class="configs">')
    for i, run in enumerate(runs):
        c = run.config
        swatch = f'<span class="swatch" style="background:{_COLORS[i % len(_COLORS)]}"></span>' if many else ""
        letter = f"{_LETTERS[i]}: " if many and i < len(_LETTERS) else ""
        chunking = ", ".join(f"{k}={v}" for k, v in c["chunking"].items())
        out.append(f'<div class="config"><div class="name">{swatch}{_e(letter)}{_e(run.label)}</div>'
                   f'model <code>{_e(c["embedding_model"])}</code> · index <code>{_e(c["index_name"])}</code><br>'
                   f'chunking {_e(chunking)} · top_k {_e(c["top_k"])}</div>')
    out.append("</div>")
    out += ["<h2>Overall</h2>", _legend(runs), _cards(runs)]
    out += ["<h2>By question type</h2>", _legend(runs), '<div class="charts">',
            _bar_chart("Answer accuracy", "answer_accuracy", runs),
            _bar_chart("Citation accuracy", "citation_accuracy", runs),
            _bar_chart("Retrieval recall@3", "recall_at_3", runs), "</div>"]
    line = " · ".join(
        f"{_e(run.label) + ': ' if many else ''}p50 {_ms(run.overall.latency_p50_ms)} ms, "
        f"p95 {_ms(run.overall.latency_p95_ms)} ms" for run in runs
    )
    out += ["<h2>Latency</h2>", f'<div class="latency"><p>{line} — per question, sorted fastest to slowest</p>',
            _latency_chart(runs), "</div>"]
    for i, run in enumerate(runs):
        prefix = f"{_LETTERS[i]}: {run.label} — " if many and i < len(_LETTERS) else ""
        out.append(f"<details{' open' if i == 0 else ''}><summary>{_e(prefix)}all metrics by type</summary>"
                   f"{_type_table(run)}</details>")
    out.append(_failures_section(runs))
    out.append('<footer>answer: every <i>must</i> string in the answer (refusal expected: refused) · citation: the '
               'evidence inside the cited quotes · recall@k: the evidence in the top k retrieved passages · matching '
               'ignores whitespace, width and case. Generated by <code>aidqa eval</code>.</footer>')
    out.append("</main></body></html>")
    return "\n".join(out)
