"""Rebuild a gRPC method handler around a new behaviour, keeping its kind and codecs."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

# The four RPC kinds by (request_streaming, response_streaming), in the label spelling of
# go-grpc-prometheus.
_KIND = {
    (False, False): "unary",
    (True, False): "client_stream",
    (False, True): "server_stream",
    (True, True): "bidi_stream",
}

_FACTORY = {
    "unary": grpc.unary_unary_rpc_method_handler,
    "client_stream": grpc.stream_unary_rpc_method_handler,
    "server_stream": grpc.unary_stream_rpc_method_handler,
    "bidi_stream": grpc.stream_stream_rpc_method_handler,
}


def kind_of(handler: grpc.RpcMethodHandler[Any, Any]) -> str:
    """unary, client_stream, server_stream or bidi_stream."""
    return streaming_kind(handler.request_streaming, handler.response_streaming)


def streaming_kind(request_streaming: bool, response_streaming: bool) -> str:
    """The kind of an RPC that streams requests and/or responses."""
    return _KIND[(request_streaming, response_streaming)]


def behaviour_of(handler: grpc.RpcMethodHandler[Any, Any]) -> Callable[..., Any]:
    """The function the server calls for this handler's kind."""
    behaviour = {
        "unary": handler.unary_unary,
        "client_stream": handler.stream_unary,
        "server_stream": handler.unary_stream,
        "bidi_stream": handler.stream_stream,
    }[kind_of(handler)]
    assert behaviour is not None, "a method handler always carries the behaviour of its kind"
    return behaviour


# What ServerInterceptor.intercept_service gets to call: the next interceptor, or the lookup.
Continuation = Callable[
    [grpc.HandlerCallDetails], Awaitable["grpc.RpcMethodHandler[Any, Any] | None"]
]

_SAME: Any = object()


def with_behaviour(
    handler: grpc.RpcMethodHandler[Any, Any],
    behaviour: Callable[..., Any],
    *,
    request_deserializer: Callable[[bytes], Any] | None = _SAME,
) -> grpc.RpcMethodHandler[Any, Any]:
    """The same kind of handler with the same (de)serializers, calling `behaviour` instead;
    `request_deserializer=None` makes grpc pass the raw request bytes."""
    factory: Callable[..., grpc.RpcMethodHandler[Any, Any]] = _FACTORY[kind_of(handler)]
    if request_deserializer is _SAME:
        request_deserializer = handler.request_deserializer
    return factory(
        behaviour,
        request_deserializer=request_deserializer,
        response_serializer=handler.response_serializer,
    )


class CallScope:
    """What an interceptor does around one call: the request and context the next layer
    sees, and hooks for each response sent, a failure and the end. The defaults do nothing."""

    def __init__(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        self.request = request
        self.context = context

    def sent(self, response: Any) -> None:
        """A response is going out (each message of a stream, or the unary response)."""

    async def failed(self, error: Exception) -> None:
        """The call raised `error`; raise another exception to replace it."""

    def ended(self, error: BaseException | None) -> None:
        """The call is over; `error` is what it raised, if anything."""


ScopeOf = Callable[[Any, "grpc.aio.ServicerContext[Any, Any]"], Awaitable[CallScope]]


def around_each_call(inner: Callable[..., Any], scope_of: ScopeOf) -> Callable[..., Any]:
    """A behaviour of the same shape as `inner` (async generator, or coroutine/function)
    that runs each call of `inner` inside the CallScope `scope_of` makes for it.

    The one place the interceptors' wrapping of unary and streaming calls is written.
    """
    if inspect.isasyncgenfunction(inner):

        async def stream_behaviour(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            scope = await scope_of(request, context)
            error: BaseException | None = None
            try:
                async for response in inner(scope.request, scope.context):
                    scope.sent(response)
                    yield response
            except Exception as raised:
                error = raised
                await scope.failed(raised)
                raise
            except BaseException as raised:  # cancelled, or closed by gRPC
                error = raised
                raise
            finally:
                scope.ended(error)

        return stream_behaviour

    async def behaviour(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        scope = await scope_of(request, context)
        error: BaseException | None = None
        try:
            response = inner(scope.request, scope.context)
            if inspect.isawaitable(response):
                response = await response
            if response is not None:  # None: a streaming handler that wrote its responses
                scope.sent(response)
        except Exception as raised:
            error = raised
            await scope.failed(raised)
            raise
        except BaseException as raised:
            error = raised
            raise
        finally:
            scope.ended(error)
        return response

    return behaviour


class HandlerInterceptor(grpc.aio.ServerInterceptor):
    """A server interceptor that rebuilds the handler of every method the server has
    (unknown methods pass through: gRPC answers UNIMPLEMENTED itself)."""

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        return None if handler is None else self.rebuilt(handler, handler_call_details)

    def rebuilt(
        self, handler: grpc.RpcMethodHandler[Any, Any], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any]:
        """The handler gRPC runs instead of `handler` for the call `details` describes."""
        raise NotImplementedError
