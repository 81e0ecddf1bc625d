"""The ``aidqa`` command. It only parses arguments, calls the library and maps errors to clean messages."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import click

from aidqa.config import Settings
from aidqa.models import Answer

EXIT_ERROR = 1
EXIT_BAD_INPUT = 2


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _fail(message: str, code: int = EXIT_ERROR) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _library_errors() -> tuple[type[BaseException], ...]:
    from aidqa.embeddings import EmbeddingModelError
    from aidqa.index import IndexUnavailable
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
    en = answer.language == "en"
    lines = [("Answer: " if en else "答：") + answer.answer]
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
@click.option("--rebuild", is_flag=True, help="Rebuild even if the index is up to date.")
@click.pass_context
def index(ctx: click.Context, rebuild: bool) -> None:
    """Build the index of the corpus (only if missing or stale, unless --rebuild)."""
    from aidqa.assistant import Assistant

    assistant = Assistant(_settings(ctx))
    try:
        loaded = assistant.rebuild(_progress_bar(), force=rebuild)
    except _library_errors() as exc:
        _fail(str(exc))
    m = loaded.manifest
    skipped = f", skipped {len(m['skipped_files'])}: {', '.join(m['skipped_files'])}" if m["skipped_files"] else ""
    click.echo(f"index {m['index_name']}: {m['chunk_count']} chunks from {len(m['documents'])} file(s){skipped} ({loaded.path})")


@main.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (with no QUESTION: one per stdin line).")
@click.option("--top-k", type=click.IntRange(1, 50), default=None, help="Passages to retrieve.")
@click.pass_context
def ask(ctx: click.Context, question: str | None, as_json: bool, top_k: int | None) -> None:
    """Answer QUESTION; with no QUESTION, answer each line of standard input (models load once)."""
    from aidqa.assistant import Assistant, InvalidQuestion

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


@main.command()
@click.option("--host", default=None, help="Address to listen on (default AIDQA_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default AIDQA_PORT or 7860).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Start the web app (chat UI)."""
    from aidqa.ui import launch

    settings = _settings(ctx)
    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    launch(settings.model_copy(update=updates))


if __name__ == "__main__":
    main()
