"""Feedback on answers (👍/👎 and an optional comment), kept server-side so staff can turn what the public flags into
evaluation data (``aidqa feedback export`` → ``aidqa eval``).

One JSONL file, ``<feedback.dir>/feedback.jsonl``, only ever appended to: a record is one line, written whole under a
thread lock and an exclusive file lock (several workers may share the folder). A comment given after the thumb is a
new line with the same ``id``; the export keeps the last line of each id, so nothing written is ever rewritten.
Every field is bounded (``feedback.*`` settings) and a request over a bound is refused with a message that says
which bound, never cut silently; the file stops growing at ``feedback.max_file_mb``.

``feedback_router`` is the ``POST /api/feedback`` route (included by ``aidqa.web.api``); the UI calls
``FeedbackStore.add`` directly with the answer it rendered.
"""

# No ``from __future__ import annotations``: FastAPI reads the route's annotations as real types.

import datetime as dt
import fcntl
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from aidqa.models import Answer
from aidqa.settings import FeedbackSettings, Settings
from aidqa.web.schemas import ERROR_RESPONSES, ApiError

logger = logging.getLogger(__name__)

FILE_NAME = "feedback.jsonl"
MAX_FIELD_CHARS = 2000  # a citation's title, section or quote: longer than any real one


Short = Annotated[str, Field(max_length=MAX_FIELD_CHARS)]


class FeedbackCitation(BaseModel):
    """What of a citation is kept with a feedback: enough to find the passage again, no offsets to trust."""

    model_config = ConfigDict(extra="ignore")

    id: int = Field(ge=1, le=1000, description="The n of the [n] marker.")
    source: Short = Field(description="Report id (file path relative to the corpus folder).")
    title: Short = ""
    page: int | None = Field(None, ge=1, le=1_000_000)
    section: Short = ""
    quote: Short = Field(description="The cited text.")


class FeedbackRequest(BaseModel):
    """``POST /api/feedback``: a rating of one answer. Unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid")

    rating: Literal["up", "down"] = Field(description="up (👍: the answer is right and useful) or down (👎).")
    question: str = Field(min_length=1, max_length=2000, description="The question as asked.")
    answer: str = Field(max_length=100_000, description="The answer text that was shown.")
    refused: bool = Field(False, description="Whether the answer was the no-answer reply.")
    citations: list[FeedbackCitation] = Field(default_factory=list, max_length=100,
                                              description="The answer's citations (id, source, title, page, section, quote).")
    comment: str = Field("", max_length=20_000, description="Optional: what was wrong or missing.")


class FeedbackRecord(FeedbackRequest):
    """One line of the feedback file."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(description="Feedback id; a later line with the same id (a comment added) replaces it.")
    created: str = Field(description="UTC time, ISO 8601.")
    channel: Literal["ui", "api"] = "api"


class FeedbackSaved(BaseModel):
    id: str = Field(description="The id of the stored feedback.")


class FeedbackRefused(ValueError):
    """The feedback cannot be stored as given (a field over its bound); the message says which."""


class FeedbackFull(RuntimeError):
    """The feedback file reached ``feedback.max_file_mb``."""


def citations_of(answer: Answer) -> list[FeedbackCitation]:
    return [FeedbackCitation(id=c.id, source=c.source, title=c.title, page=c.page, section=c.section,
                             quote=c.quote[:MAX_FIELD_CHARS]) for c in answer.citations]


def check_bounds(request: FeedbackRequest, limits: FeedbackSettings, max_question_chars: int) -> None:
    """Raise ``FeedbackRefused`` naming the first field over its configured bound."""
    problems = [
        (len(request.question) > max_question_chars, f"question is over {max_question_chars} characters"),
        (len(request.answer) > limits.max_answer_chars, f"answer is over {limits.max_answer_chars} characters"),
        (len(request.comment) > limits.max_comment_chars, f"comment is over {limits.max_comment_chars} characters"),
        (len(request.citations) > limits.max_citations, f"more than {limits.max_citations} citations"),
    ]
    for failed, message in problems:
        if failed:
            raise FeedbackRefused(message)


class FeedbackStore:
    """The append-only feedback file of one folder. One instance per file in a process (``store_for``), so the UI
    and the API share its lock."""

    def __init__(self, folder: Path, limits: FeedbackSettings, max_question_chars: int = 500) -> None:
        self.folder = Path(folder)
        self.limits = limits
        self.max_question_chars = max_question_chars
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.folder / FILE_NAME

    def add(self, request: FeedbackRequest, channel: Literal["ui", "api"] = "api", feedback_id: str | None = None) -> FeedbackRecord:
        """Store ``request`` (checked against the bounds) as a new line; ``feedback_id`` reuses an id (a comment
        added to an earlier thumb). Raises ``FeedbackRefused`` or ``FeedbackFull``; OSError from the disk."""
        check_bounds(request, self.limits, self.max_question_chars)
        record = FeedbackRecord(**request.model_dump(), id=feedback_id or uuid.uuid4().hex, channel=channel,
                                created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        line = (record.model_dump_json() + "\n").encode("utf-8")
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab") as f:
                fcntl.flock(f, fcntl.LOCK_EX)  # other processes writing to the same folder wait here
                try:
                    if f.seek(0, 2) + len(line) > self.limits.max_file_mb * 1024 * 1024:
                        raise FeedbackFull(f"the feedback file {self.path} reached feedback.max_file_mb "
                                           f"({self.limits.max_file_mb:g} MB)")
                    f.write(line)
                    f.flush()
                finally:
                    fcntl.flock(f, fcntl.LOCK_UN)
        logger.info("feedback %s (%s) stored", record.id, record.rating)
        return record

    def records(self) -> Iterator[FeedbackRecord]:
        """Every line, in order; a line that is not a record (a torn write from a crash) is skipped with a warning."""
        if not self.path.is_file():
            return
        with open(self.path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    yield FeedbackRecord.model_validate_json(line)
                except ValueError:
                    logger.warning("%s, line %d: not a feedback record; skipped", self.path, n)

    def latest(self) -> list[FeedbackRecord]:
        """One record per id, the last line written for it, in the order the ids first appeared."""
        by_id: dict[str, FeedbackRecord] = {}
        for record in self.records():
            by_id[record.id] = record
        return list(by_id.values())


_STORES: dict[Path, FeedbackStore] = {}
_STORES_LOCK = threading.Lock()


def store_for(settings: Settings) -> FeedbackStore:
    """The process's one store for ``settings.feedback.dir``."""
    folder = Path(settings.feedback.dir).absolute()
    with _STORES_LOCK:
        store = _STORES.get(folder)
        if store is None or store.limits != settings.feedback:
            store = _STORES[folder] = FeedbackStore(folder, settings.feedback, settings.answering.max_question_chars)
        return store


def export_item(record: FeedbackRecord) -> dict[str, object]:
    """One feedback as an item of the question file ``aidqa eval`` reads (``aidqa.eval.dataset``):

    * 👍 on an answer → ``type`` ``feedback-up`` with its first cited quote as ``evidence`` (it must be cited again);
    * 👍 on the no-answer reply → ``type`` ``unanswerable`` (the refusal was right);
    * 👎 → ``type`` ``feedback-down`` with ``expect`` ``answer``: scored only as "answered" until a reviewer adds
      ``must`` or ``evidence`` (the public says what is wrong, not what is right).

    The feedback itself (rating, comment, answer, citations, time) rides along under ``feedback``."""
    item: dict[str, object] = {"id": f"feedback-{record.id}", "question": record.question}
    if record.rating == "up" and record.refused:
        item["type"] = "unanswerable"
    elif record.rating == "up" and record.citations:
        item.update(type="feedback-up", evidence=record.citations[0].quote)
    else:
        item.update(type=f"feedback-{record.rating}", expect="answer")
    item["feedback"] = {"rating": record.rating, "comment": record.comment, "answer": record.answer,
                        "refused": record.refused, "citations": [c.model_dump() for c in record.citations],
                        "created": record.created, "channel": record.channel}
    return item


def export_lines(records: list[FeedbackRecord]) -> Iterator[str]:
    """The export file's lines (``export_item`` of each record), JSON with the Chinese as written."""
    for record in records:
        yield json.dumps(export_item(record), ensure_ascii=False)


def feedback_router(settings: Settings) -> APIRouter:
    """``POST /feedback`` (mounted under /api by ``aidqa.web.api``)."""
    router = APIRouter()

    @router.post("/feedback", status_code=201, response_model=FeedbackSaved, summary="Rate an answer",
                 responses={k: v for k, v in ERROR_RESPONSES.items() if k in (422, 503)})
    def feedback(body: FeedbackRequest) -> FeedbackSaved:
        """Store a 👍/👎 rating of one answer, with the question, the answer, its citations and an optional
        comment (see docs/api.md#feedback). 422 when a field is over its bound, 503 when the feedback file is full."""
        try:
            record = store_for(settings).add(body, channel="api")
        except FeedbackRefused as exc:
            raise ApiError(422, "invalid_request", f"invalid request: {exc}") from exc
        except FeedbackFull as exc:
            raise ApiError(503, "feedback_full", "feedback cannot be stored at the moment: the feedback file is "
                           "full") from exc
        return FeedbackSaved(id=record.id)

    return router
