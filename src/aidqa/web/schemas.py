"""The JSON API's request and response models and its one exception type (no routes here, so the service
and the routes can both use them)."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aidqa.index.catalogue import ReportEntry, SkippedEntry
from aidqa.models import Answer
from aidqa.web.errors import ErrorDetail, ErrorInfo, ErrorResponse
from aidqa.web.security import (
    MAX_HISTORY_TURNS,
)

MAX_BATCH = 100
MAX_DOCUMENTS = 1000  # reports one question may be restricted to
RETRY_AFTER_BUILDING = 5  # seconds; the packaged model builds the report's index in about a second
RETRY_AFTER_FAILED = 60  # a failed load needs an operator (see the message), so ask clients to back off longer
RETRY_AFTER_BUSY = 1  # a slot frees as soon as one answer is done (well under a second)


# ---- request / response models -----------------------------------------------------------------------------


class AskRequest(BaseModel):
    """A question, optionally with the conversation so far and the reports to answer from. Unknown fields are
    rejected (a typo such as "query" must not be silently ignored). The schema's examples are made from the loaded
    reports when the schema is served (``aidqa.web.api``)."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        description="The question. Empty or whitespace-only questions, and questions longer than the configured "
        "limit (500 characters by default, after whitespace is collapsed), are rejected with 422 invalid_question."
    )
    history: list[tuple[str, str]] = Field(
        default_factory=list,
        max_length=MAX_HISTORY_TURNS,
        description="Earlier turns as [user question, assistant answer] pairs, oldest first.",
    )
    top_k: int | None = Field(
        None, ge=1, le=50, description="How many retrieved passages to return in `retrieved` (default: AIDQA_TOP_K)."
    )
    documents: list[Annotated[str, Field(min_length=1, max_length=1000)]] | None = Field(
        None, max_length=MAX_DOCUMENTS,
        description="Answer only from these reports: report ids (file paths relative to the corpus folder, as in "
        "`GET /api/documents` and a citation's `source`) or titles that no other report shares. Null or empty: every "
        "report. An id or title that names no report (or a title several reports share) is rejected with 422 "
        "invalid_request naming it.",
    )


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[AskRequest] = Field(
        min_length=1, max_length=MAX_BATCH, description=f"1 to {MAX_BATCH} questions, answered in order."
    )


class BatchAnswer(BaseModel):
    ok: Literal[True] = True
    answer: Answer


class BatchFailure(BaseModel):
    ok: Literal[False] = False
    question: str = Field(description="The question as it was sent.")
    error: ErrorInfo


BatchResult = Annotated[BatchAnswer | BatchFailure, Field(discriminator="ok")]


class BatchResponse(BaseModel):
    results: list[BatchResult] = Field(description="One result per question, in the order they were sent.")


class IndexInfo(BaseModel):
    name: str = Field(description="Index name (embedding model + chunking + text rules).")
    status: str = Field(description="State of the index on disk: ready, stale (the corpus changed since it was "
                        "built; the loaded index keeps serving until a restart), missing or corrupt.")
    chunk_count: int = Field(description="Passages in the loaded index.")
    path: str = Field(description="Folder of the loaded index build.")


class HealthResponse(BaseModel):
    status: Literal["ready", "building", "error"] = Field(
        description="ready: questions are answered (HTTP 200). building: the index is still loading (HTTP 503, "
        "retry later). error: the index failed to load (HTTP 503; see message)."
    )
    index: IndexInfo | None = Field(description="The loaded index; null until it is loaded.")
    embedding_model: str
    corpus_files: list[str] = Field(description="Report files, relative to the corpus folder (when ready: the files "
                                    "in the index).")
    skipped_files: list[str] = Field(description="Corpus files the index left out (e.g. empty or unreadable).")
    message: str | None = Field(None, description="Progress while building, the reason for an error, or a warning.")


class DocumentsResponse(BaseModel):
    """The reports of the loaded index and the corpus files it left out."""

    documents: list[ReportEntry] = Field(description="The reports questions are answered from, in corpus order.")
    skipped_files: list[SkippedEntry] = Field(description="Corpus files the index left out, with the reason.")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "AIDQA_AUTH is set and the request has no or wrong HTTP Basic "
          "credentials (unauthorized)."},
    403: {"model": ErrorResponse, "description": "Sent from a web page of another origin that is not in "
          "AIDQA_CORS_ORIGINS (forbidden)."},
    422: {"model": ErrorResponse, "description": "Invalid body (invalid_request; also a `documents` entry that names no "
          "report) or question (invalid_question)."},
    500: {"model": ErrorResponse, "description": "Unexpected error (internal_error); details are in the server log."},
    503: {"model": ErrorResponse, "description": "The index is building (index_building) or failed to load "
          "(index_unavailable), or too many questions are being answered and waiting (busy); see the Retry-After "
          "header."},
}


# ---- errors ------------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error response under /api."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 details: list[ErrorDetail] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers, self.details = status, code, message, headers, details


