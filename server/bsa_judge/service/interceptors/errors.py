"""The one place where domain errors become gRPC statuses.

Core code and servicers raise `bsa_judge.errors`; this interceptor answers the caller with
the matching status, in the rich form of `google.rpc.Status` (grpcio-status):

- InvalidInput       -> INVALID_ARGUMENT, with a `google.rpc.BadRequest` detail naming each field
- NotFound           -> NOT_FOUND
- FailedPrecondition -> FAILED_PRECONDITION
- Overloaded         -> RESOURCE_EXHAUSTED
- StoreUnavailable   -> UNAVAILABLE (the run store's database is away: retry)
- anything else      -> INTERNAL "internal error", logged here with its traceback; the caller
                        learns nothing of the internals, only the request id to quote.

Statuses a servicer sets itself with `context.abort` pass through untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import grpc
import structlog
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from bsa_judge.errors import FailedPrecondition, InvalidInput, NotFound, Overloaded
from bsa_judge.runs.run import StoreUnavailable
from bsa_judge.service.interceptors.method_handler import (
    CallScope,
    HandlerInterceptor,
    around_each_call,
    behaviour_of,
    with_behaviour,
)

log = structlog.get_logger(__name__)

_CODES: dict[type[Exception], int] = {
    InvalidInput: code_pb2.INVALID_ARGUMENT,
    NotFound: code_pb2.NOT_FOUND,
    FailedPrecondition: code_pb2.FAILED_PRECONDITION,
    Overloaded: code_pb2.RESOURCE_EXHAUSTED,
    StoreUnavailable: code_pb2.UNAVAILABLE,
}


# A status travels in the trailers, whose size gRPC limits (16 KiB by default): past that
# the caller gets RESOURCE_EXHAUSTED instead of our code. Messages and BadRequest details
# echo what the caller sent, so they are cut to these bounds: the message (sent twice, once
# percent-encoded) to MESSAGE_CHARS, each violation's field and description to a few
# hundred characters, and the violations to those that fit in DETAILS_BYTES (at least one).
MESSAGE_CHARS = 512
VIOLATION_FIELD_CHARS = 128
VIOLATION_DESCRIPTION_CHARS = 512
DETAILS_BYTES = 4096


def bounded(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters with a note of how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def status_for(error: Exception) -> status_pb2.Status:
    """The google.rpc.Status a caller receives for `error`."""
    for kind, code in _CODES.items():
        if isinstance(error, kind):
            status = status_pb2.Status(code=code, message=bounded(str(error), MESSAGE_CHARS))
            if isinstance(error, InvalidInput):
                status.details.append(_packed(_bad_request(error)))
            return status
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    message = "internal error" + (f" (request id {request_id})" if request_id else "")
    return status_pb2.Status(code=code_pb2.INTERNAL, message=message)


def _bad_request(error: InvalidInput) -> error_details_pb2.BadRequest:
    bad_request = error_details_pb2.BadRequest()
    for violation in error.violations:
        bad_request.field_violations.add(
            field=bounded(violation.field, VIOLATION_FIELD_CHARS),
            description=bounded(violation.description, VIOLATION_DESCRIPTION_CHARS),
        )
        if len(bad_request.field_violations) > 1 and bad_request.ByteSize() > DETAILS_BYTES:
            del bad_request.field_violations[-1]
            break
    return bad_request


def _packed(detail: error_details_pb2.BadRequest) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(detail)
    return packed


async def _abort(
    context: grpc.aio.ServicerContext[Any, Any], method: str, error: Exception
) -> NoReturn:
    status = status_for(error)
    if status.code == code_pb2.INTERNAL:
        log.error("rpc_internal_error", method=method, exc_info=error)
    grpc_status = rpc_status.to_status(status)
    # abort() replaces the trailing metadata; keep what was set before (the request id).
    trailing = (*(context.trailing_metadata() or ()), *grpc_status.trailing_metadata)
    await context.abort(grpc_status.code, grpc_status.details, trailing_metadata=trailing)


class _MappingScope(CallScope):
    def __init__(
        self, request: Any, context: grpc.aio.ServicerContext[Any, Any], method: str
    ) -> None:
        super().__init__(request, context)
        self._method = method

    async def failed(self, error: Exception) -> None:
        if not isinstance(error, grpc.aio.AbortError):  # else the servicer chose its status
            await _abort(self.context, self._method, error)


def _mapping_errors(method: str, inner: Callable[..., Any]) -> Callable[..., Any]:
    """A behaviour of the same shape as `inner` that turns its exceptions into statuses."""

    async def scope_of(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> CallScope:
        return _MappingScope(request, context, method)

    return around_each_call(inner, scope_of)


class DomainErrorInterceptor(HandlerInterceptor):
    """Maps the exceptions of every RPC to statuses (see the module docstring)."""

    def rebuilt(
        self, handler: grpc.RpcMethodHandler[Any, Any], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any]:
        return with_behaviour(handler, _mapping_errors(details.method, behaviour_of(handler)))
