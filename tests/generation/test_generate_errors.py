"""Generate's bad input: INVALID_ARGUMENT naming the field, NOT_FOUND for an unknown model."""

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from bsa.judge.v1 import judge_pb2
from bsa_judge.app import bootstrap
from bsa_judge.generation.backends import BackendsFileError
from bsa_judge.service.server import RunningServer
from bsa_judge.settings import Settings
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.generation.harness import generate, request, write_backends
from tests.support.serving import serving
from tools.openai_stub import Choice, OpenAIStub, Reply


@pytest.fixture(scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningServer]:
    """One server for the module, with models "alpha" and "beta" (no top_k) behind a stub."""
    path = tmp_path_factory.mktemp("backends") / "models.yaml"
    script = lambda body: Reply(choices=[Choice(content="<think>r</think>a")])  # noqa: E731
    async with OpenAIStub(script) as stub:
        backends = write_backends(path, stub.base_url, alpha={"supports_top_k": True}, beta={})
        async with serving(backends=backends, max_k=8) as server:
            yield server


def field_violations(error: grpc.aio.AioRpcError) -> list[tuple[str, str]]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    found = []
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        assert detail.Unpack(bad_request)
        found += [(v.field, v.description) for v in bad_request.field_violations]
    return found


async def rejected(port: int, message: judge_pb2.GenerateRequest) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await generate(port, message)
    return raised.value


D = judge_pb2.DecodingSettings


@pytest.mark.parametrize(
    ("message", "violation"),
    [
        (request("alpha", k=0), ("k", "must be between 1 and 8, got 0")),
        (request("alpha", k=9), ("k", "must be between 1 and 8, got 9")),
        (request("alpha", k=-1), ("k", "must be between 1 and 8, got -1")),
        (request("alpha", query=" \n"), ("item.query", "required: the prompt to answer")),
        (request("", k=1), ("model", "required: the name of a configured model")),
        (
            request("alpha", decoding=D(temperature=2.01)),
            ("decoding.temperature", "must be between 0 and 2, got 2.01"),
        ),
        (
            request("alpha", decoding=D(top_p=0.0)),
            ("decoding.top_p", "must be greater than 0 and at most 1, got 0.0"),
        ),
        (request("alpha", decoding=D(top_k=0)), ("decoding.top_k", "must be at least 1, got 0")),
        (
            request("alpha", decoding=D(max_tokens=0)),
            ("decoding.max_tokens", "must be at least 1, got 0"),
        ),
        (
            request("alpha", decoding=D(stop=["a", "b", "c", "d", "e"])),
            ("decoding.stop", "at most 4 stop sequences, got 5"),
        ),
        (
            request("beta", decoding=D(top_k=5)),
            (
                "decoding.top_k",
                "model 'beta' does not accept top_k (supports_top_k is off in the backends file)",
            ),
        ),
    ],
)
async def test_bad_input_is_invalid_argument_naming_the_field(
    running: RunningServer, message: judge_pb2.GenerateRequest, violation: tuple[str, str]
) -> None:
    error = await rejected(running.port, message)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(error) == [violation]


async def test_every_bad_field_is_named_at_once(running: RunningServer) -> None:
    message = request("alpha", k=0, query="", decoding=D(temperature=-1))
    error = await rejected(running.port, message)
    assert [name for name, _ in field_violations(error)] == [
        "k",
        "item.query",
        "decoding.temperature",
    ]


async def test_an_unknown_model_is_not_found_listing_the_configured_ones(
    running: RunningServer,
) -> None:
    error = await rejected(running.port, request("gamma"))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details() == "unknown model 'gamma'; configured models: alpha, beta"


async def test_the_server_stays_up_after_bad_input(running: RunningServer) -> None:
    await rejected(running.port, request("alpha", k=0))
    samples = await generate(running.port, request("alpha", k=2))
    assert len(samples) == 2


async def test_without_a_backends_file_every_model_is_not_found() -> None:
    async with serving() as server:
        error = await rejected(server.port, request("anything"))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details() == (
        "unknown model 'anything'; "
        "no models are configured (backends file: --backends, BSA_JUDGE_BACKENDS)"
    )


async def test_an_invalid_backends_file_is_refused_at_startup(tmp_path: Path) -> None:
    path = tmp_path / "models.toml"
    path.write_text('[models.x]\nbase_url = "http://x/v1"\nmodel = "x"\nmax_concurrency = 0\n')
    with pytest.raises(BackendsFileError) as raised:
        bootstrap.build(Settings(backends=path, metrics_port=None))
    assert str(raised.value) == (
        f"backends file {path}: model 'x': max_concurrency: "
        "Input should be greater than or equal to 1"
    )
