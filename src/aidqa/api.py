"""The web app: one FastAPI app on one port, with the JSON API under ``/api`` and the Gradio chat UI at ``/``.

``create_app(settings, assistant=None)`` builds it; ``serve(settings)`` runs it with uvicorn (``aidqa serve``,
``python app.py``). Routes:

* ``POST /api/ask`` — ``AskRequest`` → ``Answer`` (the same typed result as the CLI's ``--json``);
* ``POST /api/ask/batch`` — up to 100 questions → one result per question, in order; a bad question gets an error
  result, the others are still answered;
* ``GET /api/health`` — 200 when the index is loaded, 503 while it is building or when it failed (same body);
* ``GET /api/openapi.json``, ``GET /api/docs`` — the schema and Swagger UI;
* ``/`` — the Gradio UI, whose ``/ask`` and ``/ask_json`` endpoints stay callable with ``gradio_client``.

Every error under ``/api`` is JSON ``{"error": {"code", "message", "details"?}}`` (see ``ErrorResponse``); Gradio's
own routes keep Gradio's error handling. The index loads in a background thread (one ``ui.IndexLoader`` shared by
the UI's status line and the API), so the server answers at once: 503 ``index_building`` until it is ready.

The app is assembled in one place (``create_app``) so that access control (auth for UI + API, CORS, blocked file
routes) can be added there later.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations as real types.

import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, Literal

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from aidqa import __version__, ui
from aidqa.assistant import Assistant, InvalidQuestion
from aidqa.config import Settings
from aidqa.ingest import CorpusError, corpus_files
from aidqa.models import Answer

logger = logging.getLogger(__name__)

API_PREFIX = "/api"
MAX_BATCH = 100
MAX_HISTORY_TURNS = 50
MAX_BODY_BYTES = 2 * 1024 * 1024  # a full batch of 500-character questions with history is far below this
RETRY_AFTER_BUILDING = 5  # seconds; the packaged model builds the report's index in about a second
RETRY_AFTER_FAILED = 60  # a failed load needs an operator (see the message), so ask clients to back off longer
QUEUE_CONCURRENCY = 4  # Gradio events run at most this many at a time ...
QUEUE_MAX_SIZE = 64  # ... and at most this many wait


# ---- request / response models -----------------------------------------------------------------------------


class AskRequest(BaseModel):
    """A question, optionally with the conversation so far. Unknown fields are rejected (a typo such as "query"
    must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "天津对口支援黄南州累计投入了多少资金？"},
        {"question": "那泽库县呢？", "history": [["天津给尖扎县医院投入了多少援青资金？", "投入援青资金700万元……"]], "top_k": 5},
    ]})

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


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[AskRequest] = Field(
        min_length=1, max_length=MAX_BATCH, description=f"1 to {MAX_BATCH} questions, answered in order."
    )


class ErrorDetail(BaseModel):
    loc: list[str | int] = Field(description='Where the problem is, e.g. ["body", "top_k"].')
    msg: str
    type: str = Field(description="Pydantic's error type, e.g. missing, extra_forbidden, json_invalid.")


class ErrorInfo(BaseModel):
    code: str = Field(
        description="invalid_request (body does not match the schema), invalid_question (empty or too long), "
        "index_building, index_unavailable, not_found, method_not_allowed, payload_too_large, internal_error."
    )
    message: str = Field(description="What went wrong, for a person to read.")
    details: list[ErrorDetail] | None = Field(None, description="Per-field problems (invalid_request only).")


class ErrorResponse(BaseModel):
    """The body of every error response under /api."""

    error: ErrorInfo


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


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorResponse, "description": "Invalid body (invalid_request) or question (invalid_question)."},
    500: {"model": ErrorResponse, "description": "Unexpected error (internal_error); details are in the server log."},
    503: {"model": ErrorResponse, "description": "The index is building (index_building) or failed to load "
          "(index_unavailable); see the Retry-After header."},
}


# ---- errors ------------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error response under /api."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_response(status: int, code: str, message: str, details: list[ErrorDetail] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorResponse(error=ErrorInfo(code=code, message=message, details=details))
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def _is_api(request: Request) -> bool:
    return _is_api_scope(request.scope)


def _is_api_scope(scope: Scope) -> bool:
    path, root = scope.get("path", ""), scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def _validation_details(exc: RequestValidationError) -> list[ErrorDetail]:
    # Only loc, msg and type: "input" would echo the (possibly huge) body back, "ctx" may hold exceptions.
    return [
        ErrorDetail(loc=[p if isinstance(p, int) else str(p) for p in e.get("loc", ())], msg=str(e.get("msg", "")),
                    type=str(e.get("type", "")))
        for e in exc.errors()
    ]


def _field_path(loc: list[str | int]) -> str:
    """["body", "questions", 1, "question"] -> "questions.1.question"."""
    parts = loc[1:] if len(loc) > 1 and loc[0] == "body" else loc
    return ".".join(str(p) for p in parts)


async def _on_validation_error(request: Request, exc: RequestValidationError) -> Response:
    if not _is_api(request):
        return await request_validation_exception_handler(request, exc)
    details = _validation_details(exc)
    if any(d.type == "json_invalid" for d in details):
        return error_response(422, "invalid_request", "invalid request: the body is not valid JSON", details)
    summary = "; ".join(f"{_field_path(d.loc)}: {d.msg}" for d in details[:5])
    more = f" (and {len(details) - 5} more)" if len(details) > 5 else ""
    return error_response(422, "invalid_request", f"invalid request: {summary}{more}", details)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if not _is_api(request):
        return await http_exception_handler(request, exc)
    message = str(exc.detail)
    if exc.status_code == 413:
        message = f"the request body is over the limit of {MAX_BODY_BYTES} bytes"
    return error_response(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), message,
                          headers=getattr(exc, "headers", None))


async def _on_api_error(request: Request, exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, headers=exc.headers)


def _internal_error() -> JSONResponse:
    return error_response(500, "internal_error", "internal server error; the details are in the server log")


class _DeclaredBodyLimit:
    """Refuses an /api request whose Content-Length is over the limit with a JSON 413 before reading it. (The
    routes' own ``max_body_size`` covers bodies sent without a length, but answers a declared length in plain
    text.)"""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is_api_scope(scope):
            length = Headers(scope=scope).get("content-length", "")
            if length.isdigit() and int(length) > self.max_bytes:
                response = error_response(413, "payload_too_large",
                                          f"the request body is over the limit of {self.max_bytes} bytes")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _GuardedRoute(APIRoute):
    """An /api route whose unexpected exceptions become a logged 500 ``internal_error`` (no traceback in the body),
    handled here rather than by Starlette's ServerErrorMiddleware, which would answer in plain text."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except (StarletteHTTPException, RequestValidationError, ApiError):
                raise
            except Exception:
                logger.exception("%s %s failed", request.method, request.url.path)
                return _internal_error()

        return guarded


# ---- the service -------------------------------------------------------------------------------------------


class ApiService:
    """What the routes need: the shared assistant and the loader that loads its index in the background."""

    def __init__(self, assistant: Assistant, loader: ui.IndexLoader) -> None:
        self.assistant = assistant
        self.loader = loader

    @property
    def settings(self) -> Settings:
        return self.assistant.settings

    def state(self) -> Literal["ready", "building", "error"]:
        if self.assistant.is_ready:
            return "ready"
        return "error" if self.loader.error else "building"

    def require_ready(self) -> None:
        state = self.state()
        if state == "building":
            raise ApiError(503, "index_building", f"the index is still being built; retry in a few seconds "
                           f"({self._progress() or 'starting'})", {"Retry-After": str(RETRY_AFTER_BUILDING)})
        if state == "error":
            raise ApiError(503, "index_unavailable", f"the index failed to load: {self.loader.error}",
                           {"Retry-After": str(RETRY_AFTER_FAILED)})

    def _progress(self) -> str | None:
        if not self.loader.stage:
            return None
        stage, done, total = self.loader.stage
        return f"{stage} {done}/{total}" if total else str(stage)

    def _listed_corpus_files(self) -> list[str]:
        corpus = Path(self.settings.corpus_dir)
        try:
            return [p.relative_to(corpus).as_posix() for p in corpus_files(corpus)]
        except (CorpusError, OSError):
            return []

    def health(self) -> tuple[HealthResponse, int]:
        state = self.state()
        if state != "ready":
            message = (f"the index failed to load: {self.loader.error}" if state == "error"
                       else f"building the index ({self._progress() or 'starting'})")
            body = HealthResponse(status=state, index=None, embedding_model=self.settings.embedding_model,
                                  corpus_files=self._listed_corpus_files(), skipped_files=[], message=message)
            return body, 503
        loaded = self.assistant.ensure_ready()  # already loaded: returns at once
        manifest = loaded.manifest
        try:
            disk_status, reason = self.assistant.store().status()
        except (CorpusError, OSError) as exc:  # e.g. the corpus folder was removed after startup
            disk_status, reason = "missing", f"{type(exc).__name__}: {exc}"
        message = None
        if disk_status != "ready":
            message = f"serving the index loaded at startup; on disk it is {disk_status}: {reason}"
        body = HealthResponse(
            status="ready",
            index=IndexInfo(name=loaded.name, status=disk_status, chunk_count=int(manifest.get("chunk_count", len(loaded.chunks))),
                            path=str(Path(loaded.path).resolve())),
            embedding_model=str(manifest.get("embedding_model", self.settings.embedding_model)),
            corpus_files=list(manifest.get("documents", [])),
            skipped_files=list(manifest.get("skipped_files", [])),
            message=message,
        )
        return body, 200

    def ask(self, request: AskRequest) -> Answer:
        """Raises ApiError 422 for an invalid question (the assistant's message)."""
        try:
            return self.assistant.ask(request.question, history=list(request.history), top_k=request.top_k)
        except InvalidQuestion as exc:
            raise ApiError(422, "invalid_question", str(exc)) from exc


def _api_router(service: ApiService) -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, route_class=_GuardedRoute, max_body_size=MAX_BODY_BYTES, tags=["aidqa"])

    @router.post("/ask", response_model=Answer, responses=ERROR_RESPONSES, summary="Answer one question")
    def ask(body: AskRequest) -> Answer:
        """Answer a question from the reports. The answer quotes the reports verbatim; every `[n]` in it refers to
        `citations[n-1]`. When the reports do not answer the question, `refused` is true and there are no
        citations."""
        service.require_ready()
        return service.ask(body)

    @router.post("/ask/batch", response_model=BatchResponse, responses=ERROR_RESPONSES, summary="Answer many questions")
    def ask_batch(body: BatchRequest) -> BatchResponse:
        """Answer up to 100 questions in order. A question that cannot be asked (empty, too long) gets
        `{"ok": false, "question", "error"}` in its place; the rest are still answered. A body that does not match
        the schema (wrong types, unknown fields, more than 100 questions) is rejected as a whole with 422."""
        service.require_ready()
        results: list[BatchAnswer | BatchFailure] = []
        for item in body.questions:
            try:
                results.append(BatchAnswer(answer=service.ask(item)))
            except ApiError as exc:
                results.append(BatchFailure(question=item.question, error=ErrorInfo(code=exc.code, message=exc.message)))
            except Exception:
                logger.exception("batch question %r failed", item.question)
                results.append(BatchFailure(question=item.question, error=ErrorInfo(
                    code="internal_error", message="internal server error; the details are in the server log")))
        return BatchResponse(results=results)

    @router.get("/health", response_model=HealthResponse, summary="Readiness and index details",
                responses={503: {"model": HealthResponse, "description": "Building or failed (same body)."}})
    def health() -> Response:
        """200 when questions can be answered; 503 (with Retry-After) while the index is building or after it
        failed to load. The body has the same shape either way."""
        body, status = service.health()
        headers = None
        if status == 503:
            headers = {"Retry-After": str(RETRY_AFTER_FAILED if body.status == "error" else RETRY_AFTER_BUILDING)}
        return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)

    known = {route.path: sorted(route.methods) for route in router.routes if isinstance(route, APIRoute)}

    @router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
                      include_in_schema=False)
    def not_found(rest: str) -> Response:
        # Without this, an unknown /api path (or a wrong method) would fall through to the Gradio mount at "/".
        allowed = known.get(f"{API_PREFIX}/{rest}")
        if allowed:
            return error_response(405, "method_not_allowed", f"use {', '.join(allowed)} for {API_PREFIX}/{rest}",
                                  headers={"Allow": ", ".join(allowed)})
        return error_response(404, "not_found", f"no such endpoint: {API_PREFIX}/{rest} (see {API_PREFIX}/docs)")

    return router


# ---- the app -----------------------------------------------------------------------------------------------

DESCRIPTION = """Answers questions about Chinese reports with verbatim quotes and citations (offline, extractive).

* `POST /api/ask` — one question → `Answer`.
* `POST /api/ask/batch` — up to 100 questions → one result each, in order.
* `GET /api/health` — 200 when ready; 503 while the index is building or if it failed.

Errors are always `{"error": {"code": "...", "message": "...", "details": [...]}}` (`details` only for
`invalid_request`). The chat UI is served at `/` on the same port.
"""


def create_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    """The FastAPI app: JSON API under /api, Gradio UI at /. Starts loading the index in the background (one
    loader, shared by the UI and the API). The assistant, loader and Blocks are on ``app.state``."""
    settings = settings or (assistant.settings if assistant is not None else Settings())
    assistant = assistant or Assistant(settings)
    loader = ui.IndexLoader(assistant)
    service = ApiService(assistant, loader)

    app = FastAPI(
        title="aidqa",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_middleware(_DeclaredBodyLimit, max_bytes=MAX_BODY_BYTES)
    # The API routes go in before the Gradio mount at "/", which would otherwise match every path.
    app.include_router(_api_router(service))

    demo = ui.build_ui(assistant, loader=loader)  # starts the loader
    demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY, max_size=QUEUE_MAX_SIZE)
    app = gr.mount_gradio_app(app, demo, path="/", server_name=settings.host, server_port=settings.port,
                              ssr_mode=False, show_error=True)
    app.state.assistant, app.state.loader, app.state.demo, app.state.service = assistant, loader, demo, service
    return app


def serve(settings: Settings | None = None) -> None:
    """Serve the app on settings.host:settings.port with uvicorn; blocks until stopped (Ctrl+C)."""
    import uvicorn

    settings = settings or Settings()
    app = create_app(settings)
    base = f"http://{settings.host}:{settings.port}"
    print(f"aidqa: chat UI at {base}/ , API at {base}{API_PREFIX}/ask (docs: {base}{API_PREFIX}/docs)", flush=True)
    # A browser keeps Gradio's event stream open; do not wait for it forever on Ctrl+C.
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", timeout_graceful_shutdown=5)
