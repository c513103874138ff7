"""Request bytes that are not a valid message: INVALID_ARGUMENT (UNAUTHENTICATED first when
auth is on), one `rpc` log line, counted in Prometheus, no traceback; on a JudgeTraces stream,
the verdicts of the traces read before it are delivered first (issue 10, defects 1 and 2)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc
import pytest
from bsa.judge.v1 import judge_pb2
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from tests.judging.harness import judge_backend, trace
from tests.support.serving import serving
from tools.judge_script import agreeable_judge
from tools.openai_stub import OpenAIStub

SERVICE = "/bsa.judge.v1.JudgeService/"
GARBAGE = b"\xff\xff\xff"
TOKENS_ENV = "BSA_JUDGE_TEST_DECODING_TOKENS"


def with_invalid_utf8_reasoning() -> bytes:
    """A JudgeTraceRequest whose trace.reasoning is the bytes ed a0 80 (a lone surrogate)."""
    raw = judge_pb2.JudgeTraceRequest(trace=trace(reasoning="\x01\x02\x03")).SerializeToString()
    assert raw.count(b"\x01\x02\x03") == 1
    return raw.replace(b"\x01\x02\x03", b"\xed\xa0\x80")


def handled(method: str, code: str) -> float:
    kind = "server_stream" if method == "Generate" else "unary"
    labels = {
        "grpc_type": kind,
        "grpc_service": "bsa.judge.v1.JudgeService",
        "grpc_method": method,
        "grpc_code": code,
    }
    return REGISTRY.get_sample_value("grpc_server_handled_total", labels) or 0.0


async def call_raw(
    channel: grpc.aio.Channel, method: str, body: bytes, metadata: tuple[tuple[str, str], ...] = ()
) -> grpc.aio.AioRpcError:
    """Send `body` as the request of `method` without encoding, and return the error."""

    async def send() -> None:
        if method == "Generate":
            async for _ in channel.unary_stream(SERVICE + method)(body, metadata=metadata):
                pass
        else:
            await channel.unary_unary(SERVICE + method)(body, metadata=metadata)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await send()
    return raised.value


@pytest.fixture
async def stub() -> AsyncIterator[OpenAIStub]:
    async with OpenAIStub(agreeable_judge()) as running:
        yield running


@pytest.mark.parametrize(
    ("method", "body", "message_type"),
    [
        ("JudgeTrace", GARBAGE, "JudgeTraceRequest"),
        ("ComputeMetrics", GARBAGE, "ComputeMetricsRequest"),
        ("Generate", GARBAGE, "GenerateRequest"),
        ("JudgeTrace", with_invalid_utf8_reasoning(), "JudgeTraceRequest"),
    ],
    ids=["judge-trace", "compute-metrics", "generate", "judge-trace-invalid-utf8"],
)
async def test_an_undecodable_request_is_invalid_argument_logged_once_and_counted(
    stub: OpenAIStub,
    caplog: pytest.LogCaptureFixture,
    method: str,
    body: bytes,
    message_type: str,
) -> None:
    before = handled(method, "InvalidArgument")
    # The log is read once the server has stopped: its `rpc` line is written as the handler
    # unwinds, which may be after the caller has its status.
    with capture_logs() as events, caplog.at_level(logging.ERROR):
        async with (
            serving(judges=[judge_backend(stub)]) as running,
            grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
        ):
            error = await call_raw(channel, method, body)
            # The server stays up and answers the next call.
            verdict = await channel.unary_unary(
                SERVICE + "JudgeTrace",
                request_serializer=judge_pb2.JudgeTraceRequest.SerializeToString,
                response_deserializer=judge_pb2.JudgeTraceResponse.FromString,
            )(judge_pb2.JudgeTraceRequest(trace=trace()))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == f"request: cannot be decoded as a {message_type} (DecodeError)"
    rpc_lines = [event for event in events if event["event"] == "rpc"]
    assert sorted((line["method"], line["code"]) for line in rpc_lines) == sorted(
        [(SERVICE + method, "INVALID_ARGUMENT"), (SERVICE + "JudgeTrace", "OK")]
    )
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
    assert [event for event in events if event["log_level"] == "error"] == []
    assert handled(method, "InvalidArgument") == before + 1
    assert verdict.verdict.status == judge_pb2.JUDGMENT_STATUS_OK


async def test_an_undecodable_request_without_a_token_is_unauthenticated(
    stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKENS_ENV, "right-token")
    async with (
        serving(judges=[judge_backend(stub)], auth_tokens_env=TOKENS_ENV) as running,
        grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
    ):
        refused = await call_raw(channel, "JudgeTrace", GARBAGE)
        wrong = await call_raw(
            channel, "ComputeMetrics", GARBAGE, (("authorization", "Bearer wrong-token"),)
        )
        admitted = await call_raw(
            channel, "JudgeTrace", GARBAGE, (("authorization", "Bearer right-token"),)
        )
    assert refused.code() == grpc.StatusCode.UNAUTHENTICATED
    assert wrong.code() == grpc.StatusCode.PERMISSION_DENIED
    assert admitted.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_an_undecodable_message_on_a_stream_ends_it_after_the_verdicts_in_flight() -> None:
    valid = [
        judge_pb2.JudgeTracesRequest(key=f"key-{index}", trace=trace()).SerializeToString()
        for index in range(5)
    ]
    bad = judge_pb2.JudgeTracesRequest(key="bad", trace=trace(reasoning="\x01\x02\x03\x04"))
    undecodable = bad.SerializeToString().replace(b"\x01\x02\x03\x04", b"\xed\xa0\x80\x40")

    async def requests() -> AsyncIterator[bytes]:
        for message in (*valid, undecodable):
            yield message

    async with (
        OpenAIStub(agreeable_judge(delay_s=0.3)) as slow_stub,
        serving(judges=[judge_backend(slow_stub)]) as running,
        grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
    ):
        call = channel.stream_stream(
            SERVICE + "JudgeTraces", response_deserializer=judge_pb2.JudgeTracesResponse.FromString
        )(requests())
        received: list[judge_pb2.JudgeTracesResponse] = []

        async def read_all() -> None:
            async for response in call:
                received.append(response)

        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await read_all()
    assert {response.verdict.status for response in received} == {judge_pb2.JUDGMENT_STATUS_OK}
    keys = [response.key for response in received]
    assert sorted(keys) == [f"key-{index}" for index in range(5)]
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details() == (
        "requests[5]: cannot be decoded as a JudgeTracesRequest (DecodeError)"
    )
