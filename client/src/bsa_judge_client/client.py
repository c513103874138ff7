"""JudgeClient: the blocking client of bsa.judge.v1.JudgeService."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any

import grpc
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc

from bsa_judge_client.batching import ReadAhead, trace_batches
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

GenerateInput = judge_pb2.GenerateRequest | Mapping[str, Any]
JudgeTraceInput = judge_pb2.JudgeTraceRequest | Mapping[str, Any]
JudgeTracesInput = judge_pb2.JudgeTracesRequest | Mapping[str, Any]
ComputeMetricsInput = judge_pb2.ComputeMetricsRequest | Mapping[str, Any]
CreateRunInput = judge_pb2.CreateRunRequest | Mapping[str, Any]
GetRunInput = judge_pb2.GetRunRequest | Mapping[str, Any]
ListRunsInput = judge_pb2.ListRunsRequest | Mapping[str, Any]
ExportRunInput = judge_pb2.ExportRunRequest | Mapping[str, Any]
EvaluateItemsInput = judge_pb2.EvaluateItemsRequest | Mapping[str, Any]

DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: How long a resubmission waits for a server to accept connections before it gives up.
DEFAULT_RECONNECT_TIMEOUT_S = 30.0


class JudgeClient:
    """Blocking client of the judge service. Use it as a context manager, or call `close()`.

    >>> with JudgeClient("localhost:50051", token="...") as judge:
    ...     verdict = judge.judge_trace({"trace": {...}}).verdict

    Args:
        target: gRPC target: `host:port`, or `dns:///service.namespace.svc:50051` for a
            headless Kubernetes Service (with `load_balancing="round_robin"`).
        tls: TLS settings; None connects without TLS (loopback, in-cluster meshes).
        token: Bearer token sent as `authorization: Bearer <token>` on every call.
        timeout_s: Default deadline of unary calls, in seconds (None: no deadline).
        stream_timeout_s: Default deadline of streaming calls (None: no deadline).
        retry: Retry policy for UNAVAILABLE; None turns retries off.
        load_balancing: `pick_first`, or `round_robin` over every resolved address.
        max_message_bytes: Largest message sent or received.
        options: Extra gRPC channel arguments; they win over the ones set here.
        reconnect_timeout_s: How long `judge_traces`, when its stream ended UNAVAILABLE,
            waits for a server to accept connections before resubmitting; past it, the
            UNAVAILABLE error is raised (a server that never comes up fails the call).

    Every method also takes `timeout_s=` (its deadline) and `metadata=` (extra call
    metadata, e.g. `[("x-request-id", "batch-7/trace-19")]` to find the call in the
    server's log). Failed calls raise `grpc.RpcError` with the status code and details.
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
            grpc.secure_channel(target, tls.credentials(), options=arguments)
            if tls is not None
            else grpc.insecure_channel(target, options=arguments)
        )
        self._stub = judge_pb2_grpc.JudgeServiceStub(self._channel)
        self._metadata = call_metadata(token)
        self._timeout_s = timeout_s
        self._stream_timeout_s = stream_timeout_s

    def __enter__(self) -> JudgeClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel; calls in progress are cancelled."""
        self._channel.close()

    def generate(
        self, request: GenerateInput, *, timeout_s: float | None = None, metadata: Metadata = ()
    ) -> Iterator[judge_pb2.GenerateResponse]:
        """Run the model under test k times on one item; yields each sample as it completes.

        Each GenerateResponse carries one `sample` (its `status` says whether it succeeded).
        """
        call = self._stub.Generate(
            as_message(request, judge_pb2.GenerateRequest),
            timeout=timeout_s if timeout_s is not None else self._stream_timeout_s,
            metadata=(*self._metadata, *metadata),
        )
        try:
            yield from call
        finally:
            call.cancel()  # no-op once finished; stops the call if the caller broke off

    def judge_trace(
        self, request: JudgeTraceInput, *, timeout_s: float | None = None, metadata: Metadata = ()
    ) -> judge_pb2.JudgeTraceResponse:
        """Judge one trace; the response carries its verdict."""
        response: judge_pb2.JudgeTraceResponse = self._stub.JudgeTrace(
            as_message(request, judge_pb2.JudgeTraceRequest),
            timeout=timeout_s if timeout_s is not None else self._timeout_s,
            metadata=(*self._metadata, *metadata),
        )
        return response

    def judge_traces(
        self,
        requests: Iterable[JudgeTracesInput],
        *,
        max_in_flight: int = 64,
        timeout_s: float | None = None,
        metadata: Metadata = (),
        resubmissions: int = 3,
        batch_size: int = 1,
    ) -> Iterator[judge_pb2.JudgeTracesResponse]:
        """Stream any number of traces; yields verdicts as they arrive (not in order).

        At most `max_in_flight` traces are sent and not yet answered at any time, so a
        huge or endless `requests` iterable is read lazily. Each response carries the `key`
        of its request.

        `batch_size` > 1 sends the traces at hand up to that many to a message
        (JudgeTraceBatches) and reads the verdicts packed the same way, for about half the
        service's CPU per trace when judging is cheap. `requests` is then read on a thread
        of its own, at most `batch_size` ahead, so that a trace never waits for the next
        ones to fill its batch.

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
        source = iter(requests)
        ahead = ReadAhead(source, batch_size) if batch_size > 1 else None
        failed_in_a_row = 0
        retrying = False
        try:
            while True:
                answered_before = unanswered.answered
                try:
                    yield from self._judge_traces_once(
                        unanswered,
                        source,
                        max_in_flight,
                        timeout_s,
                        metadata,
                        retrying=retrying,
                        ahead=ahead,
                    )
                    return
                except grpc.RpcError as error:
                    if unanswered.answered > answered_before:
                        failed_in_a_row = 0
                    failed_in_a_row += 1
                    if not resubmits(error, failed_in_a_row, resubmissions):
                        raise
                    try:  # the next server (a rolling deploy's) gets a bounded time to be up
                        grpc.channel_ready_future(self._channel).result(
                            timeout=self._reconnect_timeout_s
                        )
                    except grpc.FutureTimeoutError:
                        raise error from None
                    retrying = True
        finally:
            if ahead is not None:
                ahead.close()

    def _judge_traces_once(
        self,
        unanswered: Unanswered,
        source: Iterator[JudgeTracesInput],
        max_in_flight: int,
        timeout_s: float | None,
        metadata: Metadata,
        *,
        retrying: bool,
        ahead: ReadAhead | None = None,
    ) -> Iterator[judge_pb2.JudgeTracesResponse]:
        """One JudgeTraces call: the unanswered traces first, then the rest of `source`;
        with `ahead`, one JudgeTraceBatches call taking the traces from it."""
        window = _Window(max_in_flight)
        failure: list[BaseException] = []

        def outgoing() -> Iterator[judge_pb2.JudgeTracesRequest]:
            # gRPC reads this from its own thread. On a bad request (or a failing iterable)
            # the stream half-closes: the verdicts already due arrive, then the caller gets
            # the error.
            try:
                for message in unanswered.messages():
                    if not window.take():
                        return
                    yield message
                for request in source:
                    message = as_message(request, judge_pb2.JudgeTracesRequest)
                    unanswered.add(message)  # before waiting: a cut stream sends it again
                    if not window.take():
                        return
                    yield message
            except Exception as error:
                failure.append(error)

        def outgoing_batches(ahead: ReadAhead) -> Iterator[judge_pb2.JudgeTraceBatchesRequest]:
            try:
                yield from trace_batches(
                    unanswered, ahead, ahead.size, window.take, window.try_take
                )
            except Exception as error:
                failure.append(error)

        options: dict[str, Any] = {
            "timeout": timeout_s if timeout_s is not None else self._stream_timeout_s,
            "metadata": (*self._metadata, *metadata),
            "wait_for_ready": retrying,  # a resubmission waits for the next server to be up
        }
        call: Any = (
            self._stub.JudgeTraces(outgoing(), **options)
            if ahead is None
            else self._stub.JudgeTraceBatches(outgoing_batches(ahead), **options)
        )
        try:
            for message in call:
                for response in message.verdicts if ahead is not None else (message,):
                    window.give_back()
                    unanswered.answer(response.key)
                    yield response
        except grpc.RpcError:
            if failure:
                raise failure[0] from None
            raise
        finally:
            window.close()
            call.cancel()  # no-op once finished; stops the call if the caller broke off
        if failure:
            raise failure[0]

    def compute_metrics(
        self,
        request: ComputeMetricsInput,
        *,
        timeout_s: float | None = None,
        metadata: Metadata = (),
    ) -> judge_pb2.ComputeMetricsResponse:
        """The benchmark figures for verdicts sent inline or for a stored run."""
        response: judge_pb2.ComputeMetricsResponse = self._stub.ComputeMetrics(
            as_message(request, judge_pb2.ComputeMetricsRequest),
            timeout=timeout_s if timeout_s is not None else self._timeout_s,
            metadata=(*self._metadata, *metadata),
        )
        return response

    # --- Runs -----------------------------------------------------------------------------
    def create_run(
        self, request: CreateRunInput, *, timeout_s: float | None = None, metadata: Metadata = ()
    ) -> judge_pb2.CreateRunResponse:
        """Create a run (`{"run_id": ..., "settings": {...}}`), or find the one created with
        the same settings; different settings raise FAILED_PRECONDITION naming the field."""
        response: judge_pb2.CreateRunResponse = self._stub.CreateRun(
            as_message(request, judge_pb2.CreateRunRequest),
            timeout=timeout_s if timeout_s is not None else self._timeout_s,
            metadata=(*self._metadata, *metadata),
        )
        return response

    def get_run(
        self, request: GetRunInput, *, timeout_s: float | None = None, metadata: Metadata = ()
    ) -> judge_pb2.GetRunResponse:
        """One run (`{"run_id": ...}`) with its progress counts."""
        response: judge_pb2.GetRunResponse = self._stub.GetRun(
            as_message(request, judge_pb2.GetRunRequest),
            timeout=timeout_s if timeout_s is not None else self._timeout_s,
            metadata=(*self._metadata, *metadata),
        )
        return response

    def list_runs(
        self,
        request: ListRunsInput | None = None,
        *,
        timeout_s: float | None = None,
        metadata: Metadata = (),
    ) -> judge_pb2.ListRunsResponse:
        """One page of runs, newest first (`{"page_size": 50, "page_token": ...}`)."""
        response: judge_pb2.ListRunsResponse = self._stub.ListRuns(
            as_message(request or {}, judge_pb2.ListRunsRequest),
            timeout=timeout_s if timeout_s is not None else self._timeout_s,
            metadata=(*self._metadata, *metadata),
        )
        return response

    def export_run(
        self, request: ExportRunInput, *, timeout_s: float | None = None, metadata: Metadata = ()
    ) -> Iterator[judge_pb2.ExportRunResponse]:
        """Every stored sample of a run (`{"run_id": ...}`) with its verdict."""
        call = self._stub.ExportRun(
            as_message(request, judge_pb2.ExportRunRequest),
            timeout=timeout_s if timeout_s is not None else self._stream_timeout_s,
            metadata=(*self._metadata, *metadata),
        )
        try:
            yield from call
        finally:
            call.cancel()  # no-op once finished; stops the call if the caller broke off

    def evaluate_items(
        self,
        requests: Iterable[EvaluateItemsInput],
        *,
        k: int,
        max_in_flight: int = 16,
        pending: PendingItems | None = None,
        timeout_s: float | None = None,
        metadata: Metadata = (),
    ) -> Iterator[judge_pb2.EvaluateItemsResponse]:
        """Evaluate items into a run; yields each sample with its verdict as both are stored.

        Each request is `{"run_id": ..., "item": {...}}` (plus `"samples": [...]` for a run
        of submitted samples); `k` is the run's samples per item. At most `max_in_flight`
        requests are sent and not yet fully answered at any time, and `requests` is read
        lazily. Pass your own `pending` to see, after a broken stream, which requests were
        not fully answered: sending them again costs nothing for what is already stored.
        """
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        waiting = pending if pending is not None else PendingItems(k)
        window = _Window(max_in_flight)
        failure: list[BaseException] = []

        def outgoing() -> Iterator[judge_pb2.EvaluateItemsRequest]:
            try:
                for request in requests:
                    message = as_message(request, judge_pb2.EvaluateItemsRequest)
                    if not window.take():
                        return
                    waiting.sent(message)
                    yield message
            except Exception as error:
                failure.append(error)

        call = self._stub.EvaluateItems(
            outgoing(),
            timeout=timeout_s if timeout_s is not None else self._stream_timeout_s,
            metadata=(*self._metadata, *metadata),
        )
        try:
            for response in call:
                if waiting.answered(response):
                    window.give_back()
                yield response
        except grpc.RpcError:
            if failure:
                raise failure[0] from None
            raise
        finally:
            window.close()
            call.cancel()
        if failure:
            raise failure[0]


class _Window:
    """A count of traces in flight, bounded; closing it releases a waiting sender."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._closed = False
        self._changed = threading.Condition()

    def take(self) -> bool:
        """Wait for a free slot and take it; False once the window is closed."""
        with self._changed:
            self._changed.wait_for(lambda: self._free > 0 or self._closed)
            if self._closed:
                return False
            self._free -= 1
            return True

    def try_take(self) -> bool:
        """Take a free slot if there is one, without waiting."""
        with self._changed:
            if self._closed or self._free == 0:
                return False
            self._free -= 1
            return True

    def give_back(self) -> None:
        with self._changed:
            self._free += 1
            self._changed.notify()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
