"""One log line per RPC: method, status code, duration and request id.

The request id is the caller's `x-request-id` metadata when it is a sane token, otherwise a
fresh one; it is echoed in the trailing metadata and bound to every log line written while
the RPC runs. Health probes log at debug level so that Kubernetes does not fill the logs.
Metadata is never logged, so bearer tokens cannot leak from here.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import structlog

from bsa_judge.service.interceptors.method_handler import (
    CallScope,
    HandlerInterceptor,
    around_each_call,
    behaviour_of,
    with_behaviour,
)
from bsa_judge.service.interceptors.status import deadline_of, final_code

REQUEST_ID_KEY = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/=+-]{1,128}")
_QUIET_METHODS = frozenset({"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"})
_ERROR_CODES = frozenset(
    {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS}
)

log = structlog.get_logger(__name__)


def request_id_from(metadata: Any) -> str:
    """The caller's x-request-id if it is a sane token, else a new random id."""
    for key, value in metadata or ():
        if key == REQUEST_ID_KEY and isinstance(value, str) and _SANE_REQUEST_ID.fullmatch(value):
            return value
    return uuid.uuid4().hex


class _Logged:
    """The log line of one RPC, written when it ends.

    Everything read from the context at the end is plain Python state (the status code);
    the peer and the deadline are read at the start, while the call is alive: a cancelled
    stream's handler finishes after gRPC has released the call, and asking it for its
    peer then crashes the process.
    """

    def __init__(self, method: str, request_id: str) -> None:
        self.method = method
        self.request_id = request_id
        self._started = time.monotonic()
        self._peer = ""
        self._deadline: float | None = None

    def begin(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        self._peer = context.peer()
        self._deadline = deadline_of(context)
        context.set_trailing_metadata(((REQUEST_ID_KEY, self.request_id),))
        structlog.contextvars.bind_contextvars(request_id=self.request_id)

    def end(self, context: grpc.aio.ServicerContext[Any, Any], error: BaseException | None) -> None:
        ended = time.monotonic()
        code = final_code(context, error, self._deadline)
        level = logging.ERROR if code in _ERROR_CODES else logging.INFO
        if self.method in _QUIET_METHODS and code is grpc.StatusCode.OK:
            level = logging.DEBUG
        log.log(
            level,
            "rpc",
            method=self.method,
            code=code.name,
            duration_ms=round((ended - self._started) * 1000, 3),
            peer=self._peer,
        )
        structlog.contextvars.unbind_contextvars("request_id")


class _LoggedScope(CallScope):
    def __init__(
        self, request: Any, context: grpc.aio.ServicerContext[Any, Any], call: _Logged
    ) -> None:
        super().__init__(request, context)
        self._call = call
        call.begin(context)

    def ended(self, error: BaseException | None) -> None:
        self._call.end(self.context, error)


def _logging(method: str, metadata: Any, inner: Callable[..., Any]) -> Callable[..., Any]:
    """A behaviour of the same shape as `inner` that logs the RPC when it ends."""

    async def scope_of(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> CallScope:
        return _LoggedScope(request, context, _Logged(method, request_id_from(metadata)))

    return around_each_call(inner, scope_of)


class RequestLogInterceptor(HandlerInterceptor):
    """Writes the `rpc` log line of every RPC and echoes its request id."""

    def rebuilt(
        self, handler: grpc.RpcMethodHandler[Any, Any], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any]:
        return with_behaviour(
            handler, _logging(details.method, details.invocation_metadata, behaviour_of(handler))
        )
