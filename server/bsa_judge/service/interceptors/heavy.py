"""A bound on heavy calls: those whose request is larger than `heavy_request_bytes`.

A ComputeMetrics request of a million inline samples (tens of MB) peaks at about 0.5 GB once
decoded and scored; a few at once would pass the pod's memory limit. At most
`max_heavy_calls` run at once; more are refused RESOURCE_EXHAUSTED before their request is
decoded, so a refusal costs neither memory nor the event loop's time (decoding holds the
GIL). Callers retry later. The limit sits inside auth and the error mapping, before decoding.
"""

from __future__ import annotations

from typing import Any

import grpc

from bsa_judge import telemetry
from bsa_judge.errors import Overloaded
from bsa_judge.service.interceptors.method_handler import (
    CallScope,
    HandlerInterceptor,
    around_each_call,
    behaviour_of,
    kind_of,
    with_behaviour,
)


class _Limit:
    """How many heavy calls run, against the most allowed."""

    def __init__(self, request_bytes: int, most: int) -> None:
        self.request_bytes = request_bytes
        self.most = most
        self.running = 0


class _HeavyScope(CallScope):
    def __init__(self, request: Any, context: grpc.aio.ServicerContext[Any, Any], limit: _Limit):
        super().__init__(request, context)
        self._limit = limit
        limit.running += 1
        telemetry.HEAVY_CALLS.inc()

    def ended(self, error: BaseException | None) -> None:
        self._limit.running -= 1
        telemetry.HEAVY_CALLS.dec()


class HeavyCallLimit(HandlerInterceptor):
    """Refuses a heavy call while `most` others run (see the module docstring)."""

    def __init__(self, request_bytes: int, most: int) -> None:
        self._limit = _Limit(request_bytes, most)

    def rebuilt(
        self, handler: grpc.RpcMethodHandler[Any, Any], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any]:
        if handler.request_deserializer is not None or kind_of(handler) not in (
            "unary",
            "server_stream",
        ):
            return handler  # not raw bytes (decoded before us), or a stream of small messages
        limit = self._limit

        async def scope_of(raw: Any, context: grpc.aio.ServicerContext[Any, Any]) -> CallScope:
            if not isinstance(raw, bytes) or len(raw) <= limit.request_bytes:
                return CallScope(raw, context)
            if limit.running >= limit.most:
                raise Overloaded(
                    f"{limit.running} calls with requests over {limit.request_bytes} bytes "
                    "are running, the most at once (max_heavy_calls): retry later"
                )
            return _HeavyScope(raw, context, limit)

        return with_behaviour(handler, around_each_call(behaviour_of(handler), scope_of))
