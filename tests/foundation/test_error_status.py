"""Domain errors become gRPC statuses in one interceptor; bad input names every field.

A tiny servicer of our own, registered on a real server behind the real interceptors, raises
each domain error; the real JudgeService shows the same mapping for a bad trace.
"""

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc
from bsa_judge.errors import FailedPrecondition, FieldViolation, InvalidInput, NotFound
from bsa_judge.runs.run import StoreUnavailable
from bsa_judge.service.interceptors.errors import DomainErrorInterceptor
from bsa_judge.service.interceptors.logging import RequestLogInterceptor
from google.protobuf import wrappers_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from tests.support.serving import serving

Text = wrappers_pb2.StringValue

_ERRORS: dict[str, Exception] = {
    "invalid": InvalidInput(
        [
            FieldViolation("trace.item.query", "must not be empty"),
            FieldViolation("trace.item.scenario", "must be set"),
        ]
    ),
    "not_found": NotFound("no judge named 'gpt-judge'"),
    "precondition": FailedPrecondition("no judge is configured"),
    "store_away": StoreUnavailable("run store unavailable: connection refused"),
    "bug": RuntimeError("KeyError in /srv/secret/path.py with api key sk-live"),
}


async def _raise(request: Text, context: grpc.aio.ServicerContext[Any, Any]) -> Text:
    if request.value == "abort":
        await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many traces")
    if request.value in _ERRORS:
        raise _ERRORS[request.value]
    return Text(value=f"echo {request.value}")


async def _raise_after_one(
    request: Text, context: grpc.aio.ServicerContext[Any, Any]
) -> AsyncIterator[Text]:
    yield Text(value="first")
    raise _ERRORS[request.value]


async def _raise_mid_bidi(
    requests: AsyncIterator[Text], context: grpc.aio.ServicerContext[Any, Any]
) -> AsyncIterator[Text]:
    async for request in requests:
        if request.value in _ERRORS:
            raise _ERRORS[request.value]
        yield Text(value=f"echo {request.value}")


@pytest.fixture(scope="module")
async def errors_port() -> AsyncIterator[int]:
    server = grpc.aio.server(interceptors=[RequestLogInterceptor(), DomainErrorInterceptor()])
    codec = {"request_deserializer": Text.FromString, "response_serializer": Text.SerializeToString}
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "test.Errors",
                {
                    "Raise": grpc.unary_unary_rpc_method_handler(_raise, **codec),
                    "RaiseAfterOne": grpc.unary_stream_rpc_method_handler(
                        _raise_after_one, **codec
                    ),
                    "RaiseMidBidi": grpc.stream_stream_rpc_method_handler(_raise_mid_bidi, **codec),
                },
            )
        ]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield port
    await server.stop(None)


@pytest.fixture
async def channel(errors_port: int) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{errors_port}") as channel:
        yield channel


def _codec() -> dict[str, Any]:
    return {"request_serializer": Text.SerializeToString, "response_deserializer": Text.FromString}


def _field_violations(error: grpc.aio.AioRpcError) -> list[tuple[str, str]]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    violations = []
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        assert detail.Unpack(bad_request)
        violations += [(v.field, v.description) for v in bad_request.field_violations]
    return violations


async def _until_failure(call: Any) -> tuple[list[str], grpc.aio.AioRpcError]:
    """The messages a streaming call delivered before it failed, and its failure."""
    received: list[str] = []
    try:
        async for message in call:
            received.append(message.value)
    except grpc.aio.AioRpcError as error:
        return received, error
    raise AssertionError(f"the call did not fail; it delivered {received}")


async def _unary_error(channel: grpc.aio.Channel, value: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await channel.unary_unary("/test.Errors/Raise", **_codec())(Text(value=value))
    return raised.value


async def test_invalid_input_is_invalid_argument_with_a_bad_request_naming_each_field(
    channel: grpc.aio.Channel,
) -> None:
    error = await _unary_error(channel, "invalid")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == (
        "trace.item.query: must not be empty; trace.item.scenario: must be set"
    )
    assert _field_violations(error) == [
        ("trace.item.query", "must not be empty"),
        ("trace.item.scenario", "must be set"),
    ]


@pytest.mark.parametrize(
    ("raised", "code", "message"),
    [
        ("not_found", grpc.StatusCode.NOT_FOUND, "no judge named 'gpt-judge'"),
        ("precondition", grpc.StatusCode.FAILED_PRECONDITION, "no judge is configured"),
        ("store_away", grpc.StatusCode.UNAVAILABLE, "run store unavailable: connection refused"),
    ],
)
async def test_not_found_and_failed_precondition_keep_their_message(
    channel: grpc.aio.Channel, raised: str, code: grpc.StatusCode, message: str
) -> None:
    error = await _unary_error(channel, raised)
    assert (error.code(), error.details()) == (code, message)
    assert rpc_status.from_call(error) is not None  # type: ignore[arg-type]


async def test_an_unexpected_error_is_internal_and_reveals_only_the_request_id(
    channel: grpc.aio.Channel,
) -> None:
    call = channel.unary_unary("/test.Errors/Raise", **_codec())(
        Text(value="bug"), metadata=(("x-request-id", "req-42"),)
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    assert raised.value.code() == grpc.StatusCode.INTERNAL
    assert raised.value.details() == "internal error (request id req-42)"
    assert ("x-request-id", "req-42") in tuple(raised.value.trailing_metadata() or ())


async def test_a_status_chosen_by_the_servicer_passes_through(channel: grpc.aio.Channel) -> None:
    error = await _unary_error(channel, "abort")
    assert (error.code(), error.details()) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "too many traces",
    )


async def test_a_server_stream_fails_with_the_mapped_status_after_its_first_message(
    channel: grpc.aio.Channel,
) -> None:
    call = channel.unary_stream("/test.Errors/RaiseAfterOne", **_codec())(Text(value="invalid"))
    received, error = await _until_failure(call)
    assert received == ["first"]
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [field for field, _ in _field_violations(error)] == [
        "trace.item.query",
        "trace.item.scenario",
    ]


async def test_a_bidi_stream_fails_with_the_mapped_status_mid_stream(
    channel: grpc.aio.Channel,
) -> None:
    call = channel.stream_stream("/test.Errors/RaiseMidBidi", **_codec())(
        iter([Text(value="a"), Text(value="b"), Text(value="not_found"), Text(value="c")])
    )
    received, error = await _until_failure(call)
    assert received == ["echo a", "echo b"]
    assert (error.code(), error.details()) == (
        grpc.StatusCode.NOT_FOUND,
        "no judge named 'gpt-judge'",
    )


async def test_the_server_keeps_serving_after_errors(channel: grpc.aio.Channel) -> None:
    for value in ("invalid", "bug", "not_found"):
        await _unary_error(channel, value)
    reply = await channel.unary_unary("/test.Errors/Raise", **_codec())(Text(value="still up"))
    assert reply.value == "echo still up"


async def test_judge_trace_with_an_empty_query_names_the_field_and_the_server_stays_up() -> None:
    trace = judge_pb2.Trace(
        item=judge_pb2.Item(
            id="item-1",
            query="",
            risk_summary="The request seeks instructions for picking a lock.",
            scenario=judge_pb2.SCENARIO_RISK_OMISSION,
        ),
        reasoning="The user wants to open a lock they do not own.",
        answer="I cannot help with that.",
    )
    async with serving() as running:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            judge = judge_pb2_grpc.JudgeServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await judge.JudgeTrace(judge_pb2.JudgeTraceRequest(trace=trace))
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service="bsa.judge.v1.JudgeService")
            )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [field for field, _ in _field_violations(raised.value)] == ["trace.item.query"]
    assert health.status == health_pb2.HealthCheckResponse.SERVING
