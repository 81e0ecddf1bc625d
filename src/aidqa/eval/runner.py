"""Running an evaluation: ask every item, time it, score it; variant configurations from overrides."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from aidqa.eval.dataset import MIN_EVAL_TOP_K, EvalConfigError, EvalItem
from aidqa.eval.scoring import ItemResult, Metrics, compute_metrics, metrics_by_type, score_item
from aidqa.index.naming import index_name
from aidqa.models import Answer
from aidqa.settings import Settings

if TYPE_CHECKING:  # the assistant pulls in torch and chroma; import it only where it is used
    from aidqa.qa.assistant import Assistant

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------------------------


class EvalRun(BaseModel):
    """One configuration evaluated on one item list."""

    label: str = Field(description="Names the configuration by its overrides ('defaults' when there are none).")
    config: dict[str, Any]
    overrides: dict[str, Any] = Field(default_factory=dict)
    dataset: str | None = None
    items: list[ItemResult]
    overall: Metrics
    per_type: dict[str, Metrics]
    started_at: str
    duration_s: float


def label_for(overrides: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in overrides.items()) or "defaults"


def config_summary(settings: Settings, top_k: int) -> dict[str, Any]:
    """What the run was configured with: model, index, chunking, retrieval and answering settings."""
    return {
        "embedding_model": settings.embedding_model,
        "index_name": index_name(settings),
        "corpus_dir": str(settings.corpus_dir),
        "top_k": top_k,
        "chunking": settings.chunking.model_dump(),
        "retrieval": settings.retrieval.model_dump(),
        "answering": settings.answering.model_dump(),
        **({"llm": settings.llm.model_dump(exclude={"api_key"})} if settings.answering.backend == "llm" else {}),
    }


def _library_errors() -> tuple[type[BaseException], ...]:
    """Errors of the model, index or corpus: they stop the run instead of being scored against one item."""
    from aidqa.index.embeddings import EmbeddingModelError
    from aidqa.index.store import IndexUnavailable
    from aidqa.ingest import CorpusError

    return (CorpusError, IndexUnavailable, EmbeddingModelError, OSError)


def evaluate(
    assistant: Assistant,
    items: Sequence[EvalItem],
    top_k: int = MIN_EVAL_TOP_K,
    progress: Callable[[int, int], None] | None = None,
    overrides: dict[str, Any] | None = None,
    dataset: str | None = None,
    warm_up: bool = True,
) -> EvalRun:
    """Ask every item (with its history) and score it. ``top_k`` passages are retrieved per question (at least 5,
    so that recall@5 means something). ``progress(done, total)`` is called after each item. One untimed question
    is asked first (``warm_up``) so that lazy loading does not land in the first item's latency.

    A question the assistant rejects (``InvalidQuestion``) or any unexpected exception while answering one item is
    recorded as that item's error; model, index and corpus errors propagate."""
    from aidqa.qa.assistant import InvalidQuestion

    if top_k < MIN_EVAL_TOP_K:
        raise ValueError(f"top_k must be at least {MIN_EVAL_TOP_K} for recall@5, got {top_k}")
    fatal = _library_errors()
    started = datetime.now(UTC)
    t_run = time.perf_counter()
    assistant.ensure_ready()
    if warm_up and items:
        try:
            assistant.ask(items[0].question, top_k=top_k)
        except InvalidQuestion:
            pass
    results: list[ItemResult] = []
    for done, item in enumerate(items, start=1):
        answer: Answer | None = None
        error: str | None = None
        t = time.perf_counter()
        try:
            answer = assistant.ask(item.question, history=list(item.history) or None, top_k=top_k)
        except InvalidQuestion as exc:
            error = str(exc)
        except fatal:
            raise
        except Exception as exc:  # one broken item must not hide the scores of the others
            logger.exception("item %s: asking failed", item.id)
            error = f"{type(exc).__name__}: {exc}"
        latency = (time.perf_counter() - t) * 1000
        result = score_item(item, answer, latency, error)
        if not result.passed:
            logger.info("item %s failed: %s", item.id, "; ".join(result.reasons))
        results.append(result)
        if progress is not None:
            progress(done, len(items))
    overrides = dict(overrides or {})
    return EvalRun(
        label=label_for(overrides), config=config_summary(assistant.settings, top_k), overrides=overrides,
        dataset=dataset, items=results, overall=compute_metrics(results), per_type=metrics_by_type(results),
        started_at=started.isoformat(timespec="seconds"), duration_s=round(time.perf_counter() - t_run, 3),
    )


# ---------------------------------------------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------------------------------------------


def setting_keys() -> dict[str, tuple[str, ...]]:
    """Every leaf setting as ``group.field`` (or ``field``) → its path in ``Settings``."""
    keys: dict[str, tuple[str, ...]] = {}
    for name, field in Settings.model_fields.items():
        if field.exclude:  # the flat aliases (llm_base_url, …): set llm.base_url instead
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for sub in annotation.model_fields:
                keys[f"{name}.{sub}"] = (name, sub)
        else:
            keys[name] = (name,)
    return keys


def _canonical_key(raw: str) -> str:
    key = raw.strip().lower()
    return key.removeprefix("aidqa_").replace("__", ".")


def settings_with_overrides(base: Settings, overrides: Iterable[str]) -> tuple[Settings, dict[str, Any]]:
    """``base`` with each ``KEY=VALUE`` applied, validated as a whole (types and cross-field rules checked).

    KEY is a setting as ``chunking.max_chars``, ``chunking__max_chars`` or ``AIDQA_CHUNKING__MAX_CHARS`` (any
    case); VALUE is parsed by pydantic as an environment variable would be. Returns the new settings and the
    applied overrides as ``{canonical key: parsed value}``. Raises ``EvalConfigError`` for a malformed pair, an
    unknown key (the message lists the valid ones) or an invalid value."""
    keys = setting_keys()
    raw: dict[str, str] = {}
    for pair in overrides:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise EvalConfigError(f"override {pair!r} is not KEY=VALUE (for example chunking.max_chars=300)")
        canonical = _canonical_key(key)
        if canonical not in keys:
            raise EvalConfigError(f"unknown setting {key.strip()!r}; valid keys: {', '.join(keys)}")
        raw[canonical] = value.strip()
    if not raw:
        return base, {}
    data = base.model_dump()
    for canonical, value in raw.items():
        path = keys[canonical]
        target = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            given = f" (got {raw[loc]!r})" if loc in raw else ""
            problems.append(f"{loc}: {msg}{given}")
        raise EvalConfigError("invalid override: " + "; ".join(problems)) from None
    applied: dict[str, Any] = {}
    for canonical in raw:
        value: Any = settings
        for part in keys[canonical]:
            value = getattr(value, part)
        applied[canonical] = str(value) if isinstance(value, Path) else value
    return settings, applied
