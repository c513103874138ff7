"""Every RPC carries a request id: the caller's x-request-id, or one made up, echoed back."""

import re
from pathlib import Path

import grpc
import pytest
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.serving import serving

_CHECK = health_pb2.HealthCheckRequest(service="bsa.judge.v1.JudgeService")


def _request_ids(trailing: object) -> list[str]:
    return [value for key, value in trailing or () if key == "x-request-id"]  # type: ignore[attr-defined]


async def test_the_callers_request_id_is_echoed_in_trailing_metadata() -> None:
    async with serving() as running:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            call = health_pb2_grpc.HealthStub(channel).Check(
                _CHECK, metadata=(("x-request-id", "batch-7/trace-19"),)
            )
            await call
            trailing = await call.trailing_metadata()
    assert _request_ids(trailing) == ["batch-7/trace-19"]


async def test_a_request_id_is_generated_when_absent_or_not_a_sane_token() -> None:
    async with serving() as running:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            ids = []
            for metadata in (
                (),
                (("x-request-id", "two words"),),  # would break log parsing
                (("x-request-id", "x" * 200),),  # too long to be an id
            ):
                call = health.Check(_CHECK, metadata=metadata)
                await call
                ids += _request_ids(await call.trailing_metadata())
    assert len(ids) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)
    assert len(set(ids)) == 3


async def test_the_request_id_survives_an_error_status_with_details() -> None:
    async with serving() as running:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            call = judge_pb2_grpc.JudgeServiceStub(channel).JudgeTrace(
                judge_pb2.JudgeTraceRequest(), metadata=(("x-request-id", "req-bad-trace"),)
            )
            try:
                await call
            except grpc.aio.AioRpcError as error:
                code, trailing = error.code(), error.trailing_metadata()
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert _request_ids(trailing) == ["req-bad-trace"]
    assert "grpc-status-details-bin" in [key for key, _ in trailing or ()]  # type: ignore[attr-defined]


async def test_a_call_refused_by_auth_still_carries_its_request_id(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("team-token\n")
    async with serving(auth_tokens_file=tokens) as running:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await judge_pb2_grpc.JudgeServiceStub(channel).JudgeTrace(
                    judge_pb2.JudgeTraceRequest(), metadata=(("x-request-id", "no-token"),)
                )
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert _request_ids(refused.value.trailing_metadata()) == ["no-token"]
