"""The /metrics endpoint exports the gRPC and bsa_judge_* metrics, and they move as RPCs run."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc
from bsa_judge import telemetry
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.judging.harness import judge_backend, trace
from tests.ops.scrape import scrape
from tests.support.serving import serving
from tools.judge_script import by_kind
from tools.openai_stub import OpenAIStub

HEALTH_CHECK = {
    "grpc_type": "unary",
    "grpc_service": "grpc.health.v1.Health",
    "grpc_method": "Check",
}
HEALTH_WATCH = {
    "grpc_type": "server_stream",
    "grpc_service": "grpc.health.v1.Health",
    "grpc_method": "Watch",
}
JUDGE_TRACE = {
    "grpc_type": "unary",
    "grpc_service": "bsa.judge.v1.JudgeService",
    "grpc_method": "JudgeTrace",
}


async def test_every_declared_metric_is_exported_with_the_go_grpc_names() -> None:
    async with serving(metrics_port=0) as running:
        assert running.prometheus is not None
        exported = await scrape(running.prometheus.port)
    declared = {
        "grpc_server_started",
        "grpc_server_handled",
        "grpc_server_msg_received",
        "grpc_server_msg_sent",
        "grpc_server_handling_seconds",
        "bsa_judge_judge_call_seconds",
        "bsa_judge_generation_seconds",
        "bsa_judge_upstream_errors",
        "bsa_judge_upstream_retries",
        "bsa_judge_upstream_tokens",
        "bsa_judge_verdicts",
        "bsa_judge_judge_unparseable",
        "bsa_judge_cache_hits",
        "bsa_judge_cache_misses",
        "bsa_judge_traces_in_flight",
        "bsa_judge_traces",
        "bsa_judge_samples",
    }
    assert declared <= exported.families
    assert telemetry.JUDGE_CALL_SECONDS._upper_bounds[:2] == [0.05, 0.1]
    assert telemetry.JUDGE_CALL_SECONDS._upper_bounds[-2:] == [600, float("inf")]


async def test_a_health_check_moves_each_unary_series_by_exactly_one() -> None:
    async with serving(metrics_port=0) as running:
        assert running.prometheus is not None
        before = await scrape(running.prometheus.port)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        after = await scrape(running.prometheus.port)

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert moved("grpc_server_started_total", **HEALTH_CHECK) == 1
    assert moved("grpc_server_handled_total", **HEALTH_CHECK, grpc_code="OK") == 1
    assert moved("grpc_server_msg_received_total", **HEALTH_CHECK) == 1
    assert moved("grpc_server_msg_sent_total", **HEALTH_CHECK) == 1
    assert moved("grpc_server_handling_seconds_count", **HEALTH_CHECK) == 1
    assert moved("grpc_server_handling_seconds_bucket", **HEALTH_CHECK, le="+Inf") == 1


async def test_an_unknown_health_service_is_handled_as_not_found() -> None:
    async with serving(metrics_port=0) as running:
        assert running.prometheus is not None
        before = await scrape(running.prometheus.port)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
            assert refused.value.code() == grpc.StatusCode.NOT_FOUND
        after = await scrape(running.prometheus.port)
    code = {**HEALTH_CHECK, "grpc_code": "NotFound"}
    assert after.value("grpc_server_handled_total", **code) == (
        before.value("grpc_server_handled_total", **code) + 1
    )
    # Nothing was sent back but the status.
    assert after.value("grpc_server_msg_sent_total", **HEALTH_CHECK) == before.value(
        "grpc_server_msg_sent_total", **HEALTH_CHECK
    )


async def test_a_judge_trace_with_bad_input_is_handled_as_invalid_argument() -> None:
    async with serving(metrics_port=0) as running:
        assert running.prometheus is not None
        before = await scrape(running.prometheus.port)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = judge_pb2_grpc.JudgeServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.JudgeTrace(judge_pb2.JudgeTraceRequest())
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        after = await scrape(running.prometheus.port)
    invalid = {**JUDGE_TRACE, "grpc_code": "InvalidArgument"}
    assert after.value("grpc_server_handled_total", **invalid) == (
        before.value("grpc_server_handled_total", **invalid) + 1
    )
    assert after.value("grpc_server_started_total", **JUDGE_TRACE) == (
        before.value("grpc_server_started_total", **JUDGE_TRACE) + 1
    )


async def test_a_watched_stream_counts_its_messages_and_ends_canceled() -> None:
    async with serving(metrics_port=0) as running:
        assert running.prometheus is not None
        before = await scrape(running.prometheus.port)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            call = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
            first = await call.read()
            assert first.status == health_pb2.HealthCheckResponse.SERVING
            call.cancel()
            # The server learns of the cancellation asynchronously: wait until it has counted it.
            for _ in range(100):
                after = await scrape(running.prometheus.port)
                if after.value(
                    "grpc_server_handled_total", **HEALTH_WATCH, grpc_code="Canceled"
                ) > (
                    before.value("grpc_server_handled_total", **HEALTH_WATCH, grpc_code="Canceled")
                ):
                    break
                await asyncio.sleep(0.02)

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert moved("grpc_server_started_total", **HEALTH_WATCH) == 1
    assert moved("grpc_server_msg_received_total", **HEALTH_WATCH) == 1
    assert moved("grpc_server_msg_sent_total", **HEALTH_WATCH) == 1
    assert moved("grpc_server_handled_total", **HEALTH_WATCH, grpc_code="Canceled") == 1
    assert moved("grpc_server_handling_seconds_count", **HEALTH_WATCH) == 1


async def test_every_judge_service_series_exists_at_zero_before_any_call() -> None:
    async with serving(metrics_port=0) as running:
        assert running.prometheus is not None
        exported = await scrape(running.prometheus.port)
    kinds = {
        "Generate": "server_stream",
        "JudgeTrace": "unary",
        "JudgeTraces": "bidi_stream",
        "JudgeTraceBatches": "bidi_stream",
        "ComputeMetrics": "unary",
    }
    for method, kind in kinds.items():
        labels = {"grpc_type": kind, "grpc_service": "bsa.judge.v1.JudgeService"}
        labels["grpc_method"] = method
        assert ("grpc_server_started_total", frozenset(labels.items())) in exported.samples
        for code in ("OK", "InvalidArgument", "Unavailable", "Unauthenticated"):
            handled = frozenset({**labels, "grpc_code": code}.items())
            assert ("grpc_server_handled_total", handled) in exported.samples


async def test_a_judge_traces_stream_counts_every_message_both_ways() -> None:
    bidi = {
        "grpc_type": "bidi_stream",
        "grpc_service": "bsa.judge.v1.JudgeService",
        "grpc_method": "JudgeTraces",
    }
    requests = [
        judge_pb2.JudgeTracesRequest(
            key=f"k{n}", trace=trace(item_id=f"stream-{n}", reasoning=f"Case {n}: trespass.")
        )
        for n in range(3)
    ]
    async with (
        OpenAIStub(by_kind({})) as stub,
        serving(judges=[judge_backend(stub)], metrics_port=0) as running,
    ):
        assert running.prometheus is not None
        before = await scrape(running.prometheus.port)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            call = judge_pb2_grpc.JudgeServiceStub(channel).JudgeTraces(iter(requests))
            responses = [response async for response in call]
        after = await scrape(running.prometheus.port)

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert sorted(r.key for r in responses) == ["k0", "k1", "k2"]
    assert moved("grpc_server_msg_received_total", **bidi) == 3
    assert moved("grpc_server_msg_sent_total", **bidi) == 3
    assert moved("grpc_server_handled_total", **bidi, grpc_code="OK") == 1
    assert moved("grpc_server_handling_seconds_count", **bidi) == 1


async def test_a_batch_stream_counts_its_messages_and_every_trace() -> None:
    bidi = {
        "grpc_type": "bidi_stream",
        "grpc_service": "bsa.judge.v1.JudgeService",
        "grpc_method": "JudgeTraceBatches",
    }
    batches = [
        judge_pb2.JudgeTraceBatchesRequest(
            traces=[
                judge_pb2.JudgeTracesRequest(
                    key=f"k{n}", trace=trace(item_id=f"batch-{n}", reasoning=f"Batch {n}.")
                )
                for n in range(start, start + 3)
            ]
        )
        for start in (0, 3)
    ]
    async with (
        OpenAIStub(by_kind({})) as stub,
        serving(judges=[judge_backend(stub)], metrics_port=0) as running,
    ):
        assert running.prometheus is not None
        before = await scrape(running.prometheus.port)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            call = judge_pb2_grpc.JudgeServiceStub(channel).JudgeTraceBatches(iter(batches))
            responses = [response async for response in call]
        after = await scrape(running.prometheus.port)

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    keys = sorted(v.key for response in responses for v in response.verdicts)
    assert keys == [f"k{n}" for n in range(6)]
    assert moved("grpc_server_msg_received_total", **bidi) == 2
    assert moved("grpc_server_msg_sent_total", **bidi) == len(responses)
    assert moved("grpc_server_handled_total", **bidi, grpc_code="OK") == 1
    assert moved("bsa_judge_traces_total", status="ok") == 6


async def test_a_call_refused_by_auth_is_counted_as_unauthenticated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BSA_JUDGE_TEST_METRICS_TOKENS", "metrics-test-token")
    async with serving(metrics_port=0, auth_tokens_env="BSA_JUDGE_TEST_METRICS_TOKENS") as running:
        assert running.prometheus is not None
        before = await scrape(running.prometheus.port)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = judge_pb2_grpc.JudgeServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.JudgeTrace(judge_pb2.JudgeTraceRequest())
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        after = await scrape(running.prometheus.port)
    refused_code = {**JUDGE_TRACE, "grpc_code": "Unauthenticated"}
    assert after.value("grpc_server_handled_total", **refused_code) == (
        before.value("grpc_server_handled_total", **refused_code) + 1
    )
    assert after.value("grpc_server_started_total", **JUDGE_TRACE) == (
        before.value("grpc_server_started_total", **JUDGE_TRACE) + 1
    )
