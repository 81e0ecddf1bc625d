"""The web app: one FastAPI app on one port, with the JSON API under ``/api`` and the Gradio chat UI at ``/``.

``create_app(settings, assistant=None)`` builds it; ``serve(settings)`` runs it with uvicorn (``aidqa serve``,
``python app.py``). Routes:

* ``POST /api/ask`` — ``AskRequest`` → ``Answer`` (the same typed result as the CLI's ``--json``);
* ``POST /api/ask/batch`` — up to 100 questions → one result per question, in order; a bad question gets an error
  result, the others are still answered;
* ``GET``/``HEAD /api/health`` — 200 when a question can be answered (a real probe of the vector store, cached for
  a few seconds), 503 while the index is building or loading again, or when it failed (same body);
* ``GET /api/openapi.json``, ``GET /api/docs`` — the schema and Swagger UI;
* ``/`` — the Gradio UI, whose ``/ask`` and ``/ask_json`` endpoints stay callable with ``gradio_client``.

Every error under ``/api`` is JSON ``{"error": {"code", "message", "details"?}}`` (see ``ErrorResponse``); Gradio's
own routes keep Gradio's error handling. The index loads in a background thread (one ``ui.IndexLoader`` shared by
the UI's status line and the API), so the server answers at once: 503 ``index_building`` until it is ready.

Access control is in one place, ``aidqa.web.security.SecurityGuard``, an ASGI middleware in front of both the API
and the UI (Host check, served paths, origins, authentication, body limit and text-only Gradio event bodies,
security headers); ``docs/security.md`` has the threat model.

Answering is bounded: ``AskLimiter`` lets ``max_concurrent_asks`` API requests answer at once and
``max_waiting_asks`` wait; one more gets 503 ``busy`` at once. The Gradio queue has the same two limits.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations as real types.

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, Literal

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from aidqa import __version__, ui
from aidqa.assistant import Assistant, InvalidQuestion
from aidqa.config import Settings
from aidqa.ingest import CorpusError, corpus_files
from aidqa.models import Answer
from aidqa.web.errors import API_PREFIX, ErrorDetail, ErrorInfo, ErrorResponse, error_response, is_api_scope
from aidqa.web.security import (
    ANONYMOUS_HEALTH_KEY,
    MAX_BODY_BYTES,
    MAX_HISTORY_TURNS,
    SecurityGuard,
    private_dirs,
)

logger = logging.getLogger(__name__)

MAX_BATCH = 100
RETRY_AFTER_BUILDING = 5  # seconds; the packaged model builds the report's index in about a second
RETRY_AFTER_FAILED = 60  # a failed load needs an operator (see the message), so ask clients to back off longer
RETRY_AFTER_BUSY = 1  # a slot frees as soon as one answer is done (well under a second)


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
    401: {"model": ErrorResponse, "description": "AIDQA_AUTH is set and the request has no or wrong HTTP Basic "
          "credentials (unauthorized)."},
    403: {"model": ErrorResponse, "description": "Sent from a web page of another origin that is not in "
          "AIDQA_CORS_ORIGINS (forbidden)."},
    422: {"model": ErrorResponse, "description": "Invalid body (invalid_request) or question (invalid_question)."},
    500: {"model": ErrorResponse, "description": "Unexpected error (internal_error); details are in the server log."},
    503: {"model": ErrorResponse, "description": "The index is building (index_building) or failed to load "
          "(index_unavailable), or too many questions are being answered and waiting (busy); see the Retry-After "
          "header."},
}


# ---- errors ------------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error response under /api."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def _is_api(request: Request) -> bool:
    return is_api_scope(request.scope)


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
    if exc.status_code == 400:  # FastAPI's "error parsing the body" (e.g. bytes that are not UTF-8 JSON)
        return error_response(422, "invalid_request", "invalid request: the body is not valid JSON")
    message = str(exc.detail)
    if exc.status_code == 413:
        message = f"the request body is over the limit of {MAX_BODY_BYTES} bytes"
    return error_response(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), message,
                          headers=getattr(exc, "headers", None))


async def _on_api_error(request: Request, exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, headers=exc.headers)


def _internal_error() -> JSONResponse:
    return error_response(500, "internal_error", "internal server error; the details are in the server log")


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


def _wake(future: "asyncio.Future[None]") -> None:
    if not future.done():
        future.set_result(None)


class AskLimiter:
    """At most ``concurrent`` holders at once and at most ``max_waiting`` callers waiting for a slot; ``acquire()``
    beyond that returns False at once (the caller answers "busy"). Waiters wait in the event loop, not in a worker
    thread, so a full queue holds no threads. Not tied to one event loop (each TestClient runs its own)."""

    def __init__(self, concurrent: int, max_waiting: int) -> None:
        self.concurrent, self.max_waiting = concurrent, max_waiting
        self.active = 0
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self) -> bool:
        with self._lock:
            if self.active < self.concurrent and not self._waiters:
                self.active += 1
                return True
            if len(self._waiters) >= self.max_waiting:
                return False
            loop = asyncio.get_running_loop()
            waiter = (loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            await waiter[1]
        except BaseException:  # cancelled (e.g. the client went away)
            with self._lock:
                handed_over = waiter not in self._waiters
                if not handed_over:
                    self._waiters.remove(waiter)
            if handed_over:  # release() gave us the slot just as we were cancelled: pass it on
                self.release()
            raise
        return True

    def release(self) -> None:
        with self._lock:
            while self._waiters:  # the slot passes straight to the next waiter; ``active`` stays the same
                loop, future = self._waiters.popleft()
                try:
                    loop.call_soon_threadsafe(_wake, future)
                    return
                except RuntimeError:  # its event loop is closed: nobody is waiting there any more
                    continue
            self.active -= 1

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot for the body of the ``async with``; raises ApiError 503 busy when none is free."""
        if not await self.acquire():
            raise ApiError(503, "busy", f"the server is busy: {self.concurrent} questions are being answered and "
                           f"{self.max_waiting} are waiting; retry in a moment", {"Retry-After": str(RETRY_AFTER_BUSY)})
        try:
            yield
        finally:
            self.release()


class ApiService:
    """What the routes need: the shared assistant, the loader that loads its index in the background, and the
    limiter of questions answered at once."""

    def __init__(self, assistant: Assistant, loader: ui.IndexLoader, limiter: AskLimiter | None = None) -> None:
        self.assistant = assistant
        self.loader = loader
        settings = assistant.settings
        self.limiter = limiter or AskLimiter(settings.max_concurrent_asks, settings.max_waiting_asks)

    @property
    def settings(self) -> Settings:
        return self.assistant.settings

    def state(self) -> Literal["ready", "building", "error"]:
        """ready only when a question can be answered now (a real probe of the store, cached for a few seconds)."""
        if self.loader.healthy():
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
        reloading = f"loading again: {self.loader.reload_reason}" if self.loader.reload_reason else None
        if not self.loader.stage:
            return reloading
        stage, done, total = self.loader.stage
        progress = f"{stage} {done}/{total}" if total else str(stage)
        return f"{reloading}; {progress}" if reloading else progress

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
        except Exception as exc:
            # A store that broke under the running server: say so (503, and it is loaded again) instead of a 500.
            if not self.loader.healthy(probe_seconds=0):
                raise ApiError(503, "index_unavailable", "the index stopped answering and is being loaded again; "
                               "retry in a few seconds", {"Retry-After": str(RETRY_AFTER_BUILDING)}) from exc
            raise


def _api_router(service: ApiService) -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, route_class=_GuardedRoute, max_body_size=MAX_BODY_BYTES, tags=["aidqa"])

    @router.post("/ask", response_model=Answer, responses=ERROR_RESPONSES, summary="Answer one question")
    async def ask(body: AskRequest) -> Answer:
        """Answer a question from the reports. The answer quotes the reports verbatim; every `[n]` in it refers to
        `citations[n-1]`. When the reports do not answer the question, `refused` is true and there are no
        citations. When `max_concurrent_asks` questions are being answered and `max_waiting_asks` wait, the
        answer is 503 `busy` at once (Retry-After: 1)."""
        service.require_ready()
        async with service.limiter.slot():
            return await run_in_threadpool(service.ask, body)

    @router.post("/ask/batch", response_model=BatchResponse, responses=ERROR_RESPONSES, summary="Answer many questions")
    async def ask_batch(body: BatchRequest) -> BatchResponse:
        """Answer up to 100 questions in order. A question that cannot be asked (empty, too long) gets
        `{"ok": false, "question", "error"}` in its place; the rest are still answered. A body that does not match
        the schema (wrong types, unknown fields, more than 100 questions) is rejected as a whole with 422. A batch
        takes one answering slot (its questions are answered one after another), or gets 503 `busy` like `/ask`."""
        service.require_ready()
        async with service.limiter.slot():
            return await run_in_threadpool(_answer_batch, body)

    def _answer_batch(body: BatchRequest) -> BatchResponse:
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
    def health(request: Request) -> Response:
        """200 when questions can be answered; 503 (with Retry-After) while the index is building or after it
        failed to load. The body has the same shape either way. When AIDQA_AUTH is set, a request without
        credentials still gets the status code, but a body of just `{"status": ...}` (for load balancer probes)."""
        body, status = service.health()
        headers = None
        if status == 503:
            headers = {"Retry-After": str(RETRY_AFTER_FAILED if body.status == "error" else RETRY_AFTER_BUILDING)}
        if request.scope.get(ANONYMOUS_HEALTH_KEY):
            return JSONResponse({"status": body.status}, status_code=status, headers=headers)
        return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)

    # HEAD answers like GET (a load balancer's probe), without a second operation in the schema.
    router.add_api_route("/health", health, methods=["HEAD"], include_in_schema=False)

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

When the server sets `AIDQA_AUTH`, every request needs HTTP Basic credentials (401 `unauthorized` otherwise;
`/api/health` answers with its status alone). Requests from another origin's web page are refused (403 `forbidden`)
unless that origin is in `AIDQA_CORS_ORIGINS`. Too many questions at once: 503 `busy` with `Retry-After: 1`.
"""


def create_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    """The FastAPI app: JSON API under /api, Gradio UI at /. Starts loading the index in the background (one
    loader, shared by the UI and the API). The assistant, loader and Blocks are on ``app.state``."""
    settings = settings or (assistant.settings if assistant is not None else Settings())
    assistant = assistant or Assistant(settings)
    loader = ui.IndexLoader(assistant)
    service = ApiService(assistant, loader, AskLimiter(settings.max_concurrent_asks, settings.max_waiting_asks))

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
    # The API routes go in before the Gradio mount at "/", which would otherwise match every path.
    app.include_router(_api_router(service))

    demo = ui.build_ui(assistant, loader=loader)  # starts the loader
    # The UI's questions wait in Gradio's queue, within the same limits as the API's (a separate pool of slots).
    demo.queue(default_concurrency_limit=settings.max_concurrent_asks, max_size=settings.max_waiting_asks)
    private = private_dirs(settings, assistant.settings)
    app = gr.mount_gradio_app(
        app, demo, path="/", server_name=settings.host, server_port=settings.port,
        show_error=False,  # our handlers never raise; Gradio's own errors would show library text to clients
        ssr_mode=False,  # no Node server: the page renders in the browser (GRADIO_SSR_MODE cannot turn it on)
        allowed_paths=[],  # Gradio serves only the files it cached itself; the guard narrows that to this app's
        blocked_paths=[*private, str(Path(".env").absolute())],  # second layer behind the guard
        max_file_size="1mb",  # uploads are refused by the guard anyway: no component takes a file
        enable_monitoring=False,  # else /monitoring/summary would show the queue's analytics to anyone
        mcp_server=False,  # not an MCP server, whatever GRADIO_MCP_SERVER says
    )
    # A CORSMiddleware on the parent app also turns Gradio's own CORS handling off (it echoes any origin when the
    # host is not localhost). Only the listed origins get CORS headers; the guard refuses the others.
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                       allow_headers=["Authorization", "Content-Type"], expose_headers=["Retry-After"], max_age=600)
    app.add_middleware(SecurityGuard, settings=settings, gradio_cache=demo.GRADIO_CACHE, private=private,
                       served_files=lambda path: any(path in files for files in list(demo.temp_file_sets)),
                       served_file_names=ui.SERVED_FILE_NAMES)  # outermost
    app.state.assistant, app.state.loader, app.state.demo, app.state.service = assistant, loader, demo, service
    return app


def serve(settings: Settings | None = None) -> None:
    """Serve the app on settings.host:settings.port with uvicorn; blocks until stopped (Ctrl+C)."""
    import uvicorn

    settings = settings or Settings()
    app = create_app(settings)
    base = f"http://{settings.host}:{settings.port}"
    logger.info("chat UI at %s/ , API at %s%s/ask (docs: %s%s/docs)", base, base, API_PREFIX, base, API_PREFIX)
    users = settings.auth_users()
    if users:
        logger.info("HTTP Basic authentication on (%d user(s), AIDQA_AUTH)", len(users))
    elif settings.host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("listening on %s without authentication; set AIDQA_AUTH=user:password (and serve it over "
                       "HTTPS) unless a proxy in front authenticates", settings.host)
    # A browser keeps Gradio's event stream open; do not wait for it forever on Ctrl+C.
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", timeout_graceful_shutdown=5)
