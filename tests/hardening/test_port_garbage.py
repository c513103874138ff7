"""What is not gRPC on the port: raw garbage, an HTTP/1.1 request, a truncated HTTP/2 preface
(closed, or left hanging). The server drops those connections and keeps serving."""

from __future__ import annotations

import asyncio
import random

import grpc
import pytest
from bsa.judge.v1 import judge_pb2
from bsa_judge_client import AsyncJudgeClient
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.judging.harness import judge_backend, trace
from tests.support.serving import serving
from tools.judge_script import agreeable_judge
from tools.openai_stub import OpenAIStub

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
GARBAGE = {
    "random bytes": random.Random(10).randbytes(4096),
    "http/1.1 request": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    "truncated http/2 preface": PREFACE[:11],
    "preface then garbage frames": PREFACE + b"\x00\x00\x04\x09\xff\xff\xff\xff" * 8,
}


async def send_and_read(port: int, payload: bytes) -> bytes:
    """Send `payload` on a new connection, then read what comes back until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    writer.write_eof()
    try:
        async with asyncio.timeout(10):
            return await reader.read()
    finally:
        writer.close()


@pytest.mark.parametrize("payload", list(GARBAGE.values()), ids=list(GARBAGE))
async def test_the_server_drops_what_is_not_grpc_and_keeps_serving(payload: bytes) -> None:
    async with (
        OpenAIStub(agreeable_judge()) as stub,
        serving(judges=[judge_backend(stub)]) as running,
    ):
        answers = [await send_and_read(running.port, payload) for _ in range(20)]
        async with AsyncJudgeClient(f"127.0.0.1:{running.port}") as client:
            verdict = await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))
    assert all(not answer.startswith(b"HTTP/1.1 200") for answer in answers)
    assert verdict.verdict.status == judge_pb2.JUDGMENT_STATUS_OK


async def test_hanging_half_prefaces_do_not_stop_other_callers() -> None:
    async with serving() as running:
        hanging = [await asyncio.open_connection("127.0.0.1", running.port) for _ in range(50)]
        for _reader, writer in hanging:
            writer.write(PREFACE[:11])
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=10
            )
        for _reader, writer in hanging:
            writer.close()
    assert health.status == health_pb2.HealthCheckResponse.SERVING
