"""Rebuild a gRPC method handler around a new behaviour, keeping its kind and codecs."""

from __future__ import annotations

from collections.abc import Callable
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
