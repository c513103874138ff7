"""The status code a call ended with, as the client sees it: one rule for every interceptor.

Read the deadline with `deadline_of` at the start of the call, while it is alive: a cancelled
stream's handler finishes after gRPC has released the call, and asking a released call for
its peer or its time remaining can crash the process.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc


def deadline_of(context: grpc.aio.ServicerContext[Any, Any]) -> float | None:
    """The call's deadline on the time.monotonic() clock, None when it has none."""
    remaining = context.time_remaining()
    return None if remaining is None else time.monotonic() + remaining


def final_code(
    context: grpc.aio.ServicerContext[Any, Any],
    error: BaseException | None,
    deadline: float | None,
) -> grpc.StatusCode:
    """What abort()/set_code() set, else what the handler's outcome implies."""
    code = context.code()
    if isinstance(code, grpc.StatusCode) and code is not grpc.StatusCode.OK:
        return code
    if error is None:
        return grpc.StatusCode.OK
    if isinstance(error, asyncio.CancelledError | GeneratorExit):
        # The client went away, or its deadline passed and gRPC cancelled the handler.
        if deadline is not None and time.monotonic() >= deadline:
            return grpc.StatusCode.DEADLINE_EXCEEDED
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN  # what grpc answers for an unhandled exception
