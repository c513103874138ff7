"""Connections age out (so round_robin clients re-resolve DNS and reach new pods), without
cutting the calls in flight."""

from __future__ import annotations

import asyncio

import grpc
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.judging.harness import judge_backend, trace
from tests.support.serving import serving
from tools.judge_script import by_kind
from tools.openai_stub import OpenAIStub


async def test_a_call_outliving_the_connection_age_finishes_and_the_next_one_reconnects() -> None:
    async with (
        OpenAIStub(by_kind({}, delay_s=0.6)) as stub,  # each judge call outlives the age
        serving(judges=[judge_backend(stub)], max_connection_age_s=0.2) as running,
        grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
    ):
        service = judge_pb2_grpc.JudgeServiceStub(channel)
        first = await service.JudgeTrace(
            judge_pb2.JudgeTraceRequest(trace=trace(item_id="aged-1")), timeout=10
        )
        second = await service.JudgeTrace(
            judge_pb2.JudgeTraceRequest(trace=trace(item_id="aged-2", reasoning="Trespass.")),
            timeout=10,
        )
    assert first.verdict.status == second.verdict.status == judge_pb2.JUDGMENT_STATUS_OK


async def test_an_aged_connection_is_closed_by_the_server_and_the_channel_reconnects() -> None:
    async with (
        serving(max_connection_age_s=0.2) as running,
        grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
    ):
        health = health_pb2_grpc.HealthStub(channel)
        await health.Check(health_pb2.HealthCheckRequest())
        assert channel.get_state() == grpc.ChannelConnectivity.READY
        async with asyncio.timeout(10):  # the server's GOAWAY sends the channel back to IDLE
            await channel.wait_for_state_change(grpc.ChannelConnectivity.READY)
        assert channel.get_state() != grpc.ChannelConnectivity.READY
        reply = await health.Check(health_pb2.HealthCheckRequest())  # on a new connection
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
