"""Auth as a hostile caller meets it: every RPC, reflection included, refused without a token
or with a wrong one; health open; neither the token nor a judge's API key in the log or on
/metrics, whatever the caller sends."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import grpc
import pytest
from bsa.judge.v1 import judge_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2
from structlog.testing import capture_logs

from tests.judging.harness import judge_backend, trace
from tests.support.serving import serving
from tools.judge_script import agreeable_judge
from tools.openai_stub import OpenAIStub

TOKEN = "tok-9a1f0e77c2d84b1e"
API_KEY = "sk-judge-5b2e61c0f4a9"
TOKENS_ENV = "BSA_JUDGE_TEST_AUTH_TOKENS"
KEY_ENV = "BSA_JUDGE_TEST_JUDGE_KEY"
JUDGE = "/bsa.judge.v1.JudgeService/"
details: list[str] = []  # the status messages callers got
REFLECTION = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"

# Every method of the API (and reflection), as (path, streams requests, streams responses,
# a valid request).
CALLS = [
    (JUDGE + "JudgeTrace", False, False, judge_pb2.JudgeTraceRequest(trace=trace())),
    (JUDGE + "JudgeTraces", True, True, judge_pb2.JudgeTracesRequest(key="k", trace=trace())),
    (
        JUDGE + "JudgeTraceBatches",
        True,
        True,
        judge_pb2.JudgeTraceBatchesRequest(
            traces=[judge_pb2.JudgeTracesRequest(key="k", trace=trace())]
        ),
    ),
    (JUDGE + "Generate", False, True, judge_pb2.GenerateRequest(model="m")),
    (JUDGE + "ComputeMetrics", False, False, judge_pb2.ComputeMetricsRequest(k=1)),
    (REFLECTION, True, True, reflection_pb2.ServerReflectionRequest(list_services="")),
]
METADATA = {
    "no token": (),
    "another scheme": (("authorization", f"Basic {TOKEN}"),),
    "a wrong token": (("authorization", "Bearer tok-wrong"),),
    "the token as the wrong header": (("x-api-key", TOKEN),),
}
REFUSED = {
    "no token": grpc.StatusCode.UNAUTHENTICATED,
    "another scheme": grpc.StatusCode.UNAUTHENTICATED,
    "a wrong token": grpc.StatusCode.PERMISSION_DENIED,
    "the token as the wrong header": grpc.StatusCode.UNAUTHENTICATED,
}


async def status_of(
    channel: grpc.aio.Channel,
    path: str,
    streams: tuple[bool, bool],
    request: object,
    metadata: tuple[tuple[str, str], ...],
) -> grpc.StatusCode:
    """The call's status code; its message joins `details`."""
    encode = lambda message: message.SerializeToString()  # type: ignore[attr-defined]  # noqa: E731
    try:
        match streams:
            case (False, False):
                await channel.unary_unary(path, request_serializer=encode)(
                    request, metadata=metadata
                )
            case (False, True):
                async for _ in channel.unary_stream(path, request_serializer=encode)(
                    request, metadata=metadata
                ):
                    pass
            case _:
                async for _ in channel.stream_stream(path, request_serializer=encode)(
                    iter([request]), metadata=metadata
                ):
                    pass
    except grpc.aio.AioRpcError as error:
        details.append(error.details() or "")
        return error.code()
    return grpc.StatusCode.OK


async def test_every_rpc_is_refused_without_the_token_and_nothing_secret_is_logged_or_exported(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the libraries' records too (grpc, openai, httpx)
    monkeypatch.setenv(TOKENS_ENV, TOKEN)
    monkeypatch.setenv(KEY_ENV, API_KEY)
    statuses: dict[tuple[str, str], grpc.StatusCode] = {}
    with capture_logs() as events:
        async with (
            OpenAIStub(agreeable_judge()) as stub,
            serving(
                judges=[judge_backend(stub, api_key_env=KEY_ENV)],
                auth_tokens_env=TOKENS_ENV,
                metrics_port=0,
            ) as running,
            grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
        ):
            for path, requests_stream, responses_stream, request in CALLS:
                for name, metadata in METADATA.items():
                    statuses[(path, name)] = await status_of(
                        channel, path, (requests_stream, responses_stream), request, metadata
                    )
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest()
            )
            admitted = await status_of(
                channel,
                *CALLS[0][:1],
                (False, False),
                CALLS[0][3],
                (("authorization", f"Bearer {TOKEN}"),),
            )
            assert running.prometheus is not None
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{running.prometheus.port}/metrics") as response,
            ):
                exported = await response.text()
        sent_key = stub.headers[-1]["authorization"]
    assert statuses == {(path, name): REFUSED[name] for path, *_ in CALLS for name in METADATA}
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert admitted == grpc.StatusCode.OK
    assert sent_key == f"Bearer {API_KEY}"  # the key was in use, and still never shown
    logged = repr(events) + caplog.text + repr(details)
    for secret in (TOKEN, API_KEY):
        assert secret not in logged
        assert secret not in exported
    assert len([event for event in events if event["event"] == "rpc"]) >= len(statuses)


async def test_the_async_sdk_reports_a_refused_stream_as_refused_every_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A refused stream that the SDK wrote into at once came back as INTERNAL "Internal error
    # from Core" in 38 of 40 tries (grpc/grpc#36066): the server's status was lost. Now the
    # SDK waits for the server's headers before its first write.
    from bsa_judge_client import AsyncJudgeClient

    from tests.hardening.test_rolling_deploy import requests as many_traces

    monkeypatch.setenv(TOKENS_ENV, TOKEN)
    items = [{"run_id": "r", "item": {"id": f"i{n}", "query": "q"}} for n in range(50)]
    seen: list[tuple[str, str]] = []

    async def drain(responses: AsyncIterator[object]) -> None:
        async for _ in responses:
            pass

    async with serving(auth_tokens_env=TOKENS_ENV) as server:
        for attempt in range(20):
            async with AsyncJudgeClient(f"127.0.0.1:{server.port}") as client:
                calls = (
                    client.judge_traces(many_traces(), max_in_flight=64)
                    if attempt % 2 == 0
                    else client.evaluate_items(items, k=5, max_in_flight=50)
                )
                with pytest.raises(grpc.aio.AioRpcError) as raised:
                    await drain(calls)
            seen.append((raised.value.code().name, (raised.value.details() or "")[:20]))
    assert seen == [("UNAUTHENTICATED", "missing bearer token")] * 20
