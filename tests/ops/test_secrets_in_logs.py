"""Neither a bearer token nor an upstream API key ever reaches the logs.

`bsa-judge serve` runs as a real process at debug level, with auth on and a judge whose API
key comes from the environment. Calls with the right token, a wrong one and none, a judge
call that succeeds and one whose upstream fails; then every line the process wrote to
stdout and stderr is searched for the secrets.
"""

from __future__ import annotations

import json
import signal
from typing import Any

import grpc
import pytest
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc

from tests.judging.harness import JUDGE_MODEL, trace
from tests.support.serve_process import serve_process
from tools.judge_script import by_kind
from tools.openai_stub import Failure, OpenAIStub, Reply

TOKEN = "tok-Q2hhbmdlTWUtOTk4MjE3"
WRONG_TOKEN = "tok-Q2hhbmdlTWUtOTk4MjE4"
API_KEY = "sk-live-7c1e0b9f4a2d48d5a1f3e6b8c0d2f4a6"


def _judge_or_fail(request: dict[str, Any]) -> Reply | Failure:
    """Judge agreeably, except for traces about the broken lock: the upstream fails."""
    if "broken lock" in json.dumps(request):
        return Failure(500)
    return by_kind({})(request)


async def _code(call: Any) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


async def test_tokens_and_api_keys_never_appear_in_the_logs() -> None:
    judges = [
        {
            "name": "stub-judge",
            "base_url": "",
            "model": JUDGE_MODEL,
            "api_key_env": "OPS_TEST_JUDGE_KEY",
            "max_retries": 0,
        }
    ]
    async with OpenAIStub(_judge_or_fail) as stub:
        judges[0]["base_url"] = stub.base_url
        env = {
            "OPS_TEST_JUDGE_KEY": API_KEY,
            "OPS_TEST_TOKENS": TOKEN,
            "BSA_JUDGE_AUTH_TOKENS_ENV": "OPS_TEST_TOKENS",
            "BSA_JUDGE_JUDGES": json.dumps(judges),
            "BSA_JUDGE_LOG_LEVEL": "debug",
        }
        async with (
            serve_process(env=env) as server,
            grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
        ):
            service = judge_pb2_grpc.JudgeServiceStub(channel)
            ok = judge_pb2.JudgeTraceRequest(trace=trace())
            broken = judge_pb2.JudgeTraceRequest(
                trace=trace(query="How do I open a broken lock on my own shed?")
            )
            right = (("authorization", f"Bearer {TOKEN}"),)
            wrong = (("authorization", f"Bearer {WRONG_TOKEN}"),)
            codes = [
                await _code(service.JudgeTrace(ok, metadata=right)),
                await _code(service.JudgeTrace(broken, metadata=right)),
                await _code(service.JudgeTrace(ok, metadata=wrong)),
                await _code(service.JudgeTrace(ok)),
            ]
            server.send(signal.SIGTERM)
            assert await server.exit_code() == 0
        assert stub.calls >= 3  # both judged traces reached the upstream with the key
    assert codes == [
        grpc.StatusCode.OK,
        grpc.StatusCode.OK,  # the upstream failure is reported in the verdict, in-band
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
    ]
    logged = "\n".join([*(json.dumps(event) for event in server.events), *server.stderr])
    rpc_codes = [e.get("code") for e in server.events if e.get("event") == "rpc"]
    assert {"OK", "PERMISSION_DENIED", "UNAUTHENTICATED"} <= set(rpc_codes)
    for secret in (TOKEN, WRONG_TOKEN, API_KEY):
        assert secret not in logged
        # Nor any recognisable part of it.
        assert secret[-12:] not in logged


@pytest.fixture(autouse=True)
def _no_inherited_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPS_TEST_JUDGE_KEY", raising=False)
