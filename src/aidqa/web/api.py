"""The web app: one FastAPI app on one port, with the JSON API under ``/api`` and the Gradio chat UI at ``/``.

``create_app(settings, assistant=None)`` builds it; ``serve(settings)`` runs it with uvicorn (``aidqa serve``,
``python app.py``). Routes:

* ``POST /api/ask`` — ``AskRequest`` → ``Answer`` (the same typed result as the CLI's ``--json``), optionally
  restricted to some reports (``documents``);
* ``POST /api/ask/stream`` — the same answer as server-sent events: verified text as it passes, then the full
  result (``aidqa.web.streaming``);
* ``POST /api/ask/batch`` — up to 100 questions → one result per question, in order; a bad question gets an error
  result, the others are still answered;
* ``GET /api/documents`` — the reports of the loaded index (id, title, format, pages, counts) and the corpus files
  it left out, with the reason;
* ``GET``/``HEAD /api/health`` — 200 when a question can be answered (a real probe of the vector store, cached for
  a few seconds), 503 while the index is building or loading again, or when it failed (same body);
* ``GET /api/openapi.json``, ``GET /api/docs`` — the schema and Swagger UI;
* ``/`` — the Gradio UI, whose ``/ask`` and ``/ask_json`` endpoints stay callable with ``gradio_client``.

Every error under ``/api`` is JSON ``{"error": {"code", "message", "details"?}}`` (see ``ErrorResponse``); Gradio's
own routes keep Gradio's error handling. The index loads in a background thread (one ``aidqa.web.service.IndexLoader`` shared by
the UI's status line and the API), so the server answers at once: 503 ``index_building`` until it is ready.

Access control is in one place, ``aidqa.web.security.SecurityGuard``, an ASGI middleware in front of both the API
and the UI (Host check, served paths, origins, authentication, body limit and text-only Gradio event bodies,
security headers); ``docs/security.md`` has the threat model.

Answering is bounded: ``AskLimiter`` lets ``max_concurrent_asks`` API requests answer at once and
``max_waiting_asks`` wait; one more gets 503 ``busy`` at once. The Gradio queue has the same two limits.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations as real types.

import copy
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute, APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from aidqa.models import Answer
from aidqa.web.corpus_api import corpus_router
from aidqa.web.errors import API_PREFIX, ErrorDetail, ErrorInfo, error_response, is_api_scope
from aidqa.web.feedback import feedback_router
from aidqa.web.schemas import (
    ERROR_RESPONSES,
    RETRY_AFTER_BUILDING,
    RETRY_AFTER_FAILED,
    ApiError,
    AskRequest,
    BatchAnswer,
    BatchFailure,
    BatchRequest,
    BatchResponse,
    DocumentsResponse,
    HealthResponse,
)
from aidqa.web.security import (
    ANONYMOUS_HEALTH_KEY,
    MAX_BODY_BYTES,
)
from aidqa.web.service import ApiService
from aidqa.web.streaming import STREAM_EVENTS, ask_stream_response

logger = logging.getLogger(__name__)

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
    return error_response(exc.status, exc.code, exc.message, exc.details, headers=exc.headers)


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

    @router.post("/ask/stream", response_model=None, response_class=StreamingResponse, summary="Answer one question, streamed",
                 responses={**ERROR_RESPONSES, 200: {"content": {"text/event-stream": {}}, "description": STREAM_EVENTS}})
    async def ask_stream(body: AskRequest) -> Response:
        """Like `/ask`, as server-sent events: `delta` events carry verified answer text, then one `result` event
        carries the full result (the same object `/ask` returns); see docs/api.md. Refusals before the stream
        starts (422, 503) are the same as `/ask`'s."""
        return await ask_stream_response(service, body)

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

    @router.get("/documents", response_model=DocumentsResponse, summary="List the reports",
                responses={k: v for k, v in ERROR_RESPONSES.items() if k != 422})
    def documents() -> DocumentsResponse:
        """The reports questions are answered from — `id` (what `documents` in `/api/ask` takes; a citation's
        `source`), `title`, `file`, `format`, `pages` (null for formats without pages), `chunk_count`,
        `figure_count`, `indexed_at` — and the corpus files the index left out with the reason for each. 503 while
        the index is building or after it failed to load."""
        service.require_ready()
        return service.documents()

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

    router.include_router(corpus_router(service, _GuardedRoute))  # corpus management: before the catch-all below
    router.include_router(feedback_router(service.settings))  # POST /api/feedback (aidqa.web.feedback)
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


def install_runtime_examples(app: FastAPI, service: ApiService) -> None:
    """Serve the OpenAPI schema with request examples made from the loaded reports at the time it is asked for
    (generic ones while the index is loading): examples written for one report would mislead about any other."""
    built = app.openapi  # FastAPI builds the schema once and caches it

    def openapi() -> dict[str, Any]:
        schema = copy.deepcopy(built())
        ask = schema.get("components", {}).get("schemas", {}).get("AskRequest")
        if ask is not None:
            ask["examples"] = service.ask_examples()
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

