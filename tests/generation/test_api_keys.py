"""API keys of models under test: the variable a backend names reaches the model as a bearer
token; a named variable that is unset stops the server from starting (or a reload from
installing the model), naming the model and the variable, never a key."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from bsa.judge.v1 import judge_pb2
from bsa_judge.app import bootstrap
from bsa_judge.backends.endpoint import MissingApiKeyError
from bsa_judge.settings import Settings

from tests.generation.harness import generate, request, write_backends
from tests.support.serve_process import serve_until_exit
from tests.support.serving import serving
from tools.openai_stub import Choice, OpenAIStub, Reply

KEY_VARIABLE = "BSA_TEST_MODEL_API_KEY"
OTHER_VARIABLE = "BSA_TEST_OTHER_MODEL_API_KEY"
KEY = "sk-model-7c41e2a9d05b"


def missing(model: str, variable: str) -> str:
    """The startup error for `model` (its id is its name here) naming an unset `variable`."""
    return (
        f"backend {model!r} (model {model!r}): api_key_env names the environment variable "
        f"{variable}, which is not set or is empty"
    )


def reasoning_model() -> OpenAIStub:
    return OpenAIStub(lambda body: Reply(choices=[Choice(content="<think>r</think>a")]))


@pytest.fixture(autouse=True)
def _no_inherited_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    monkeypatch.delenv(OTHER_VARIABLE, raising=False)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_generate_sends_the_named_variable_as_a_bearer_token(
    tmp_path: Path, stream: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    async with reasoning_model() as stub:
        backends = write_backends(
            tmp_path / "m.yaml", stub.base_url, m={"api_key_env": KEY_VARIABLE, "stream": stream}
        )
        async with serving(backends=backends) as running:
            samples = await generate(running.port, request("m", k=2))
    assert [s.status for s in samples] == [judge_pb2.SAMPLE_STATUS_OK] * 2
    assert [headers["authorization"] for headers in stub.headers] == [f"Bearer {KEY}"] * 2


async def test_a_model_that_names_no_key_variable_sends_the_keyless_placeholder(
    tmp_path: Path,
) -> None:
    async with reasoning_model() as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, m={})
        async with serving(backends=backends) as running:
            await generate(running.port, request("m"))
    assert [headers["authorization"] for headers in stub.headers] == ["Bearer not-needed"]


@pytest.mark.parametrize("value", [None, "", "  "], ids=["unset", "empty", "blank"])
async def test_a_named_key_variable_without_a_key_stops_the_runtime_build(
    tmp_path: Path, value: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    if value is not None:
        monkeypatch.setenv(OTHER_VARIABLE, value)
    backends = write_backends(
        tmp_path / "models.yaml",
        "http://127.0.0.1:9/v1",
        keyed={"api_key_env": KEY_VARIABLE},
        unkeyed={"api_key_env": OTHER_VARIABLE},
    )
    with pytest.raises(MissingApiKeyError) as raised:
        bootstrap.build(Settings(backends=backends, metrics_port=None))
    assert str(raised.value) == missing("unkeyed", OTHER_VARIABLE)


async def test_serve_exits_1_naming_the_model_and_the_unset_variable(tmp_path: Path) -> None:
    backends = write_backends(
        tmp_path / "models.yaml",
        "http://127.0.0.1:9/v1",
        keyed={"api_key_env": KEY_VARIABLE},
        unkeyed={"api_key_env": OTHER_VARIABLE},
    )
    exited = await serve_until_exit(
        f"--backends={backends}", env={KEY_VARIABLE: KEY}, unset=(OTHER_VARIABLE,)
    )
    assert exited.code == 1
    events = exited.events
    [failed] = [event for event in events if event["event"] == "server_start_failed"]
    assert failed["exception"][0]["exc_type"] == "MissingApiKeyError"
    assert failed["exception"][0]["exc_value"] == missing("unkeyed", OTHER_VARIABLE)
    assert not any(event["event"] == "server_started" for event in events)
    assert KEY not in exited.stdout + exited.stderr  # the other model's key is never shown


async def test_a_reload_adding_a_model_with_an_unset_key_keeps_the_running_models(
    tmp_path: Path,
) -> None:
    async with reasoning_model() as stub:
        path = write_backends(tmp_path / "models.yaml", stub.base_url, m={})
        async with serving(backends=path) as running:
            write_backends(path, stub.base_url, m={}, unkeyed={"api_key_env": OTHER_VARIABLE})
            reloaded = await running.app.generator.reload()
            [sample] = await generate(running.port, request("m"))
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await generate(running.port, request("unkeyed"))
    assert reloaded is False
    assert sample.status == judge_pb2.SAMPLE_STATUS_OK
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert raised.value.details() == "unknown model 'unkeyed'; configured models: m"
