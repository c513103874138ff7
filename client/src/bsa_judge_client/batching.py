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

#: The most bytes of traces packed into one message: far below the 64 MiB message limit of
#: both ends, so that a batch of large traces is never refused as a whole. A trace larger
#: than this goes alone, as it would on JudgeTraces.
BATCH_BYTES = 4 * 1024 * 1024

#: How often a ReadAhead thread waiting for room checks whether it was closed.
_CLOSED_CHECK_S = 0.1

#: `ReadAhead.take(wait=False)` when no trace is at hand.
NOTHING_AT_HAND = object()
#: `ReadAhead.take` once the iterable is used up.
END = object()


class Batch:
    """Traces gathered for one JudgeTraceBatchesRequest: at most `size` of them, and at most
    BATCH_BYTES unless it is a single trace."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._traces: list[judge_pb2.JudgeTracesRequest] = []
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._traces)

    def fits(self, size: int) -> bool:
        """Whether a trace of `size` bytes may join: always when the batch is empty."""
        return not self._traces or self._bytes + size <= BATCH_BYTES

    def add(self, message: judge_pb2.JudgeTracesRequest, size: int) -> None:
        """Add `message`, whose size (`ByteSize()`) is `size`."""
        self._traces.append(message)
        self._bytes += size

    @property
    def full(self) -> bool:
        return len(self._traces) >= self.size

    def take(self) -> judge_pb2.JudgeTraceBatchesRequest:
        """The message of the traces gathered; the batch is empty again."""
        message = judge_pb2.JudgeTraceBatchesRequest(traces=self._traces)
        self._traces, self._bytes = [], 0
        return message


class ReadAhead:
    """The items of `source`, read on a daemon thread at most `size` ahead of the taker.

    Shared by the streams of one judge_traces call: what was read and not yet sent goes on
    the next stream. An exception of the iterable is raised by the `take` that reaches it.
    `close` (the call is over, or its caller stopped iterating) ends the thread at its next
    item; a thread blocked inside the caller's own `next()` ends when that returns.
    """

    def __init__(self, source: Iterator[Any], size: int) -> None:
        self._source = source
        self.size = size
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=size)
        self._thread: threading.Thread | None = None
        self._last: tuple[str, Any] | None = None  # END or the error, once reached
        self._closed = threading.Event()

    def close(self) -> None:
        """Stop reading: the thread ends instead of waiting to hand over its next item."""
        self._closed.set()

    def _put(self, entry: tuple[str, Any]) -> bool:
        """Hand `entry` over once there is room; False once closed."""
        while not self._closed.is_set():
            try:
                self._queue.put(entry, timeout=_CLOSED_CHECK_S)
            except queue.Full:
                continue
            return True
        return False

    def _read(self) -> None:
        try:
            for item in self._source:
                if not self._put(("item", item)):
                    return
        except Exception as error:  # the caller's iterable failed: the taker raises it
            self._put(("error", error))
        else:
            self._put(("end", None))

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
    """The unanswered traces, then those of `ahead`, as JudgeTraceBatchesRequest messages
    (`Batch`), each trace holding a slot (`take_slot` waits for one and is False once the
    stream is over; `try_take_slot` does not wait). A batch goes as soon as it is full, the
    next trace does not fit, no slot is free, or no next trace is at hand."""
    batch = Batch(size)

    def join(message: judge_pb2.JudgeTracesRequest) -> Iterator[judge_pb2.JudgeTraceBatchesRequest]:
        """Add `message`, yielding the batch first if it cannot join it now (it does not
        fit, or no slot is free), and after if that makes it full; _WindowClosedError when the
        window closes while waiting for a slot."""
        size = message.ByteSize()
        if batch and (not batch.fits(size) or not try_take_slot()):
            yield batch.take()
            if not take_slot():
                raise _WindowClosedError
        elif not batch and not take_slot():
            raise _WindowClosedError
        batch.add(message, size)
        if batch.full:
            yield batch.take()

    try:
        for message in unanswered.messages():
            yield from join(message)
        item = ahead.take(wait=not batch)
        while item is not END:
            if item is NOTHING_AT_HAND:
                yield batch.take()
                item = ahead.take(wait=True)
                continue
            message = as_message(item, judge_pb2.JudgeTracesRequest)
            unanswered.add(message)  # before waiting: a cut stream sends it again
            yield from join(message)
            item = ahead.take(wait=not batch)
    except _WindowClosedError:
        return
    if batch:
        yield batch.take()


class _WindowClosedError(Exception):
    """The window closed: the stream is over."""
