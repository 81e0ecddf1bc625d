"""The ``aidqa`` command. It only parses arguments, calls the library and maps errors to clean messages."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from aidqa.models import Answer
from aidqa.settings import Settings

EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_THRESHOLD = 3  # `aidqa eval`: a --min-* threshold was not met


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _fail(message: str, code: int = EXIT_ERROR) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _library_errors() -> tuple[type[BaseException], ...]:
    from aidqa.index.embeddings import EmbeddingModelError
    from aidqa.index.store import IndexUnavailable
    from aidqa.ingest import CorpusError

    return (CorpusError, IndexUnavailable, EmbeddingModelError, OSError)


def _progress_bar():
    """A tqdm bar on stderr driven by the index builder's progress callback."""
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="chunk", file=sys.stderr, leave=True)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return progress


def render_answer(answer: Answer) -> str:
    """Readable answer with its sources (the form `aidqa ask` prints without --json)."""
    from aidqa.qa.rendering import grounding_note

    en = answer.language == "en"
    lines = [("Answer: " if en else "答：") + answer.answer]
    if note := grounding_note(answer):
        lines.append(note)
    if answer.citations:
        lines.append("")
        lines.append("Sources:" if en else "来源：")
        for c in answer.citations:
            lines.append(f"[{c.id}] {c.source} · {c.section} · {c.start}-{c.end}")
            lines.append(f"    「{c.quote}」")
    return "\n".join(lines)


@click.group()
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.pass_context
def main(ctx: click.Context, verbose: int) -> None:
    """aidqa: answers questions about Chinese reports, quoting them verbatim with citations."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        ctx.obj = {"settings": Settings()}
    except Exception as exc:  # pydantic ValidationError: a bad AIDQA_* variable
        _fail(f"invalid configuration: {exc}")


@main.command()
@click.option("--rebuild", is_flag=True, help="Rebuild from scratch (every report read, every chunk embedded), even if "
              "the index is up to date.")
@click.pass_context
def index(ctx: click.Context, rebuild: bool) -> None:
    """Build the index of the corpus (only if missing or stale, unless --rebuild).

    Only the reports that were added or changed since the last build are read and embedded again; --rebuild
    reads and embeds everything."""
    from aidqa.qa.assistant import Assistant

    assistant = Assistant(_settings(ctx))
    try:
        loaded = assistant.rebuild(_progress_bar(), force=rebuild)
    except _library_errors() as exc:
        _fail(str(exc))
    m = loaded.manifest
    skipped = f", skipped {len(m['skipped_files'])}: {', '.join(m['skipped_files'])}" if m["skipped_files"] else ""
    if loaded.changes is not None:  # what this run did: which reports changed, how many chunks were embedded
        click.echo(loaded.changes.summary())
    # Last, as before: scripts read the build's path from the end of the output.
    click.echo(f"index {m['index_name']}: {m['chunk_count']} chunks from {len(m['documents'])} file(s){skipped} ({loaded.path})")


@main.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (with no QUESTION: one per stdin line).")
@click.option("--top-k", type=click.IntRange(1, 50), default=None, help="Passages to retrieve.")
@click.pass_context
def ask(ctx: click.Context, question: str | None, as_json: bool, top_k: int | None) -> None:
    """Answer QUESTION; with no QUESTION, answer each line of standard input (models load once)."""
    from aidqa.qa.assistant import Assistant, InvalidQuestion

    assistant = Assistant(_settings(ctx))
    try:
        assistant.ensure_ready()
    except _library_errors() as exc:
        _fail(str(exc))
    if question is not None:
        try:
            answer = assistant.ask(question, top_k=top_k)
        except InvalidQuestion as exc:
            _fail(str(exc), EXIT_BAD_INPUT)
        click.echo(answer.model_dump_json() if as_json else render_answer(answer))
        return
    # Batch mode: one question per line in, one result per line out, in order. A bad line gets an error object
    # (never a missing line), so evaluation scripts can zip inputs and outputs.
    for line in sys.stdin:
        line = line.rstrip("\n")
        try:
            answer = assistant.ask(line, top_k=top_k)
        except InvalidQuestion as exc:
            if as_json:
                click.echo(json.dumps({"question": line, "error": str(exc)}, ensure_ascii=False))
            else:
                click.echo(f"Error: {exc}\n")
            continue
        click.echo(answer.model_dump_json() if as_json else render_answer(answer) + "\n")
        sys.stdout.flush()


@main.command("eval")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON report on stdout.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a self-contained HTML report to this file.")
@click.option("--top-k", type=click.IntRange(5, 50), default=5, show_default=True,
              help="Passages retrieved per question (recall@1/3/5 are measured on them).")
@click.option("--min-answer", type=click.FloatRange(0, 1), default=None, help="Fail (exit 3) below this answer accuracy.")
@click.option("--min-citation", type=click.FloatRange(0, 1), default=None,
              help="Fail (exit 3) below this citation accuracy.")
@click.option("--min-refusal", type=click.FloatRange(0, 1), default=None,
              help="Fail (exit 3) below this refusal precision or recall.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a setting for the run, e.g. chunking.max_chars=300 (repeatable).")
@click.option("--compare", "compares", multiple=True, metavar="KEY=VALUE",
              help="Also evaluate a second configuration: the baseline plus these overrides (repeatable).")
@click.option("--show-failures/--no-show-failures", default=True, show_default=True,
              help="List the failing items under the table.")
@click.pass_context
def eval_(ctx: click.Context, file: Path, as_json: bool, report: Path | None, top_k: int, min_answer: float | None,
          min_citation: float | None, min_refusal: float | None, sets: tuple[str, ...], compares: tuple[str, ...],
          show_failures: bool) -> None:
    """Score the assistant on FILE (JSONL: question, must, evidence, type, history per line).

    Exit codes: 0 all thresholds met, 1 model/index/corpus error, 2 bad file or override, 3 a threshold not met."""
    from tqdm import tqdm

    from aidqa import eval as ev

    try:
        items = ev.load_items(file)
        settings, overrides = ev.settings_with_overrides(_settings(ctx), sets)
        configs = [(settings, overrides)]
        if compares:
            other, extra = ev.settings_with_overrides(settings, compares)
            configs.append((other, {**overrides, **extra}))
    except (ev.EvalFileError, ev.EvalConfigError) as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    if report is not None and not report.resolve().parent.is_dir():  # say so now, not after the whole run
        _fail(f"cannot write the report {report}: folder {report.parent} does not exist", EXIT_BAD_INPUT)

    from aidqa.qa.assistant import Assistant

    runs = []
    for config_settings, config_overrides in configs:
        label = ev.label_for(config_overrides)
        assistant = Assistant(config_settings)
        try:
            assistant.ensure_ready(_progress_bar())
            with tqdm(total=len(items), desc=f"eval [{label}]", unit="q", file=sys.stderr, leave=True) as bar:
                runs.append(ev.evaluate(assistant, items, top_k=top_k, progress=lambda done, total: bar.update(1),
                                        overrides=config_overrides, dataset=str(file)))
        except _library_errors() as exc:
            _fail(str(exc))
        del assistant  # one configuration's model and index in memory at a time

    thresholds = {"min_answer": min_answer, "min_citation": min_citation, "min_refusal": min_refusal}
    if as_json:
        click.echo(ev.to_json(runs, thresholds))
    elif len(runs) == 1:
        click.echo(ev.render_table(runs[0], show_failures))
    else:
        click.echo(ev.render_comparison(runs, show_failures))
    if report is not None:
        try:
            report.write_text(ev.render_html(runs, thresholds), encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write the report {report}: {exc.strerror or exc}")
        click.echo(f"HTML report written to {report}", err=True)
    failures = [msg for run in runs for msg in ev.check_thresholds(run, min_answer, min_citation, min_refusal)]
    for msg in failures:
        click.echo(f"FAIL {msg}", err=True)
    if failures:
        sys.exit(EXIT_THRESHOLD)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figure records as a JSON array.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (UTF-8 with BOM, so Excel reads the Chinese).")
@click.option("--grep", default="", help="Only figures whose text, measure, topic, sentence or section contains this.")
@click.option("--unit", default=None, help="Only figures in this unit (元, 人, 人次, 个, %, …).")
@click.option("--min", "minimum", default=None, help="Lowest normalised value, e.g. 7000000, 500万 or 1.5亿.")
@click.option("--max", "maximum", default=None, help="Highest normalised value.")
@click.option("--dates", is_flag=True, help="Include years and dates (left out by default: they are not amounts).")
@click.pass_context
def figures(ctx: click.Context, as_json: bool, as_csv: bool, grep: str, unit: str | None, minimum: str | None,
            maximum: str | None, dates: bool) -> None:
    """List the figures of the reports (extracted at index time), filtered; one per line by default."""
    from aidqa.qa.assistant import Assistant
    from aidqa.qa.figures_table import FigureQuery, csv_bytes, format_value, indicator, parse_amount, select_figures

    if as_json and as_csv:
        _fail("choose one of --json and --csv", EXIT_BAD_INPUT)
    try:
        query = FigureQuery(text=grep, unit=unit, minimum=parse_amount(minimum), maximum=parse_amount(maximum),
                            include_dates=dates)
    except ValueError as exc:
        _fail(f"--min/--max: {exc}", EXIT_BAD_INPUT)
    try:
        found = select_figures(Assistant(_settings(ctx)).figures(), query)
    except _library_errors() as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps([f.model_dump() for f in found], ensure_ascii=False, indent=1))
    elif as_csv:
        sys.stdout.buffer.write(csv_bytes(found))
        sys.stdout.flush()
    else:
        for f in found:
            qualifier = {"approx": "约", "more_than": "超过", "at_least": "以上"}.get(f.qualifier, "")
            click.echo("\t".join([f.raw, format_value(f.value), f.unit, qualifier, indicator(f), f"{f.source}:{f.start}-{f.end}"]))
        click.echo(f"{len(found)} figure(s)", err=True)


@main.group()
def feedback() -> None:
    """The feedback users gave on answers (👍/👎 in the chat, POST /api/feedback)."""


@feedback.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@click.option("--rating", type=click.Choice(["up", "down", "all"]), default="all", show_default=True,
              help="Only this rating.")
@click.pass_context
def feedback_export(ctx: click.Context, output: Path | None, rating: str) -> None:
    """Write the stored feedback as a question file for `aidqa eval` (JSONL, one line per feedback; a comment
    added later replaces the line it belongs to). Prints how many were exported on stderr."""
    from aidqa.web.feedback import export_lines, store_for

    store = store_for(_settings(ctx))
    try:
        records = [r for r in store.latest() if rating in ("all", r.rating)]
    except OSError as exc:
        _fail(f"cannot read the feedback file {store.path}: {exc.strerror or exc}")
    text = "".join(line + "\n" for line in export_lines(records))
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror or exc}", EXIT_BAD_INPUT)
    click.echo(f"{len(records)} feedback(s) exported from {store.path}", err=True)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default AIDQA_HOST or 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default AIDQA_PORT or 7860).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Start the web app on one port: chat UI at /, JSON API at /api (docs at /api/docs)."""
    from aidqa.web.app import serve as serve_app

    settings = _settings(ctx)
    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    serve_app(settings.model_copy(update=updates))


if __name__ == "__main__":
    main()
