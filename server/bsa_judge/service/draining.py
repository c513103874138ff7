"""Stopping a request stream when the server shuts down, so that a rolling deploy loses nothing.

On SIGTERM an open JudgeTraces stream reads no further message (the messages the client has
sent since stay unread), the verdicts of the traces already read are delivered within the
grace period, and the stream ends UNAVAILABLE with DRAINED_MESSAGE. UNAVAILABLE is the
status clients retry: the SDK's `judge_traces` sends the traces that got no verdict (by key)
again on its next connection, to another replica. EvaluateItems drains the same way: the
run driver sends the items not fully answered again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from typing import TypeVar

T = TypeVar("T")

DRAINED_MESSAGE = (
    "the server is shutting down and read no further trace of this stream; "
    "send the traces that got no verdict again"
)
RUN_DRAINED_MESSAGE = (
    "the server is shutting down and read no further item of this stream; "
    "send the items not fully answered again"
)


class UntilDraining(AsyncIterator[T]):
    """The messages of `requests` until it ends or `draining` is set; then `cut` is True
    when a message might have been left unread."""

    def __init__(self, requests: AsyncIterable[T], draining: asyncio.Event) -> None:
        self._requests = aiter(requests)
        self._draining = draining
        self._drained: asyncio.Task[bool] | None = None
        self.cut = False

    def __aiter__(self) -> UntilDraining[T]:
        return self

    async def __anext__(self) -> T:
        if self._draining.is_set():
            raise self._stopped()
        if self._drained is None:
            self._drained = asyncio.ensure_future(self._draining.wait())
        read = asyncio.ensure_future(anext(self._requests))
        try:
            await asyncio.wait((read, self._drained), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the stream is closing: leave nothing running
            read.cancel()
            self._drained.cancel()
            raise
        if not read.done():
            read.cancel()
            raise self._stopped()
        try:
            return read.result()
        except StopAsyncIteration:
            self._drained.cancel()
            raise

    def close(self) -> None:
        """Stop watching for the drain (a stream that ended another way)."""
        if self._drained is not None:
            self._drained.cancel()

    def _stopped(self) -> StopAsyncIteration:
        """Mark the stream cut: the rest of it stays unread."""
        self.close()
        self.cut = True
        return StopAsyncIteration()
