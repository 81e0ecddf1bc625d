"""Streaming an answer sentence by sentence, with the final result still authoritative.

``Assistant.ask`` stays the one answering path. While it runs in a worker thread, an answerer that can stream (the
LLM answerer) hands each sentence to the ``DeltaSink`` of the current context the moment that sentence has passed
verification. ``AnswerStream`` yields those as ``delta`` events, then reconciles with the answer ``ask`` returned:
the rest of it as one more delta, or — when the answer turned out different from what was sent (the model failed
half-way and the extractive answer was used) — a ``reset`` event and the whole answer. Then one ``result`` event
with the full ``Answer``. So the deltas after the last reset always add up to ``result.answer``, and every delta is
text that passed the checks.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from aidqa.models import Answer


class DeltaSink:
    """Where an answerer puts verified text while a streamed question is answered. Once an answerer call has sent
    something, ``close()`` keeps later calls for the same question (the parts of a compound one) from sending:
    their citations are renumbered when the parts are merged, so their text is sent with the final answer."""

    def __init__(self, put: Callable[[str], None]) -> None:
        self._put = put
        self.open = True

    def send(self, text: str) -> None:
        if self.open and text:
            self._put(text)

    def close(self) -> None:
        self.open = False


_SINK: contextvars.ContextVar[DeltaSink | None] = contextvars.ContextVar("aidqa_delta_sink", default=None)


def current_sink() -> DeltaSink | None:
    """The sink of the question being streamed in this thread, or None (not streaming)."""
    return _SINK.get()


@dataclass(frozen=True)
class StreamEvent:
    kind: Literal["delta", "reset", "result"]
    text: str = ""
    answer: Answer | None = None


class AnswerStream:
    """Runs ``ask`` in its own thread from the moment it is created, and yields its ``StreamEvent``s. ``on_done`` is
    called in that thread when ``ask`` has finished, however it ends (e.g. to free a concurrency slot — even if
    nobody reads the events any more). An exception from ``ask`` is raised from the iteration, after the deltas
    that came before it."""

    def __init__(self, ask: Callable[[], Answer], on_done: Callable[[], None] | None = None) -> None:
        self._messages: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, args=(ask, on_done), name="aidqa-ask-stream", daemon=True)
        self._thread.start()

    def _run(self, ask: Callable[[], Answer], on_done: Callable[[], None] | None) -> None:
        token = _SINK.set(DeltaSink(lambda text: self._messages.put(("delta", text))))
        try:
            self._messages.put(("answer", ask()))
        except BaseException as exc:  # raised again in the reader
            self._messages.put(("error", exc))
        finally:
            _SINK.reset(token)
            if on_done is not None:
                on_done()

    def __iter__(self) -> Iterator[StreamEvent]:
        sent = ""
        while True:
            kind, value = self._messages.get()
            if kind == "delta":
                sent += value
                yield StreamEvent("delta", value)
                continue
            if kind == "error":
                raise value
            answer: Answer = value
            if not answer.answer.startswith(sent):
                yield StreamEvent("reset")
                sent = ""
            if answer.answer[len(sent):]:
                yield StreamEvent("delta", answer.answer[len(sent):])
            yield StreamEvent("result", answer=answer)
            return
