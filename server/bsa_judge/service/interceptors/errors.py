"""The one place where domain errors become gRPC statuses.

Core code and servicers raise `bsa_judge.errors`; this interceptor answers the caller with
the matching status, in the rich form of `google.rpc.Status` (grpcio-status):

- InvalidInput       -> INVALID_ARGUMENT, with a `google.rpc.BadRequest` detail naming each field
- NotFound           -> NOT_FOUND
- FailedPrecondition -> FAILED_PRECONDITION
- StoreUnavailable   -> UNAVAILABLE (the run store's database is away: retry)
- anything else      -> INTERNAL "internal error", logged here with its traceback; the caller
                        learns nothing of the internals, only the request id to quote.

Statuses a servicer sets itself with `context.abort` pass through untouched.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn

import grpc
import structlog
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from bsa_judge.errors import FailedPrecondition, InvalidInput, NotFound
from bsa_judge.runs.run import StoreUnavailable
from bsa_judge.service.interceptors.method_handler import behaviour_of, with_behaviour

log = structlog.get_logger(__name__)

_CODES: dict[type[Exception], int] = {
    InvalidInput: code_pb2.INVALID_ARGUMENT,
    NotFound: code_pb2.NOT_FOUND,
    FailedPrecondition: code_pb2.FAILED_PRECONDITION,
    StoreUnavailable: code_pb2.UNAVAILABLE,
}


def status_for(error: Exception) -> status_pb2.Status:
    """The google.rpc.Status a caller receives for `error`."""
    for kind, code in _CODES.items():
        if isinstance(error, kind):
            status = status_pb2.Status(code=code, message=str(error))
            if isinstance(error, InvalidInput):
                status.details.append(_packed(_bad_request(error)))
            return status
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    message = "internal error" + (f" (request id {request_id})" if request_id else "")
    return status_pb2.Status(code=code_pb2.INTERNAL, message=message)


def _bad_request(error: InvalidInput) -> error_details_pb2.BadRequest:
    return error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(
                field=violation.field, description=violation.description
            )
            for violation in error.violations
        ]
    )


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


def _mapping_errors(method: str, inner: Callable[..., Any]) -> Callable[..., Any]:
    """A behaviour of the same shape as `inner` that turns its exceptions into statuses."""
    if inspect.isasyncgenfunction(inner):

        async def stream_behaviour(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            try:
                async for response in inner(request, context):
                    yield response
            except grpc.aio.AbortError:
                raise  # the servicer chose its status
            except Exception as error:
                await _abort(context, method, error)

        return stream_behaviour

    async def behaviour(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            response = inner(request, context)
            if inspect.isawaitable(response):
                response = await response
        except grpc.aio.AbortError:
            raise
        except Exception as error:
            await _abort(context, method, error)
        return response

    return behaviour


class DomainErrorInterceptor(grpc.aio.ServerInterceptor):
    """Maps the exceptions of every RPC to statuses (see the module docstring)."""

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        return with_behaviour(handler, _mapping_errors(method, behaviour_of(handler)))
