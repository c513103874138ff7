"""A JudgeService of a test's own, served by a real gRPC server on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
from bsa.judge.v1 import judge_pb2_grpc


@asynccontextmanager
async def serving_servicer(servicer: judge_pb2_grpc.JudgeServiceServicer) -> AsyncIterator[str]:
    """Serve `servicer` on 127.0.0.1; yields the `host:port` target."""
    server = grpc.aio.server()
    judge_pb2_grpc.add_JudgeServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)
