"""AsyncJudgeClient: the asyncio client of bsa.judge.v1.JudgeService."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable
from types import TracebackType
from typing import Any

import grpc
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc

from bsa_judge_client.batching import Batch
from bsa_judge_client.client import (
    DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_RECONNECT_TIMEOUT_S,
    ComputeMetricsInput,
    CreateRunInput,
    EvaluateItemsInput,
    ExportRunInput,
    GenerateInput,
    GetRunInput,
    JudgeTraceInput,
    JudgeTracesInput,
    ListRunsInput,
)
from bsa_judge_client.connection import (
    LoadBalancing,
    Metadata,
    RetryPolicy,
    Tls,
    call_metadata,
    channel_options,
)
from bsa_judge_client.evaluation import PendingItems
from bsa_judge_client.messages import as_message
from bsa_judge_client.resubmission import Unanswered, resubmits

# What writing to a call that has ended raises: grpc.aio raises InvalidStateError when the
# status has already arrived (a server that stopped reading), RpcError otherwise.
_CALL_ENDED = (grpc.RpcError, asyncio.InvalidStateError)


#: How long a stream's first write waits for the server's headers (see `_accepted`).
_ACCEPT_WAIT_S = 2.0


async def _accepted(call: Any) -> bool:
    """Whether the server accepted the streaming `call`, waiting for its headers first.

    grpc.aio reports INTERNAL "Internal error from Core" instead of the server's status when a
    write fails because the server has already ended the call (grpc/grpc#36066): a refused
    stream (no token, the heavy-call limit) written to at once loses its UNAUTHENTICATED.
    The service sends its headers as soon as a bidi stream starts, so the first write waits
    for them, or for the end of the call; a server that sends none is written to after
    `_ACCEPT_WAIT_S`. False when the call has already ended (reading reports its status).
    """
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(call.initial_metadata()), _ACCEPT_WAIT_S)
    return not call.done()


class AsyncJudgeClient:
    """asyncio client of the judge service. Use it with `async with`, or `await close()`.

    >>> async with AsyncJudgeClient("localhost:50051") as judge:
    ...     async for response in judge.judge_traces(traces, max_in_flight=32):
    ...         print(response.key, response.verdict.safety_label)

    Create it inside the event loop that will use it. Arguments are those of `JudgeClient`:

    Args:
        target: gRPC target: `host:port`, or `dns:///service.namespace.svc:50051` for a
            headless Kubernetes Service (with `load_balancing="round_robin"`).
        tls: TLS settings; None connects without TLS.
        token: Bearer token sent as `authorization: Bearer <token>` on every call.
        timeout_s: Default deadline of unary calls, in seconds (None: no deadline).
        stream_timeout_s: Default deadline of streaming calls (None: no deadline).
        retry: Retry policy for UNAVAILABLE; None turns retries off.
        load_balancing: `pick_first`, or `round_robin` over every resolved address.
        max_message_bytes: Largest message sent or received.
        options: Extra gRPC channel arguments; they win over the ones set here.
        reconnect_timeout_s: How long `judge_traces` waits for a server to accept
            connections before resubmitting; past it, the UNAVAILABLE error is raised.

    Every method also takes `timeout_s=` and `metadata=`; failed calls raise
    `grpc.aio.AioRpcError`.
    """

    def __init__(
        self,
        target: str,
        *,
        tls: Tls | None = None,
        token: str | None = None,
        timeout_s: float | None = 60.0,
        stream_timeout_s: float | None = None,
        retry: RetryPolicy | None = RetryPolicy(),  # noqa: B008 - frozen, shared safely
        load_balancing: LoadBalancing = "pick_first",
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        options: tuple[tuple[str, Any], ...] = (),
        reconnect_timeout_s: float = DEFAULT_RECONNECT_TIMEOUT_S,
    ) -> None:
        arguments = channel_options(retry, load_balancing, tls, max_message_bytes, options)
        self._reconnect_timeout_s = reconnect_timeout_s
        self._channel = (
            grpc.aio.secure_channel(target, tls.credentials(), options=arguments)
            if tls is not None
            else grpc.aio.insecure_channel(target, options=arguments)
        )
        self._stub = judge_pb2_grpc.JudgeServiceStub(self._channel)
        self._metadata = call_metadata(token)
        self._timeout_s = timeout_s
        self._stream_timeout_s = stream_timeout_s

    async def __aenter__(self) -> AsyncJudgeClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the channel; calls in progress are cancelled."""
        await self._channel.close()

    async def generate(
        self, request: GenerateInput, *, timeout_s: float | None = None, metadata: Metadata = ()
    ) -> AsyncIterator[judge_pb2.GenerateResponse]:
        """Run the model under test k times on one item; yields each sample as it completes."""
        call = self._stub.Generate(
            as_message(request, judge_pb2.GenerateRequest),
            timeout=timeout_s if timeout_s is not None else self._stream_timeout_s,
            metadata=(*self._metadata, *metadata),
        )
        try:
            async for response in call:
                yield response
        finally:
            call.cancel()  # no-op once finished; stops the call if the caller broke off

    async def judge_trace(
        self, request: JudgeTraceInput, *, timeout_s: float | None = None, metadata: Metadata = ()
    ) -> judge_pb2.JudgeTraceResponse:
        """Judge one trace; the response carries its verdict."""
        return await self._stub.JudgeTrace(
            as_message(request, judge_pb2.JudgeTraceRequest),
            timeout=timeout_s if timeout_s is not None else self._timeout_s,
            metadata=(*self._metadata, *metadata),
        )

    async def judge_traces(
        self,
        requests: Iterable[JudgeTracesInput] | AsyncIterable[JudgeTracesInput],
        *,
        max_in_flight: int = 64,
        timeout_s: float | None = None,
        metadata: Metadata = (),
        resubmissions: int = 3,
        batch_size: int = 1,
    ) -> AsyncIterator[judge_pb2.JudgeTracesResponse]:
        """Stream any number of traces; yields verdicts as they arrive (not in order).

        `batch_size` > 1 sends the traces at hand up to that many to a message
        (JudgeTraceBatches) and reads the verdicts packed the same way: the same verdicts for
        about a third of the service's CPU per trace when judging is cheap (a trace waits for
        no other: whatever `requests` has ready, within the window, goes at once).

        At most `max_in_flight` traces are sent and not yet answered at any time; `requests`
        (a plain or an async iterable) is read lazily. Each response carries the `key` of
        its request. A bad request ends the sending: the verdicts already due arrive, then
        its error is raised.

        When the stream ends UNAVAILABLE (a server shutting down for a rolling deploy stops
        reading, answers what it has read, then ends so), the traces sent without a verdict
        are sent again, by key, on a new stream, followed by the rest of `requests`; at most
        `resubmissions` times in a row without a verdict in between. Give each trace its own
        key: a key names the trace to send again.
        """
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        unanswered = Unanswered()
        source = _each(requests)
        lookahead = _Lookahead(source) if batch_size > 1 else None
        failed_in_a_row = 0
        retrying = False
        try:
            while True:
                answered_before = unanswered.answered
                stream = self._judge_traces_once(
                    unanswered,
                    source,
                    max_in_flight,
                    timeout_s,
                    metadata,
                    retrying=retrying,
                    batch_size=batch_size,
                    lookahead=lookahead,
                )
                try:
                    async with contextlib.aclosing(stream):
                        async for response in stream:
                            yield response
                    return
                except grpc.aio.AioRpcError as error:
                    if unanswered.answered > answered_before:
                        failed_in_a_row = 0
                    failed_in_a_row += 1
                    if not resubmits(error, failed_in_a_row, resubmissions):
                        raise
                    try:  # the next server (a rolling deploy's) gets a bounded time to be up
                        await asyncio.wait_for(
                            self._channel.channel_ready(), self._reconnect_timeout_s
                        )
                    except TimeoutError:
                        raise error from None
                    retrying = True
        finally:
            if lookahead is not None:
                lookahead.close()

    async def _judge_traces_once(
        self,
        unanswered: Unanswered,
        source: AsyncIterator[Any],
        max_in_flight: int,
        timeout_s: float | None,
        metadata: Metadata,
        *,
        retrying: bool,
        batch_size: int = 1,
        lookahead: _Lookahead | None = None,
    ) -> AsyncGenerator[judge_pb2.JudgeTracesResponse, None]:
        """One JudgeTraces (or JudgeTraceBatches) call: the unanswered traces first, then
        the rest of `source`."""
        method = self._stub.JudgeTraces if batch_size == 1 else self._stub.JudgeTraceBatches
        call: Any = method(
            timeout=timeout_s if timeout_s is not None else self._stream_timeout_s,
            metadata=(*self._metadata, *metadata),
            wait_for_ready=retrying,  # a resubmission waits for the next server to be up
        )
        window = asyncio.Semaphore(max_in_flight)
        failure: list[Exception] = []

        async def send() -> None:
            try:
                if not await _accepted(call):
                    return
                if lookahead is not None:
                    await _send_batches(call, unanswered, lookahead, window, batch_size)
                else:
                    for message in unanswered.messages():
                        await window.acquire()
                        await call.write(message)
                    async for request in source:
                        message = as_message(request, judge_pb2.JudgeTracesRequest)
                        unanswered.add(message)  # before waiting: a cut stream sends it again
                        await window.acquire()
                        await call.write(message)
            except _CALL_ENDED:
                return  # the call has ended; reading reports its status
            except Exception as error:  # a bad request, or the iterable itself failed
                failure.append(error)
            with contextlib.suppress(*_CALL_ENDED):
                await call.done_writing()

        sender = asyncio.create_task(send())
        try:
            # read() returns grpc.aio.EOF once the server has sent everything.
            while not isinstance(message := await call.read(), type(grpc.aio.EOF)):
                packed = message.verdicts if batch_size > 1 else (message,)
                for response in packed:
                    window.release()
                    unanswered.answer(response.key)
                    yield response
        except grpc.RpcError:
            if failure:
                raise failure[0] from None
            raise
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, *_CALL_ENDED):
                await sender
            call.cancel()  # no-op once finished; stops the call if the caller broke off
        if failure:
            raise failure[0]

    async def compute_metrics(
        self,
        request: ComputeMetricsInput,
        *,
        timeout_s: float | None = None,
        metadata: Metadata = (),
    ) -> judge_pb2.ComputeMetricsResponse:
        """The benchmark figures for verdicts sent inline or for a stored run."""
        return await self._stub.ComputeMetrics(
            as_message(request, judge_pb2.ComputeMetricsRequest),
            timeout=timeout_s if timeout_s is not None else self._timeout_s,
            metadata=(*self._metadata, *metadata),
        )

    # --- Runs -----------------------------------------------------------------------------
    async def create_run(
        self, request: CreateRunInput, *, timeout_s: float | None = None, metadata: Metadata = ()
    ) -> judge_pb2.CreateRunResponse:
        """Create a run, or find the one created with the same settings (see JudgeClient)."""
        return await self._stub.CreateRun(
            as_message(request, judge_pb2.CreateRunRequest),
            timeout=timeout_s if timeout_s is not None else self._timeout_s,
            metadata=(*self._metadata, *metadata),
        )

    async def get_run(
        self, request: GetRunInput, *, timeout_s: float | None = None, metadata: Metadata = ()
    ) -> judge_pb2.GetRunResponse:
        """One run (`{"run_id": ...}`) with its progress counts."""
        return await self._stub.GetRun(
            as_message(request, judge_pb2.GetRunRequest),
            timeout=timeout_s if timeout_s is not None else self._timeout_s,
            metadata=(*self._metadata, *metadata),
        )

    async def list_runs(
        self,
        request: ListRunsInput | None = None,
        *,
        timeout_s: float | None = None,
        metadata: Metadata = (),
    ) -> judge_pb2.ListRunsResponse:
        """One page of runs, newest first."""
        return await self._stub.ListRuns(
            as_message(request or {}, judge_pb2.ListRunsRequest),
            timeout=timeout_s if timeout_s is not None else self._timeout_s,
            metadata=(*self._metadata, *metadata),
        )

    async def export_run(
        self, request: ExportRunInput, *, timeout_s: float | None = None, metadata: Metadata = ()
    ) -> AsyncIterator[judge_pb2.ExportRunResponse]:
        """Every stored sample of a run with its verdict."""
        call = self._stub.ExportRun(
            as_message(request, judge_pb2.ExportRunRequest),
            timeout=timeout_s if timeout_s is not None else self._stream_timeout_s,
            metadata=(*self._metadata, *metadata),
        )
        try:
            async for response in call:
                yield response
        finally:
            call.cancel()

    async def evaluate_items(
        self,
        requests: Iterable[EvaluateItemsInput] | AsyncIterable[EvaluateItemsInput],
        *,
        k: int,
        max_in_flight: int = 16,
        pending: PendingItems | None = None,
        timeout_s: float | None = None,
        metadata: Metadata = (),
    ) -> AsyncIterator[judge_pb2.EvaluateItemsResponse]:
        """Evaluate items into a run; yields each sample with its verdict as both are stored.

        Arguments as in `JudgeClient.evaluate_items`: at most `max_in_flight` requests are
        unanswered at any time; `pending` tells which to send again after a broken stream.
        """
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        waiting = pending if pending is not None else PendingItems(k)
        call = self._stub.EvaluateItems(
            timeout=timeout_s if timeout_s is not None else self._stream_timeout_s,
            metadata=(*self._metadata, *metadata),
        )
        window = asyncio.Semaphore(max_in_flight)
        failure: list[Exception] = []

        async def send() -> None:
            try:
                if not await _accepted(call):
                    return
                async for request in _each(requests):
                    message = as_message(request, judge_pb2.EvaluateItemsRequest)
                    await window.acquire()
                    waiting.sent(message)
                    await call.write(message)
            except grpc.RpcError:
                return  # the call has ended; reading reports its status
            except Exception as error:  # a bad request, or the iterable itself failed
                failure.append(error)
            await call.done_writing()

        sender = asyncio.create_task(send())
        try:
            while isinstance(response := await call.read(), judge_pb2.EvaluateItemsResponse):
                if waiting.answered(response):
                    window.release()
                yield response
        except grpc.RpcError:
            if failure:
                raise failure[0] from None
            raise
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, grpc.RpcError):
                await sender
            call.cancel()
        if failure:
            raise failure[0]


_END = object()


class _Lookahead:
    """The next item of the caller's async source, fetched ahead in a task of its own and
    kept across the streams of one judge_traces call: a stream that ends while the fetch is
    running or done leaves the item to the next stream, never drops it; `close` (the call
    is over) cancels a fetch still running."""

    def __init__(self, source: AsyncIterator[Any]) -> None:
        self._source = source
        self._next: asyncio.Future[Any] | None = None

    def fetching(self) -> asyncio.Future[Any]:
        """The fetch of the next item (_END once the source is used up), started if need be."""
        if self._next is None:
            self._next = asyncio.ensure_future(anext(self._source, _END))
        return self._next

    async def take(self) -> Any:
        """The next item. A stream cancelled while waiting leaves the fetch running."""
        item = await asyncio.shield(self.fetching())
        self._next = None
        return item

    def close(self) -> None:
        if self._next is not None:
            self._next.cancel()


async def _send_batches(
    call: Any,
    unanswered: Unanswered,
    lookahead: _Lookahead,
    window: asyncio.Semaphore,
    size: int,
) -> None:
    """Write the unanswered traces, then the source's, as JudgeTraceBatchesRequest messages
    (`Batch`), each trace holding a slot of `window` until its verdict: a batch is written
    as soon as it is full, the next trace does not fit, the window is used up, or the source
    has no next trace at hand."""
    batch = Batch(size)

    async def join(message: judge_pb2.JudgeTracesRequest) -> None:
        size = message.ByteSize()
        if batch and (not batch.fits(size) or window.locked()):
            await call.write(batch.take())
        await window.acquire()
        batch.add(message, size)
        if batch.full:
            await call.write(batch.take())

    for message in unanswered.messages():
        await join(message)
    while True:
        upcoming = lookahead.fetching()
        await asyncio.sleep(0)  # a source with a trace at hand gives it now
        if batch and not upcoming.done():
            await call.write(batch.take())
        request = await lookahead.take()
        if request is _END:
            break
        message = as_message(request, judge_pb2.JudgeTracesRequest)
        unanswered.add(message)  # before any wait: a cut stream sends it again
        await join(message)
    if batch:
        await call.write(batch.take())


async def _each(items: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[Any]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item
