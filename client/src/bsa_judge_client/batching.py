"""Traces packed many to a message (JudgeTraceBatches) by the blocking client: what is at
hand goes at once.

gRPC's blocking client reads the outgoing messages from its own thread, and `next()` on the
caller's iterable may block (a generator fed by the caller's own service). So the iterable is
read on a thread of its own, at most one batch ahead (`ReadAhead`), and a batch takes the
traces already read, never waiting for more to fill it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from bsa.judge.v1 import judge_pb2

from bsa_judge_client.messages import as_message
from bsa_judge_client.resubmission import Unanswered

#: `ReadAhead.take(wait=False)` when no trace is at hand.
NOTHING_AT_HAND = object()
#: `ReadAhead.take` once the iterable is used up.
END = object()


class ReadAhead:
    """The items of `source`, read on a daemon thread at most `size` ahead of the taker.

    Shared by the streams of one judge_traces call: what was read and not yet sent goes on
    the next stream. An exception of the iterable is raised by the `take` that reaches it.
    A caller that stops taking leaves the thread blocked on a full queue (a daemon thread:
    it never holds the process up).
    """

    def __init__(self, source: Iterator[Any], size: int) -> None:
        self._source = source
        self.size = size
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=size)
        self._thread: threading.Thread | None = None
        self._last: tuple[str, Any] | None = None  # END or the error, once reached

    def _read(self) -> None:
        try:
            for item in self._source:
                self._queue.put(("item", item))
        except Exception as error:  # the caller's iterable failed: the taker raises it
            self._queue.put(("error", error))
        else:
            self._queue.put(("end", None))

    def take(self, *, wait: bool) -> Any:
        """The next item; NOTHING_AT_HAND when none is read yet and `wait` is false; END."""
        if self._last is not None:
            return self._settle(self._last)
        if self._thread is None:
            self._thread = threading.Thread(target=self._read, name="judge-traces", daemon=True)
            self._thread.start()
        try:
            kind, value = self._queue.get(block=wait)
        except queue.Empty:
            return NOTHING_AT_HAND
        if kind == "item":
            return value
        self._last = (kind, value)
        return self._settle(self._last)

    @staticmethod
    def _settle(last: tuple[str, Any]) -> Any:
        kind, value = last
        if kind == "error":
            raise value
        return END


def trace_batches(
    unanswered: Unanswered,
    ahead: ReadAhead,
    size: int,
    take_slot: Callable[[], bool],
    try_take_slot: Callable[[], bool],
) -> Iterator[judge_pb2.JudgeTraceBatchesRequest]:
    """The unanswered traces, then those of `ahead`, as JudgeTraceBatchesRequest messages of at most
    `size`, each trace holding a slot (`take_slot` waits for one and is False once the
    stream is over; `try_take_slot` does not wait). A batch goes as soon as it is full, no
    slot is free, or no next trace is at hand."""
    resent = unanswered.messages()
    for start in range(0, len(resent), size):
        chunk = resent[start : start + size]
        for _ in chunk:
            if not take_slot():
                return
        yield judge_pb2.JudgeTraceBatchesRequest(traces=chunk)
    batch: list[judge_pb2.JudgeTracesRequest] = []
    item = ahead.take(wait=True)
    while item is not END:
        message = as_message(item, judge_pb2.JudgeTracesRequest)
        unanswered.add(message)  # before waiting: a cut stream sends it again
        if not (batch and try_take_slot()):
            if batch:
                yield judge_pb2.JudgeTraceBatchesRequest(traces=batch)
                batch = []
            if not take_slot():
                return
        batch.append(message)
        if len(batch) == size:
            yield judge_pb2.JudgeTraceBatchesRequest(traces=batch)
            batch = []
        item = ahead.take(wait=not batch)
        if item is NOTHING_AT_HAND:
            yield judge_pb2.JudgeTraceBatchesRequest(traces=batch)
            batch = []
            item = ahead.take(wait=True)
    if batch:
        yield judge_pb2.JudgeTraceBatchesRequest(traces=batch)
