"""gRPC server metrics in the go-grpc-prometheus shape, recorded by one aio interceptor.

Every RPC counts once in `grpc_server_started_total` and once in `grpc_server_handled_total`
with its final status code spelled as Go spells it (OK, InvalidArgument, ...), so stock gRPC
dashboards work unchanged. Streams are timed from the first call to the last message, and
their messages are counted both ways, whether the handler iterates and yields or calls
`context.read()` / `context.write()`. Unary calls count one message each way, as in Go.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import grpc
from bsa.judge.v1 import judge_pb2
from google.protobuf.descriptor import ServiceDescriptor

from bsa_judge import telemetry
from bsa_judge.service.interceptors.method_handler import (
    CallScope,
    HandlerInterceptor,
    around_each_call,
    behaviour_of,
    kind_of,
    streaming_kind,
    with_behaviour,
)
from bsa_judge.service.interceptors.status import deadline_of, final_code

JUDGE_SERVICE = judge_pb2.DESCRIPTOR.services_by_name["JudgeService"]

# grpc_code values exactly as go-grpc-prometheus writes them (codes.Code.String()).
GO_CODE_NAMES: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.OK: "OK",
    grpc.StatusCode.CANCELLED: "Canceled",
    grpc.StatusCode.UNKNOWN: "Unknown",
    grpc.StatusCode.INVALID_ARGUMENT: "InvalidArgument",
    grpc.StatusCode.DEADLINE_EXCEEDED: "DeadlineExceeded",
    grpc.StatusCode.NOT_FOUND: "NotFound",
    grpc.StatusCode.ALREADY_EXISTS: "AlreadyExists",
    grpc.StatusCode.PERMISSION_DENIED: "PermissionDenied",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "ResourceExhausted",
    grpc.StatusCode.FAILED_PRECONDITION: "FailedPrecondition",
    grpc.StatusCode.ABORTED: "Aborted",
    grpc.StatusCode.OUT_OF_RANGE: "OutOfRange",
    grpc.StatusCode.UNIMPLEMENTED: "Unimplemented",
    grpc.StatusCode.INTERNAL: "Internal",
    grpc.StatusCode.UNAVAILABLE: "Unavailable",
    grpc.StatusCode.DATA_LOSS: "DataLoss",
    grpc.StatusCode.UNAUTHENTICATED: "Unauthenticated",
}


class _Series:
    """The metric children of one method, looked up once (labels() takes a lock each time)."""

    def __init__(self, labels: tuple[str, str, str]) -> None:
        self.started = telemetry.GRPC_STARTED.labels(*labels)
        self.received = telemetry.GRPC_MSG_RECEIVED.labels(*labels)
        self.sent = telemetry.GRPC_MSG_SENT.labels(*labels)
        self.seconds = telemetry.GRPC_HANDLING_SECONDS.labels(*labels)
        self.handled = {
            code: telemetry.GRPC_HANDLED.labels(*labels, name)
            for code, name in GO_CODE_NAMES.items()
        }


_SERIES: dict[tuple[str, str, str], _Series] = {}


def _series(labels: tuple[str, str, str]) -> _Series:
    series = _SERIES.get(labels)
    if series is None:
        series = _SERIES[labels] = _Series(labels)
    return series


class _Call:
    """The metrics of one RPC while it runs."""

    def __init__(
        self, labels: tuple[str, str, str], context: grpc.aio.ServicerContext[Any, Any]
    ) -> None:
        self._series = _series(labels)
        self._started = time.perf_counter()
        self._deadline = deadline_of(context)
        self._series.started.inc()

    def received(self) -> None:
        self._series.received.inc()

    def sent(self) -> None:
        self._series.sent.inc()

    def finish(
        self, context: grpc.aio.ServicerContext[Any, Any], error: BaseException | None
    ) -> None:
        self._series.handled[final_code(context, error, self._deadline)].inc()
        self._series.seconds.observe(time.perf_counter() - self._started)


async def _counted(requests: AsyncIterator[Any], call: _Call) -> AsyncIterator[Any]:
    async for request in requests:
        call.received()
        yield request


class _CountingContext:
    """The servicer context as the handler sees it, counting the messages it reads and writes.

    Everything else is the real context's; only `read` and `write` are looked at.
    """

    def __init__(self, context: grpc.aio.ServicerContext[Any, Any], call: _Call) -> None:
        self._context = context
        self._call = call

    async def read(self) -> Any:
        message = await self._context.read()
        if message is not grpc.aio.EOF:
            self._call.received()
        return message

    async def write(self, message: Any) -> None:
        await self._context.write(message)
        self._call.sent()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class _ObservedScope(CallScope):
    def __init__(
        self, request: Any, context: grpc.aio.ServicerContext[Any, Any], call: _Call
    ) -> None:
        super().__init__(request, context)
        self._call = call
        self._context = context

    def sent(self, response: Any) -> None:
        self._call.sent()

    def ended(self, error: BaseException | None) -> None:
        self._call.finish(self._context, error)


def _observed(labels: tuple[str, str, str], kind: str, inner: Callable[..., Any]) -> Any:
    """A behaviour of the same shape as `inner` that records the RPC's metrics around it."""
    streaming_requests = kind in ("client_stream", "bidi_stream")
    streaming_responses = kind in ("server_stream", "bidi_stream")

    async def scope_of(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> CallScope:
        call = _Call(labels, context)
        if streaming_requests:
            request = _counted(request, call)
        else:
            call.received()
        # Streaming handlers written as coroutines read and send through the context.
        seen: Any = _CountingContext(context, call) if streaming_responses else context
        return _ObservedScope(request, seen, call)

    return around_each_call(inner, scope_of)


def initialize(service: ServiceDescriptor) -> None:
    """Create every series of the service's methods at zero, as go-grpc-prometheus does, so
    that rate() and increase() see the first RPC after a start instead of a new series."""
    for method in service.methods:
        kind = streaming_kind(method.client_streaming, method.server_streaming)
        _series((kind, service.full_name, method.name))


class PrometheusInterceptor(HandlerInterceptor):
    """Records grpc_server_* metrics for every RPC the server handles.

    The JudgeService's series exist from the start, at zero (see `initialize`).
    """

    def __init__(self, services: Iterable[ServiceDescriptor] = (JUDGE_SERVICE,)) -> None:
        for service in services:
            initialize(service)

    def rebuilt(
        self, handler: grpc.RpcMethodHandler[Any, Any], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any]:
        kind = kind_of(handler)
        service, _, method = details.method.lstrip("/").rpartition("/")
        return with_behaviour(
            handler, _observed((kind, service, method), kind, behaviour_of(handler))
        )
