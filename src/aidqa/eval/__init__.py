"""Evaluation: run a JSONL file of questions with expected answers through the assistant and score it.

The pieces, each usable on its own:

* ``load_items(path)`` reads the eval file (one JSON object per line) and rejects a bad line with its line number.
* ``score_item(item, answer, latency_ms, error)`` scores one answer. It is a pure function: no model, no index.
* ``compute_metrics(results)`` aggregates scored items; ``evaluate(assistant, items)`` asks and scores them all.
* ``settings_with_overrides(settings, ["chunking.max_chars=300"])`` builds a variant configuration to compare.
* ``render_table``, ``render_comparison``, ``render_html``, ``to_json`` and ``check_thresholds`` report a run.

Every text comparison is made in ``aidqa.zh.fold_for_match`` form (no whitespace, half-width, lower case), so
``１８．５１ 亿元`` matches ``18.51亿元``.
"""

from aidqa.eval.dataset import EvalConfigError, EvalFileError, EvalItem, load_items
from aidqa.eval.reports import check_thresholds, render_comparison, render_html, render_table, report_data, to_json
from aidqa.eval.runner import EvalRun, config_summary, evaluate, label_for, settings_with_overrides
from aidqa.eval.scoring import ItemResult, Metrics, compute_metrics, score_item

__all__ = [
    "EvalConfigError",
    "EvalFileError",
    "EvalItem",
    "EvalRun",
    "ItemResult",
    "Metrics",
    "check_thresholds",
    "compute_metrics",
    "config_summary",
    "evaluate",
    "label_for",
    "load_items",
    "render_comparison",
    "render_html",
    "render_table",
    "report_data",
    "score_item",
    "settings_with_overrides",
    "to_json",
]
