"""Request decoding inside the interceptor chain, so that undecodable bytes are bad input.

grpc decodes a request before any interceptor runs when the method handler carries a
deserializer; a body that is not a valid message (or a string field that is not UTF-8) then
ends as UNKNOWN with a traceback, unauthenticated, unlogged and uncounted. This interceptor,
innermost, hands grpc a handler without a deserializer (the raw bytes pass through the
outer interceptors: log, metrics, auth) and decodes next to the servicer: a message that
cannot be decoded raises InvalidInput, which the error interceptor answers INVALID_ARGUMENT
naming `request` (a unary request) or `requests[<n>]` (the n-th message of a stream, from 0).

Messages above DECODE_IN_THREAD_BYTES (ComputeMetrics' inline samples can be tens of MB)
are decoded in a worker thread, so the event loop keeps answering health checks meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from bsa_judge.errors import invalid
from bsa_judge.service.interceptors.method_handler import (
    CallScope,
    HandlerInterceptor,
    around_each_call,
    behaviour_of,
    kind_of,
    with_behaviour,
)

DECODE_IN_THREAD_BYTES = 1 << 20

Decoder = Callable[[bytes], Any]


async def decoded(decode: Decoder, raw: bytes, field: str) -> Any:
    """The message `raw` encodes; InvalidInput naming `field` when it cannot be decoded."""
    try:
        if len(raw) > DECODE_IN_THREAD_BYTES:
            return await asyncio.to_thread(decode, raw)
        return decode(raw)
    except (DecodeError, UnicodeDecodeError) as error:
        message_type = getattr(getattr(decode, "__self__", None), "__name__", "message")
        raise invalid(
            field, f"cannot be decoded as a {message_type} ({type(error).__name__})"
        ) from None


async def decoded_stream(decode: Decoder, raws: AsyncIterable[bytes]) -> AsyncIterator[Any]:
    """The messages of a request stream, decoded one at a time as they are read."""
    position = 0
    async for raw in raws:
        yield await decoded(decode, raw, f"requests[{position}]")
        position += 1


def _decoding(decode: Decoder, streaming_requests: bool, inner: Callable[..., Any]) -> Any:
    """A behaviour of the same shape as `inner` that decodes its raw request(s) first."""

    async def scope_of(raw: Any, context: grpc.aio.ServicerContext[Any, Any]) -> CallScope:
        if streaming_requests:
            return CallScope(decoded_stream(decode, raw), context)
        return CallScope(await decoded(decode, raw, "request"), context)

    return around_each_call(inner, scope_of)


class RequestDecodingInterceptor(HandlerInterceptor):
    """Decodes requests next to the servicer (see the module docstring). Innermost."""

    def rebuilt(
        self, handler: grpc.RpcMethodHandler[Any, Any], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any]:
        if handler.request_deserializer is None:
            return handler
        streaming_requests = kind_of(handler) in ("client_stream", "bidi_stream")
        decode = handler.request_deserializer
        behaviour = _decoding(decode, streaming_requests, behaviour_of(handler))
        return with_behaviour(handler, behaviour, request_deserializer=None)
