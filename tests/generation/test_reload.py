"""Reloading the backends file (SIGHUP): new requests see it, streams in flight finish."""

import asyncio
import signal
from pathlib import Path

import grpc
import pytest
from bsa.judge.v1 import judge_pb2
from bsa_judge.app.bootstrap import connect_endpoint
from bsa_judge.backends.endpoint import ChatEndpoint
from bsa_judge.generation.backends import ModelBackend
from bsa_judge.generation.registry import LeasedModel, ModelRegistry

from tests.generation.harness import generate, request, wait_until, write_backends
from tests.support.serve_process import serve_process
from tests.support.serving import serving
from tools.openai_stub import Choice, OpenAIStub, Reply


def answering(text: str, delay_s: float = 0.0) -> OpenAIStub:
    """A stub whose every choice reasons "r" and answers `text`, after `delay_s`."""
    choices = [Choice(content=f"<think>r</think>{text}")]
    return OpenAIStub(lambda body: Reply(choices=choices, delay_s=delay_s))


async def test_reload_serves_the_models_of_the_rewritten_file(tmp_path: Path) -> None:
    async with answering("from stub") as stub:
        path = write_backends(tmp_path / "models.yaml", stub.base_url, alpha={})
        async with serving(backends=path) as running:
            write_backends(path, stub.base_url, beta={})
            await running.app.reload()
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await generate(running.port, request("alpha"))
            [sample] = await generate(running.port, request("beta"))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert raised.value.details() == "unknown model 'alpha'; configured models: beta"
    assert sample.answer == "from stub"


async def test_a_stream_in_flight_finishes_on_the_old_endpoint(tmp_path: Path) -> None:
    async with answering("old", delay_s=0.5) as old, answering("new") as new:
        path = write_backends(tmp_path / "models.yaml", old.base_url, m={})
        async with serving(backends=path) as running:
            async with running.app.generator.models.lease("m") as leased:
                old_endpoint = leased.chat_model
            assert isinstance(old_endpoint, ChatEndpoint)
            in_flight = asyncio.create_task(generate(running.port, request("m", k=2)))
            await wait_until(lambda: old.in_flight == 2)

            write_backends(path, new.base_url, m={})  # same name, another endpoint
            await running.app.reload()
            assert not old_endpoint.closed  # retired, still serving its stream
            [after] = await generate(running.port, request("m"))

            before = await in_flight
            await wait_until(lambda: old_endpoint.closed)  # closed once drained
    assert [s.answer for s in before] == ["old", "old"]
    assert [s.status for s in before] == [judge_pb2.SAMPLE_STATUS_OK] * 2
    assert old.disconnects == 0
    assert after.answer == "new"
    assert (old.calls, new.calls) == (2, 1)


async def test_an_invalid_file_on_reload_keeps_the_running_models(tmp_path: Path) -> None:
    async with answering("still here") as stub:
        path = write_backends(tmp_path / "models.yaml", stub.base_url, m={})
        async with serving(backends=path) as running:
            path.write_text("models:\n  m:\n    base_url: 42\n")  # no model id
            reloaded = await running.app.generator.reload()
            await running.app.reload()
            [sample] = await generate(running.port, request("m"))
    assert reloaded is False
    assert sample.answer == "still here"


async def test_reload_rereads_the_safety_rules_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules.md"
    rules.write_text("# Risk Category: Rumors\n**Risk Facts**: v1\n**Response strategy**: s\n")
    async with answering("a") as stub:
        path = write_backends(tmp_path / "models.yaml", stub.base_url, m={})
        async with serving(backends=path, safety_rules_file=rules) as running:
            rules.write_text(
                "# Risk Category: Rumors\n**Risk Facts**: v2\n**Response strategy**: s\n"
            )
            await running.app.reload()
            await generate(running.port, request("m", label="Rumors-X", safety_rules=True))
    assert "**Risk Facts**: v2" in stub.requests[0]["messages"][0]["content"]


async def test_an_unchanged_backend_keeps_its_endpoint_and_a_changed_one_is_closed() -> None:
    def backend(name: str, concurrency: int = 4) -> ModelBackend:
        return ModelBackend(
            name=name, base_url="http://127.0.0.1:9/v1", model=name, max_concurrency=concurrency
        )

    registry = ModelRegistry(
        connect_endpoint, {"kept": backend("kept"), "changed": backend("changed")}
    )
    async with registry.lease("kept") as kept, registry.lease("changed") as changed:
        await registry.replace({"kept": backend("kept"), "changed": backend("changed", 8)})
        async with registry.lease("kept") as kept_after, registry.lease("changed") as changed_after:
            assert kept_after.chat_model is kept.chat_model
            assert changed_after.chat_model is not changed.chat_model
            assert changed_after.backend.max_concurrency == 8
        assert not endpoint(changed).closed  # its lease is still held
    assert endpoint(changed).closed
    assert not endpoint(kept).closed
    await registry.aclose()
    assert endpoint(kept).closed


def endpoint(leased: LeasedModel) -> ChatEndpoint:
    assert isinstance(leased.chat_model, ChatEndpoint)
    return leased.chat_model


async def test_sighup_reloads_the_backends_file_of_a_running_server(tmp_path: Path) -> None:
    async with answering("a") as stub:
        path = write_backends(tmp_path / "models.yaml", stub.base_url, first={})
        async with serve_process(f"--backends={path}") as server:
            [before] = await generate(server.port, request("first"))
            write_backends(path, stub.base_url, second={})
            server.send(signal.SIGHUP)
            reloaded = await server.event("generation_reloaded")
            [after] = await generate(server.port, request("second"))
    assert reloaded["models"] == ["second"]
    assert (before.status, after.status) == (judge_pb2.SAMPLE_STATUS_OK,) * 2
