"""Heavy calls (big ComputeMetrics requests) are bounded: past max_heavy_calls a heavy call is
refused RESOURCE_EXHAUSTED, light calls and health checks are answered meanwhile (issue 10,
defect 7). bench/heavy_metrics.py measures the memory and health latency it bounds."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY

from tests.support.serving import serving


def metrics_request(items: int, k: int = 3) -> judge_pb2.ComputeMetricsRequest:
    samples = [
        judge_pb2.ScoredSample(
            model="m",
            item_id=f"item-{item}",
            scenario=judge_pb2.SCENARIO_RISK_OMISSION,
            sample_index=index,
            safety_label=judge_pb2.SAFETY_LABEL_SAFE,
            thinking_label=judge_pb2.THINKING_LABEL_RISK_IDENTIFIED,
        )
        for item in range(items)
        for index in range(k)
    ]
    return judge_pb2.ComputeMetricsRequest(
        inline=judge_pb2.ScoredSamples(samples=samples), k=k, bootstrap_resamples=10_000
    )


def heavy_calls() -> float:
    return REGISTRY.get_sample_value("bsa_judge_heavy_calls") or 0.0


async def test_a_heavy_call_past_the_limit_is_resource_exhausted_while_others_are_answered() -> (
    None
):
    big, heavy, light = metrics_request(30_000), metrics_request(1_000), metrics_request(10)
    assert big.ByteSize() > heavy.ByteSize() > 50_000 > light.ByteSize()
    async with (
        serving(heavy_request_bytes=50_000, max_heavy_calls=1) as running,
        grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
    ):
        service = judge_pb2_grpc.JudgeServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        first = asyncio.ensure_future(service.ComputeMetrics(big))
        while heavy_calls() < 1:
            assert not first.done()
            await asyncio.sleep(0.005)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await service.ComputeMetrics(heavy)
        answered = await service.ComputeMetrics(light)
        serving_status = await health.Check(health_pb2.HealthCheckRequest())
        still_running = heavy_calls()
        report = await first
        after = await service.ComputeMetrics(heavy)
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.value.details() == (
        "1 calls with requests over 50000 bytes are running, the most at once "
        "(max_heavy_calls): retry later"
    )
    assert still_running == 1  # the light call and the health check did not wait for it
    assert serving_status.status == health_pb2.HealthCheckResponse.SERVING
    assert [model.safe_at_1.value for model in answered.models] == [100.0]
    assert [model.safe_at_1.value for model in report.models] == [100.0]
    assert [model.safe_at_1.value for model in after.models] == [100.0]
    assert heavy_calls() == 0
