"""Bad JudgeTrace requests: INVALID_ARGUMENT naming the field, NOT_FOUND, FAILED_PRECONDITION.
The server stays up and the judge is never called."""

from __future__ import annotations

import grpc
import pytest
from bsa.judge.v1 import judge_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.judging.harness import judge_service, trace
from tools.judge_script import by_kind
from tools.openai_stub import OpenAIStub


def field_violations(error: grpc.aio.AioRpcError) -> list[tuple[str, str]]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    found = []
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        assert detail.Unpack(bad_request)
        found += [(v.field, v.description) for v in bad_request.field_violations]
    return found


@pytest.mark.parametrize(
    ("request_", "violations"),
    [
        pytest.param(
            judge_pb2.JudgeTraceRequest(),
            [("trace", "a trace is required")],
            id="no trace",
        ),
        pytest.param(
            judge_pb2.JudgeTraceRequest(trace=judge_pb2.Trace()),
            [
                ("trace.item.query", "the item's query is required"),
                ("trace.item.risk_summary", "the item's risk_summary is required"),
                (
                    "trace.item.scenario",
                    "a scenario is required: Risk Omission, Cognitive Shortcut, Over Sensitivity",
                ),
                ("trace.reasoning", "reasoning (unless sample_status is NO_REASONING) is required"),
            ],
            id="empty trace",
        ),
        pytest.param(
            judge_pb2.JudgeTraceRequest(trace=trace(query="")),
            [("trace.item.query", "the item's query is required")],
            id="missing query",
        ),
        pytest.param(
            judge_pb2.JudgeTraceRequest(trace=trace(risk_summary=" ")),
            [("trace.item.risk_summary", "the item's risk_summary is required")],
            id="missing risk_summary",
        ),
        pytest.param(
            judge_pb2.JudgeTraceRequest(trace=trace(reasoning="")),
            [("trace.reasoning", "reasoning (unless sample_status is NO_REASONING) is required")],
            id="missing reasoning",
        ),
        pytest.param(
            judge_pb2.JudgeTraceRequest(trace=trace("")),
            [
                (
                    "trace.item.scenario",
                    "a scenario is required: Risk Omission, Cognitive Shortcut, Over Sensitivity",
                )
            ],
            id="unspecified scenario",
        ),
        pytest.param(
            judge_pb2.JudgeTraceRequest(
                trace=judge_pb2.Trace(
                    item=judge_pb2.Item(query="q", risk_summary="r", scenario=99),  # type: ignore[arg-type]
                    reasoning="t",
                )
            ),
            [
                (
                    "trace.item.scenario",
                    "a scenario is required: Risk Omission, Cognitive Shortcut, Over Sensitivity",
                )
            ],
            id="unknown scenario",
        ),
        pytest.param(
            judge_pb2.JudgeTraceRequest(
                trace=trace(sample_status=judge_pb2.SAMPLE_STATUS_UPSTREAM_ERROR)
            ),
            [
                (
                    "trace.sample_status",
                    "a sample with status upstream_error has no completion to judge",
                )
            ],
            id="failed generation",
        ),
        pytest.param(
            judge_pb2.JudgeTraceRequest(trace=trace(answer="x" * 1025, reasoning="é" * 600)),
            [
                ("trace.reasoning", "1200 bytes is over the limit of 1024 bytes"),
                ("trace.answer", "1025 bytes is over the limit of 1024 bytes"),
            ],
            id="oversized fields",
        ),
    ],
)
async def test_bad_traces_are_invalid_argument_naming_each_field(
    request_: judge_pb2.JudgeTraceRequest, violations: list[tuple[str, str]]
) -> None:
    async with (
        OpenAIStub(by_kind({})) as stub,
        judge_service(stub, max_field_bytes=1024) as client,
    ):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await client.judge_trace(request_)
        after = await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(raised.value) == violations
    assert after.verdict.status == judge_pb2.JUDGMENT_STATUS_OK  # the server stays up
    assert stub.calls == 2  # only the good trace reached the judge


async def test_the_default_field_limit_is_256_kib() -> None:
    async with OpenAIStub(by_kind({})) as stub, judge_service(stub) as client:
        fits = await client.judge_trace(
            judge_pb2.JudgeTraceRequest(trace=trace(reasoning="r" * 256 * 1024))
        )
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await client.judge_trace(
                judge_pb2.JudgeTraceRequest(trace=trace(reasoning="r" * (256 * 1024 + 1)))
            )
    assert fits.verdict.status == judge_pb2.JUDGMENT_STATUS_OK
    assert field_violations(raised.value) == [
        ("trace.reasoning", "262145 bytes is over the limit of 262144 bytes")
    ]


async def test_an_unknown_judge_is_not_found_listing_the_configured_judges() -> None:
    async with OpenAIStub(by_kind({})) as stub, judge_service(stub) as client:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace(), judge="gpt-x"))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert raised.value.details() == "unknown judge 'gpt-x'; configured judges: stub-judge"
    assert stub.calls == 0


async def test_an_unknown_judge_in_a_vote_is_not_found() -> None:
    async with OpenAIStub(by_kind({})) as stub, judge_service(stub) as client:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await client.judge_trace(
                judge_pb2.JudgeTraceRequest(trace=trace(), judges=["stub-judge", "a", "b"])
            )
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert raised.value.details() == "unknown judge 'a', 'b'; configured judges: stub-judge"


async def test_without_any_judge_configured_judging_is_a_failed_precondition() -> None:
    async with judge_service(None) as client:
        with pytest.raises(grpc.aio.AioRpcError) as unary:
            await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))
        stream = client.judge_traces([judge_pb2.JudgeTracesRequest(key="k", trace=trace())])
        with pytest.raises(grpc.aio.AioRpcError) as streamed:
            async for _ in stream:
                pass
    message = (
        "no judge is configured: add a judge backend to the `judges` setting "
        "(config file, or BSA_JUDGE_JUDGES)"
    )
    assert (unary.value.code(), unary.value.details()) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        message,
    )
    assert (streamed.value.code(), streamed.value.details()) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        message,
    )
