"""Judge API keys: the key comes from the environment variable a judge backend names, reaches
the upstream as a bearer token, and a named variable that is missing stops the server from
starting instead of sending a placeholder."""

from __future__ import annotations

import json

import pytest
from bsa.judge.v1 import judge_pb2
from bsa_judge.app import bootstrap
from bsa_judge.backends.endpoint import MissingApiKeyError
from bsa_judge.settings import Settings

from tests.judging.harness import JUDGE_MODEL, judge_backend, judge_service, trace
from tests.support.serve_process import serve_until_exit
from tools.judge_script import agreeable_judge
from tools.openai_stub import OpenAIStub

KEY_VARIABLE = "BSA_TEST_JUDGE_API_KEY"
KEY = "sk-test-3b9d0c7e5a1f"
MISSING = (
    f"backend 'keyed-judge' (model '{JUDGE_MODEL}'): api_key_env names the environment "
    f"variable {KEY_VARIABLE}, which is not set or is empty"
)


@pytest.fixture(autouse=True)
def _no_inherited_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)


async def test_the_key_from_the_named_variable_reaches_the_judge_as_a_bearer_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    async with OpenAIStub(agreeable_judge()) as stub:
        judges = [judge_backend(stub, "keyed-judge", api_key_env=KEY_VARIABLE)]
        async with judge_service(stub, judges=judges) as client:
            response = await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))
    assert response.verdict.status == judge_pb2.JUDGMENT_STATUS_OK
    assert [headers["authorization"] for headers in stub.headers] == [f"Bearer {KEY}"] * 2


async def test_a_judge_that_names_no_key_variable_sends_the_keyless_placeholder() -> None:
    async with OpenAIStub(agreeable_judge()) as stub, judge_service(stub) as client:
        await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))
    assert [headers["authorization"] for headers in stub.headers] == ["Bearer not-needed"] * 2


@pytest.mark.parametrize("value", [None, "", "   "], ids=["unset", "empty", "blank"])
async def test_a_named_key_variable_without_a_key_stops_the_runtime_build(
    value: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is not None:
        monkeypatch.setenv(KEY_VARIABLE, value)
    settings = Settings(
        port=0,
        metrics_port=None,
        judges=[
            {
                "name": "keyed-judge",
                "base_url": "http://127.0.0.1:9/v1",
                "model": JUDGE_MODEL,
                "api_key_env": KEY_VARIABLE,
            }
        ],
    )
    with pytest.raises(MissingApiKeyError) as raised:
        bootstrap.build(settings)
    assert str(raised.value) == MISSING


async def test_serve_exits_1_naming_the_judge_and_the_missing_variable() -> None:
    judges = [
        {
            "name": "keyed-judge",
            "base_url": "http://127.0.0.1:9/v1",
            "model": JUDGE_MODEL,
            "api_key_env": KEY_VARIABLE,
        }
    ]
    exited = await serve_until_exit(
        env={"BSA_JUDGE_JUDGES": json.dumps(judges)}, unset=(KEY_VARIABLE,)
    )
    assert exited.code == 1
    events = exited.events
    failed = [event for event in events if event["event"] == "server_start_failed"]
    assert len(failed) == 1
    assert failed[0]["exception"][0]["exc_type"] == "MissingApiKeyError"
    assert failed[0]["exception"][0]["exc_value"] == MISSING
    assert not any(event["event"] == "server_started" for event in events)
