"""Bearer-token auth: every RPC but health needs one of the configured tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc
from bsa_judge.service.interceptors.auth import AuthConfigError, load_tokens
from bsa_judge.service.server import RunningServer
from bsa_judge.settings import Settings
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.support.serving import serving

TOKEN = "tok-3f9d1c2ab7e54c88"
TOKENS_ENV = "BSA_JUDGE_TEST_TOKENS"


@pytest.fixture
async def guarded(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RunningServer]:
    monkeypatch.setenv(TOKENS_ENV, f"other-token, {TOKEN}")
    async with serving(auth_tokens_env=TOKENS_ENV) as running:
        yield running


def _bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


async def _judge_trace(port: int, metadata: tuple[tuple[str, str], ...] = ()) -> grpc.StatusCode:
    """The status of a JudgeTrace call with an empty (invalid) request."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = judge_pb2_grpc.JudgeServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await stub.JudgeTrace(judge_pb2.JudgeTraceRequest(), metadata=metadata)
    assert TOKEN not in (failed.value.details() or "")
    return failed.value.code()


async def test_health_needs_no_token(guarded: RunningServer) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{guarded.port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_call_without_a_token_is_unauthenticated(guarded: RunningServer) -> None:
    assert await _judge_trace(guarded.port) == grpc.StatusCode.UNAUTHENTICATED


async def test_a_call_with_another_scheme_is_unauthenticated(guarded: RunningServer) -> None:
    basic = (("authorization", f"Basic {TOKEN}"),)
    assert await _judge_trace(guarded.port, basic) == grpc.StatusCode.UNAUTHENTICATED


async def test_a_call_with_a_wrong_token_is_permission_denied(guarded: RunningServer) -> None:
    wrong = _bearer(TOKEN[:-1] + "X")
    assert await _judge_trace(guarded.port, wrong) == grpc.StatusCode.PERMISSION_DENIED


async def test_a_call_with_a_right_token_reaches_the_method(guarded: RunningServer) -> None:
    # The empty request gets through auth, and is then refused for what it is.
    assert await _judge_trace(guarded.port, _bearer(TOKEN)) == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_stream_without_a_token_is_unauthenticated(guarded: RunningServer) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{guarded.port}") as channel:
        call = judge_pb2_grpc.JudgeServiceStub(channel).JudgeTraces(iter(()))
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            async for _ in call:
                pass
    assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_reflection_needs_a_token_too(guarded: RunningServer) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{guarded.port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        ask = reflection_pb2.ServerReflectionRequest(list_services="")
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            async for _ in stub.ServerReflectionInfo(iter([ask])):
                pass
        assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED
        replies = [r async for r in stub.ServerReflectionInfo(iter([ask]), metadata=_bearer(TOKEN))]
    services = {s.name for s in replies[0].list_services_response.service}
    assert "bsa.judge.v1.JudgeService" in services


def test_tokens_come_from_a_file_without_blank_lines_or_comments(tmp_path: Path) -> None:
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text("# team tokens\nalpha-token\n\n  beta-token  \n", encoding="utf-8")
    assert load_tokens(Settings(auth_tokens_file=tokens_file)) == {"alpha-token", "beta-token"}


async def test_a_token_from_the_file_is_accepted(tmp_path: Path) -> None:
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text(f"{TOKEN}\n", encoding="utf-8")
    async with serving(auth_tokens_file=tokens_file) as running:
        assert await _judge_trace(running.port, _bearer(TOKEN)) == grpc.StatusCode.INVALID_ARGUMENT


def test_no_auth_settings_means_auth_is_off() -> None:
    assert load_tokens(Settings()) is None


def test_an_unset_tokens_variable_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKENS_ENV, raising=False)
    with pytest.raises(AuthConfigError) as refused:
        load_tokens(Settings(auth_tokens_env=TOKENS_ENV))
    assert str(refused.value) == (
        f"auth_tokens_env: environment variable {TOKENS_ENV} is not set or empty"
    )


def test_a_tokens_file_with_no_token_is_refused(tmp_path: Path) -> None:
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(AuthConfigError) as refused:
        load_tokens(Settings(auth_tokens_file=tokens_file))
    assert str(refused.value) == "auth is configured but no token was found (auth_tokens_*)"
