"""The service behind the API and the UI: one background index loader, the answering limiter, the
requests' business logic (no HTTP here)."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

from aidqa.index.catalogue import UnknownReports, resolve_reports
from aidqa.index.incremental import IndexChanges
from aidqa.index.store import IndexUnavailable, LoadedIndex, ProgressCallback
from aidqa.ingest import CorpusError, corpus_files
from aidqa.models import Answer
from aidqa.qa.assistant import Assistant, InvalidQuestion
from aidqa.qa.examples import GENERIC_EXAMPLES
from aidqa.settings import Settings
from aidqa.web.errors import ErrorDetail
from aidqa.web.schemas import (
    RETRY_AFTER_BUILDING,
    RETRY_AFTER_BUSY,
    RETRY_AFTER_FAILED,
    ApiError,
    AskRequest,
    BuildChanges,
    DocumentsResponse,
    HealthResponse,
    IndexInfo,
)
from aidqa.web.uploads import CorpusManager

logger = logging.getLogger(__name__)

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

    def busy(self) -> ApiError:
        """The 503 for a caller that got no slot."""
        return ApiError(503, "busy", f"the server is busy: {self.concurrent} questions are being answered and "
                        f"{self.max_waiting} are waiting; retry in a moment", {"Retry-After": str(RETRY_AFTER_BUSY)})

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot for the body of the ``async with``; raises ApiError 503 busy when none is free."""
        if not await self.acquire():
            raise self.busy()
        try:
            yield
        finally:
            self.release()


class ApiService:
    """What the routes need: the shared assistant, the loader that loads its index in the background, and the
    limiter of questions answered at once."""

    def __init__(self, assistant: Assistant, loader: IndexLoader, limiter: AskLimiter | None = None) -> None:
        self.assistant = assistant
        self.loader = loader
        settings = assistant.settings
        self.limiter = limiter or AskLimiter(settings.max_concurrent_asks, settings.max_waiting_asks)
        self.corpus = CorpusManager(settings, self._rebuild_and_serve, public_error)
        self._retired: LoadedIndex | None = None  # replaced by the last corpus change; closed at the next one

    def _rebuild_and_serve(self, progress: ProgressCallback) -> IndexChanges | None:
        """Build the index after a corpus change (incrementally: only the changed reports are read and embedded)
        and answer from the new build from now on; the previous build serves until then. The index replaced one
        change earlier is closed now (a question still reading it would have started before that change), so
        repeated uploads do not keep every old vector store open."""
        previous = self.assistant.ensure_ready() if self.assistant.is_ready else None
        index = self.assistant.rebuild(progress)
        self.loader.served(index)
        if previous is not None and previous is not index:
            retired, self._retired = self._retired, previous
            if retired is not None and retired is not index:
                retired.close()
        return index.changes

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
        recorded = manifest.get("changes")
        changes = BuildChanges.model_validate(recorded) if isinstance(recorded, dict) else None
        body = HealthResponse(
            status="ready",
            index=IndexInfo(name=loaded.name, status=disk_status, chunk_count=int(manifest.get("chunk_count", len(loaded.chunks))),
                            path=str(Path(loaded.path).resolve()), built_at=manifest.get("built_at"), changes=changes),
            embedding_model=str(manifest.get("embedding_model", self.settings.embedding_model)),
            corpus_files=list(manifest.get("documents", [])),
            skipped_files=list(manifest.get("skipped_files", [])),
            message=message,
        )
        return body, 200

    def ask_examples(self) -> list[dict[str, object]]:
        """Request bodies for the OpenAPI schema, made from the loaded reports (generic while none is loaded): a
        question, and one restricted to a report with `documents`."""
        examples = self.assistant.examples() if self.loader.ready else []
        if not examples:
            return [{"question": q} for q in GENERIC_EXAMPLES[:2]]
        first, restricted = examples[0], examples[-1]
        return [{"question": first.question},
                {"question": restricted.plain, "documents": [restricted.report], "top_k": 3}]

    def documents(self) -> DocumentsResponse:
        """The reports of the loaded index and the skipped corpus files (the caller checked that it is ready)."""
        return DocumentsResponse(documents=self.assistant.reports(), skipped_files=self.assistant.skipped_files())

    def ask(self, request: AskRequest) -> Answer:
        """Raises ApiError 422 for an invalid question (the assistant's message) or a `documents` entry that names
        no report."""
        # Passed on only when given, so that a restriction is never sent where none was asked for.
        restrict = {"documents": list(request.documents)} if request.documents else {}
        try:
            return self.assistant.ask(request.question, history=list(request.history), top_k=request.top_k,
                                      **restrict)
        except InvalidQuestion as exc:
            raise ApiError(422, "invalid_question", str(exc)) from exc
        except UnknownReports as exc:
            raise _unknown_documents(request, exc) from exc
        except Exception as exc:
            # A store that broke under the running server: say so (503, and it is loaded again) instead of a 500.
            if not self.loader.healthy(probe_seconds=0):
                raise ApiError(503, "index_unavailable", "the index stopped answering and is being loaded again; "
                               "retry in a few seconds", {"Retry-After": str(RETRY_AFTER_BUILDING)}) from exc
            raise


    def check_documents(self, request: AskRequest) -> None:
        """Raises ApiError 422 if a `documents` entry names no report (checked before a stream starts, so the error
        is an HTTP status, as for /api/ask, not an event)."""
        if not request.documents:
            return
        index = self.assistant.ensure_ready()
        try:
            resolve_reports(index, request.documents)
        except UnknownReports as exc:
            raise _unknown_documents(request, exc) from exc


def _unknown_documents(request: AskRequest, exc: UnknownReports) -> ApiError:
    problems = exc.problems()
    details = [ErrorDetail(loc=["body", "documents", i], msg=problems[ref], type="unknown_document")
               for i, ref in enumerate(request.documents or []) if ref in problems]
    return ApiError(422, "invalid_request", f"invalid request: documents: {exc}; GET /api/documents lists "
                    "the reports", details=details)


def public_error(exc: BaseException) -> str:
    """What clients are told about a failed index load: this app's own messages (they say what to do), but never
    the text of an unexpected exception from a library (a database error, a path deep inside a package)."""
    if isinstance(exc, (IndexUnavailable, CorpusError)):
        return str(exc)
    return f"unexpected {type(exc).__name__} while loading the index; the details are in the server log"


class IndexLoader:
    """Loads (or builds) the assistant's index in a background thread and reports its status. Once loaded, it
    probes the vector store for real (cached for ``probe_seconds``): a store that broke under the running server
    is dropped and loaded again (rebuilt when needed) in the background, and meanwhile the app says so (503)."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.passages: int | None = None
        self.error: str | None = None  # for people and clients: never an exception's internals
        self.stage: tuple[str, int, int] | None = None
        self.reload_reason: str | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._probed_at: float | None = None

    def start(self) -> "IndexLoader":
        with self._lock:
            if self._thread is None or (self.reload_reason and not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._run, name="aidqa-index-loader", daemon=True)
                self._thread.start()
        return self

    def healthy(self, probe_seconds: float | None = None) -> bool:
        """Whether a question can be answered now: the index is loaded and the last real probe of its vector store
        (at most ``probe_seconds`` old; default from the settings) passed. A failed probe starts a reload."""
        if not self.ready:
            return False
        max_age = self.assistant.settings.health_probe_seconds if probe_seconds is None else probe_seconds
        with self._lock:
            fresh = self._probed_at is not None and time.monotonic() - self._probed_at <= max_age
            if fresh:
                return True
            problem = self.assistant.probe()
            self._probed_at = time.monotonic()
            if problem is None:
                return True
        logger.error("the loaded index cannot answer (%s); loading it again", problem)
        self.reload(problem)
        return False

    def reload(self, reason: str) -> None:
        """Drop the loaded index and load it again in the background (rebuilding it if it is corrupt)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return  # a load is already under way
            self.reload_reason, self.error, self.passages, self.stage = reason, None, None, None
            self._probed_at = None
        self.assistant.unload()
        self.start()

    def served(self, index: LoadedIndex) -> None:
        """The assistant now answers from ``index``, built by someone else (a corpus change): report it ready."""
        with self._lock:
            self.passages, self.error, self.reload_reason, self.stage = len(index.chunks), None, None, None
            self._probed_at = None

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _progress(self, stage: str, done: int, total: int) -> None:
        self.stage = (stage, done, total)

    def _run(self) -> None:
        try:
            index = self.assistant.ensure_ready(self._progress)
            self.passages = len(index.chunks)
            self.reload_reason = None
        except Exception as exc:  # shown in the status line and as the reply to questions
            logger.exception("loading the index failed")
            self.error = public_error(exc)
            return
        try:
            # Once serving: the query lexicon's tables (read from the index, or computed from the dictionaries for
            # a build made before they were stored, ~1.5 s) would otherwise land in the first question.
            index.keywords.lexicon.warm()
        except Exception:  # a missing dictionary costs synonyms, and is reported by the first question instead
            logger.exception("preparing the query lexicon failed")

    @property
    def ready(self) -> bool:
        return self.assistant.is_ready

    def status_markdown(self) -> str:
        if self.error:
            return f"**索引加载失败**（index failed to load）：{html.escape(self.error)}"
        if self.ready:
            n = self.passages if self.passages is not None else "?"
            return f"就绪：{n} 个段落（ready: {n} passages）"
        detail = ""
        if self.stage:
            stage, done, total = self.stage
            detail = f"（{html.escape(str(stage))} {done}/{total}）" if total else f"（{html.escape(str(stage))}）"
        if self.reload_reason:
            return f"**索引重新加载中…**{detail}（the index is being loaded again, please wait）"
        return f"**索引构建中…**{detail}（building the index, please wait）"




