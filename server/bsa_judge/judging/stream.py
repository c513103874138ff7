"""Judging a stream of traces: verdicts as soon as ready, with a bound on work in flight.

What judging one request means (validation, judge choice, telemetry) is the caller's
`verdict_of` (the application layer's); this module owns only the flow.

At most `max_in_flight` traces are pending at once, counting those being judged and those
judged but not yet taken by the consumer. While that many are pending, no further request
is read, so a fast producer waits (transport flow control pushes back on it) instead of
filling memory. A trace that cannot be judged yields a verdict with an error status and the
stream goes on. When the request stream itself breaks (a message that cannot be decoded),
the verdicts of the traces already read are delivered first, then its error is raised.
Closing or cancelling the stream cancels the work still pending.

`judge_stream_batches` delivers the verdicts ready together as one batch (for a transport
that packs many to a message); `judge_stream` one at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass

from bsa_judge.judging.judgment import Verdict
from bsa_judge.judging.validation import TraceInput


@dataclass(frozen=True, slots=True)
class StreamRequest:
    """One trace on a stream, with the caller's key and the judges it names."""

    key: str
    trace: TraceInput
    judge: str = ""
    judges: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


@dataclass(frozen=True, slots=True)
class _End:
    """No more requests; `error` is why the request stream broke, if it did."""

    error: Exception | None = None


async def judge_stream(
    requests: AsyncIterable[StreamRequest],
    verdict_of: Callable[[StreamRequest], Awaitable[Verdict]],
    *,
    max_in_flight: int,
) -> AsyncGenerator[tuple[str, Verdict], None]:
    """(key, verdict) for every request, in the order the verdicts are ready.

    `verdict_of` must answer every request with a verdict (an error status for a trace that
    cannot be judged); an exception it raises ends the stream.
    """
    batches = judge_stream_batches(requests, verdict_of, max_in_flight=max_in_flight)
    async with aclosing(batches):
        async for batch in batches:
            for keyed in batch:
                yield keyed


async def judge_stream_batches(
    requests: AsyncIterable[StreamRequest],
    verdict_of: Callable[[StreamRequest], Awaitable[Verdict]],
    *,
    max_in_flight: int,
) -> AsyncGenerator[list[tuple[str, Verdict]], None]:
    """The (key, verdict) of every request, in batches: each batch is every verdict ready
    when the previous one was taken (at least one), in the order they were ready. A batch's
    slots are freed once the consumer takes the next one. As `judge_stream` otherwise.
    """
    slots = asyncio.Semaphore(max_in_flight)
    ready: asyncio.Queue[tuple[str, Verdict] | _Failed | _End] = asyncio.Queue()
    tasks: set[asyncio.Task[None]] = set()
    started = 0

    def settled(task: asyncio.Task[None]) -> None:
        tasks.discard(task)
        error = None if task.cancelled() else task.exception()
        if error is not None:  # a bug: end the stream with it
            ready.put_nowait(_Failed(error))

    async def judge_one(request: StreamRequest) -> None:
        ready.put_nowait((request.key, await verdict_of(request)))

    async def feed() -> None:
        nonlocal started
        try:
            async for request in requests:
                await slots.acquire()
                task = asyncio.create_task(judge_one(request))
                tasks.add(task)
                task.add_done_callback(settled)
                started += 1
        except Exception as error:  # the request stream broke: deliver what is in flight first
            ready.put_nowait(_End(error))
        else:
            ready.put_nowait(_End())

    feeder = asyncio.create_task(feed())
    feeder.add_done_callback(settled)
    try:
        delivered = 0
        end: _End | None = None
        failure: _Failed | None = None
        while not (end is not None and delivered == started):
            batch: list[tuple[str, Verdict]] = []
            event = await ready.get()
            while True:
                if isinstance(event, _End):
                    end = event
                elif isinstance(event, _Failed):
                    failure = event  # after the verdicts ready before it
                    break
                else:
                    batch.append(event)
                if ready.empty():
                    break
                event = ready.get_nowait()
            if batch:
                yield batch
                delivered += len(batch)
                for _ in batch:
                    slots.release()
            if failure is not None:
                raise failure.error
        assert end is not None
        if end.error is not None:
            raise end.error
    finally:
        pending = [feeder, *tasks]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
