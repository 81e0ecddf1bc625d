"""Evaluation items: the JSONL question file, read strictly (a bad line is reported with its number)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from aidqa.zh.chars import fold_for_match

if TYPE_CHECKING:  # the assistant pulls in torch and chroma; import it only where it is used
    pass


MIN_EVAL_TOP_K = 5  # recall@5 needs at least five retrieved passages
ITEM_FIELDS = ("id", "question", "must", "evidence", "type", "history", "expect", "feedback")


class EvalFileError(ValueError):
    """The eval file cannot be used as given; the message names the file, the line and what is wrong."""


class EvalConfigError(ValueError):
    """A ``KEY=VALUE`` override names no setting or gives it an invalid value."""


# ---------------------------------------------------------------------------------------------------------------
# Items
# ---------------------------------------------------------------------------------------------------------------


class EvalItem(BaseModel):
    """One question of the eval file.

    ``must``: strings that must all appear in the answer (compared folded). ``evidence``: a piece of report text
    that must be inside the cited quotes and is looked for in the retrieved passages (an empty string counts as no
    evidence). An item is *expected to be refused* iff its type is ``unanswerable`` or it has neither ``must`` nor
    ``evidence``, unless ``expect`` says otherwise (``answer``: the question must be answered even without ``must``
    or ``evidence``; ``refusal``). ``feedback``: what a user said about an earlier answer, when the item comes from
    ``aidqa feedback export`` (kept for the reader of the report, not scored)."""

    id: str
    question: str
    must: list[str] = Field(default_factory=list)
    evidence: str | None = None
    type: str = "unknown"
    history: list[tuple[str, str]] = Field(default_factory=list)
    expect: Literal["answer", "refusal"] | None = None
    feedback: dict[str, Any] | None = None

    @property
    def expected_refusal(self) -> bool:
        if self.expect is not None:
            return self.expect == "refusal"
        return self.type == "unanswerable" or (not self.must and self.evidence is None)


def _item_from_json(obj: Any, line: int) -> EvalItem:
    """Check one decoded line field by field so that the message says exactly what is wrong."""
    if not isinstance(obj, dict):
        raise TypeError(f"expected a JSON object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - set(ITEM_FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(map(repr, unknown))} (allowed: {', '.join(ITEM_FIELDS)})")
    item_id = obj.get("id", f"line-{line}")
    if isinstance(item_id, int) and not isinstance(item_id, bool):
        item_id = str(item_id)
    if not isinstance(item_id, str) or not item_id.strip():
        raise ValueError("'id' must be a non-empty string")
    if "question" not in obj:
        raise ValueError("'question' is missing")
    if not isinstance(obj["question"], str):
        raise TypeError(f"'question' must be a string, got {type(obj['question']).__name__}")
    must = obj.get("must", [])
    if must is None:
        must = []
    if not isinstance(must, list) or not all(isinstance(m, str) for m in must):
        raise ValueError("'must' must be a list of strings")
    if any(not fold_for_match(m) for m in must):
        raise ValueError("'must' holds an empty string (it would match any answer)")
    evidence = obj.get("evidence")
    if evidence is not None and not isinstance(evidence, str):
        raise ValueError("'evidence' must be a string or null")
    if evidence is not None and not fold_for_match(evidence):
        evidence = None
    item_type = obj.get("type", "unknown")
    if not isinstance(item_type, str) or not item_type.strip():
        raise ValueError("'type' must be a non-empty string")
    if item_type == "unanswerable" and must:
        raise ValueError("type is 'unanswerable' but 'must' is not empty")
    history = obj.get("history", [])
    if history is None:
        history = []
    if not isinstance(history, list) or not all(
        isinstance(t, list) and len(t) == 2 and all(isinstance(x, str) for x in t) for t in history
    ):
        raise ValueError("'history' must be a list of [user, assistant] string pairs")
    expect = obj.get("expect")
    if expect not in (None, "answer", "refusal"):
        raise ValueError("'expect' must be \"answer\", \"refusal\" or null")
    if expect == "refusal" and must:
        raise ValueError("expect is 'refusal' but 'must' is not empty")
    if expect == "answer" and item_type == "unanswerable":
        raise ValueError("expect is 'answer' but type is 'unanswerable'")
    feedback = obj.get("feedback")
    if feedback is not None and not isinstance(feedback, dict):
        raise ValueError("'feedback' must be an object (as written by aidqa feedback export) or null")
    return EvalItem(id=item_id.strip(), question=obj["question"], must=must, evidence=evidence, type=item_type.strip(),
                    history=[(u, a) for u, a in history], expect=expect, feedback=feedback)


def load_items(path: str | Path) -> list[EvalItem]:
    """Read a JSONL eval file. Blank lines are skipped; any other bad line raises ``EvalFileError`` naming the file,
    the line number and the problem (nothing is skipped silently). Fields: ``question`` (required), ``id``
    (default ``line-N``), ``must``, ``evidence``, ``type`` (default ``unknown``), ``history``, ``expect``, ``feedback``
    (so the file ``aidqa feedback export`` writes is a question file)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EvalFileError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise EvalFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise EvalFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    items: list[EvalItem] = []
    first_line: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalFileError(f"{path}, line {n}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        try:
            item = _item_from_json(obj, n)
        except (TypeError, ValueError) as exc:
            raise EvalFileError(f"{path}, line {n}: {exc}") from None
        if item.id in first_line:
            raise EvalFileError(f"{path}, line {n}: duplicate id {item.id!r} (first used on line {first_line[item.id]})")
        first_line[item.id] = n
        items.append(item)
    if not items:
        raise EvalFileError(f"{path}: no questions in the file")
    return items
