"""The app factory: FastAPI with the JSON API under /api and the Gradio UI mounted at /, behind one guard."""

import logging
from pathlib import Path

import gradio as gr
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException

from aidqa import __version__
from aidqa.qa.assistant import Assistant
from aidqa.settings import Settings
from aidqa.web.api import (
    ApiError,
    _api_router,
    _on_api_error,
    _on_http_error,
    _on_validation_error,
    install_runtime_examples,
)
from aidqa.web.errors import API_PREFIX
from aidqa.web.security import (
    SecurityGuard,
    private_dirs,
)
from aidqa.web.service import ApiService, AskLimiter, IndexLoader
from aidqa.web.ui.chat import SERVED_FILE_NAMES, build_ui
from aidqa.web.ui.manage import add_manage_tab
from aidqa.web.ui.page import PAGE_CSS, PAGE_JS, ChineseFirstPage

logger = logging.getLogger(__name__)


# ---- the app -----------------------------------------------------------------------------------------------

DESCRIPTION = """Answers questions about Chinese reports with verbatim quotes and citations (offline and extractive by default;
an optional LLM's answers are verified sentence by sentence).

* `POST /api/ask` — one question → `Answer`; `documents` restricts it to some reports.
* `POST /api/ask/stream` — the same answer as server-sent events: verified `delta` text, then one `result`.
* `POST /api/ask/batch` — up to 100 questions → one result each, in order.
* `GET /api/documents` — the reports (id, title, format, pages, counts) and the files the index left out, and why.
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
    loader = IndexLoader(assistant)
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
    install_runtime_examples(app, service)

    demo = build_ui(assistant, loader=loader)  # starts the loader
    add_manage_tab(demo, assistant.settings)  # 管理报告, only when AIDQA_AUTH and AIDQA_ADMINS are set (as the API)
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
        footer_links=[],  # no "Use via API" / "Built with Gradio" / settings footer: the page is the app
        run_history=False,  # nothing of the questions is kept in the browser's storage
        css=PAGE_CSS,
        js=PAGE_JS,
    )
    app.add_middleware(ChineseFirstPage)  # lang="zh-CN" and Gradio's own labels in Chinese (aidqa.web.ui.page)
    # A CORSMiddleware on the parent app also turns Gradio's own CORS handling off (it echoes any origin when the
    # host is not localhost). Only the listed origins get CORS headers; the guard refuses the others.
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                       allow_headers=["Authorization", "Content-Type"], expose_headers=["Retry-After"], max_age=600)
    app.add_middleware(SecurityGuard, settings=settings, gradio_cache=demo.GRADIO_CACHE, private=private,
                       served_files=lambda path: any(path in files for files in list(demo.temp_file_sets)),
                       served_file_names=SERVED_FILE_NAMES)  # outermost
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
