"""``POST /api/ask/stream``: one answer as server-sent events (``text/event-stream``).

Events, in order:

* ``delta`` — ``{"text": "…"}``: answer text that has passed verification (with the LLM backend, one verified
  sentence at a time; with the extractive backend, the whole answer at once);
* ``reset`` — ``{}``: forget the deltas so far; the answer changed after they were sent (the model failed half-way
  and the extractive answer is used instead). The deltas after the last reset always add up to ``result.answer``;
* ``result`` — the full result, the same ``Answer`` object ``/api/ask`` returns; always the last event on success;
* ``error`` — ``{"error": {"code", "message"}}``: answering failed after the stream had begun (the /api error shape).

Whatever can be refused before answering is refused before the stream starts, exactly as ``/api/ask`` does it
(the security guard, 422 for the body or the question, 503 ``index_building``/``busy``). The concurrency slot is
held until answering has finished — also when the client goes away early — so the ``AskLimiter`` still bounds the
questions being answered.
"""

# No ``from __future__ import annotations``, like the routes: FastAPI may read these annotations.

import json
import logging
from collections.abc import AsyncIterator

from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from aidqa.qa.assistant import InvalidQuestion, clean_question
from aidqa.qa.streaming import AnswerStream
from aidqa.web.errors import ErrorInfo, ErrorResponse
from aidqa.web.schemas import ApiError, AskRequest
from aidqa.web.service import ApiService

logger = logging.getLogger(__name__)

STREAM_EVENTS = ("Server-sent events: `delta` {\"text\"} (verified text), `reset` {} (drop the deltas so far), one "
                 "`result` (the Answer, as from /api/ask), or `error` {\"error\": {code, message}}.")
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # no proxy buffering of the events


def sse_event(name: str, data: str) -> str:
    """One server-sent event; ``data`` is one line of JSON (JSON escapes every line break)."""
    return f"event: {name}\ndata: {data}\n\n"


def _error_data(code: str, message: str) -> str:
    return ErrorResponse(error=ErrorInfo(code=code, message=message)).model_dump_json(exclude_none=True)


async def _events(stream: AnswerStream) -> AsyncIterator[str]:
    try:
        async for event in iterate_in_threadpool(stream):
            if event.kind == "delta":
                yield sse_event("delta", json.dumps({"text": event.text}, ensure_ascii=False))
            elif event.kind == "reset":
                yield sse_event("reset", "{}")
            elif event.answer is not None:
                yield sse_event("result", event.answer.model_dump_json())
    except ApiError as exc:
        yield sse_event("error", _error_data(exc.code, exc.message))
    except Exception:
        logger.exception("streaming an answer failed")
        yield sse_event("error", _error_data("internal_error", "internal server error; the details are in the server log"))


async def ask_stream_response(service: ApiService, body: AskRequest) -> StreamingResponse:
    """Check what /api/ask checks, take a slot, start answering, and return the event stream."""
    service.require_ready()
    if not await service.limiter.acquire():
        raise service.limiter.busy()
    try:
        clean_question(body.question, service.settings.answering.max_question_chars)
        service.check_documents(body)
        # service.ask maps a bad question to 422 and a store that broke to 503, as for /api/ask.
        stream = AnswerStream(lambda: service.ask(body), on_done=service.limiter.release)
    except InvalidQuestion as exc:
        service.limiter.release()
        raise ApiError(422, "invalid_question", str(exc)) from exc
    except BaseException:
        service.limiter.release()
        raise
    return StreamingResponse(_events(stream), media_type="text/event-stream", headers=STREAM_HEADERS)
