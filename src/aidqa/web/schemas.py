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


class BuildChanges(BaseModel):
    """What an index build changed, by corpus file (relative path) and by passage (the manifest's ``changes``)."""

    added: list[str] = Field(default_factory=list, description="Report files new since the build it replaced.")
    updated: list[str] = Field(default_factory=list, description="Report files whose content changed.")
    removed: list[str] = Field(default_factory=list, description="Report files gone from the corpus.")
    unchanged: list[str] = Field(default_factory=list, description="Report files taken over as they were.")
    embedded_chunks: int = Field(0, description="Passages embedded by this build.")
    reused_chunks: int = Field(0, description="Passages whose vectors were taken over from the previous build.")
    embedded_sentences: int = Field(0, description="The answerer's candidate sentences and headings embedded by this "
                                    "build (aidqa.index.sentences).")
    reused_sentences: int = Field(0, description="Candidate sentences whose vectors were taken over from the previous "
                                  "build.")
    mode: str = Field("full", description="incremental (unchanged reports and vectors reused) or full.")
    built: bool = Field(True, description="False when the index was already up to date and nothing was written.")


class IndexInfo(BaseModel):
    name: str = Field(description="Index name (embedding model + chunking + text rules).")
    status: str = Field(description="State of the index on disk: ready, stale (the corpus changed since it was "
                        "built; the loaded index keeps serving until a restart), missing or corrupt.")
    chunk_count: int = Field(description="Passages in the loaded index.")
    path: str = Field(description="Folder of the loaded index build.")
    built_at: str | None = Field(None, description="When the loaded build was made (ISO 8601).")
    changes: BuildChanges | None = Field(None, description="What the loaded build changed relative to the one "
                                         "before it (null for a build made before this was recorded).")


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


class IndexJobInfo(BaseModel):
    """A background indexing job started by an upload or a delete (``GET /api/documents/jobs/{id}``)."""

    id: str = Field(description="The job's id.")
    action: Literal["upload", "delete"]
    file: str = Field(description="The report file the job is about (its id: the path relative to the corpus folder).")
    state: Literal["queued", "running", "done", "failed"] = Field(
        description="queued: waiting for the running build to finish (uploads made meanwhile are indexed together); "
        "running: the index is being built; done: the new index serves; failed: see error (the previous index still "
        "serves).")
    stage: str | None = Field(None, description="What the build is doing while running (e.g. embedding).")
    done: int = Field(0, description="Progress of the stage: items done …")
    total: int = Field(0, description="… out of this many (0 when the stage has no count).")
    changes: BuildChanges | None = Field(None, description="What the build changed, once done.")
    error: str | None = Field(None, description="Why the build failed, once failed.")
    created_at: str = Field(description="When the job was made (ISO 8601, UTC).")
    finished_at: str | None = Field(None, description="When it finished (ISO 8601, UTC).")


class StoredReport(BaseModel):
    """A report file an upload wrote into the corpus folder."""

    id: str = Field(description="The report's id once indexed (its file name in the corpus folder); what "
                    "`DELETE /api/documents/{id}` and `documents` in `/api/ask` take.")
    format: str = Field(description="pdf, docx, html, markdown or text: what its content was checked to be.")
    bytes: int = Field(description="Its size.")
    sha256: str = Field(description="Its content hash (hex).")
    replaced: bool = Field(description="True when it replaced a report of the same name (`replace=true`).")


class UploadResponse(BaseModel):
    document: StoredReport
    job: IndexJobInfo = Field(description="The indexing job; poll `GET /api/documents/jobs/{job.id}` until it is "
                              "done (the report is answerable from then on) or failed.")


class DeleteResponse(BaseModel):
    id: str = Field(description="The report file that was deleted.")
    job: IndexJobInfo = Field(description="The indexing job that drops it from the index.")


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


