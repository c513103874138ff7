"""A caller that cancels, or whose deadline passes, cancels the upstream requests."""

import asyncio
from pathlib import Path
from typing import Any

import grpc
import pytest
from bsa_judge_client import AsyncJudgeClient

from tests.generation.harness import generate, request, wait_until, write_backends
from tests.support.serving import serving
from tools.openai_stub import Choice, OpenAIStub, Reply

# Replies that would take far longer than any test: only cancellation ends them early.
SLOW = Reply(choices=[Choice(content="<think>r</think>a")], delay_s=300)
SLOW_STREAM = Reply(
    choices=[Choice(content="<think>" + "r" * 400 + "</think>a")], chunk_delay_s=0.5
)

MODES = {
    "k-requests": {},
    "n-request": {"supports_n": True},
    "k-streams": {"stream": True},
}


@pytest.mark.parametrize("mode", list(MODES))
async def test_cancelling_the_call_cancels_every_upstream_request(
    tmp_path: Path, mode: str
) -> None:
    settings: dict[str, Any] = MODES[mode]
    reply = SLOW_STREAM if settings.get("stream") else SLOW
    expected = 1 if settings.get("supports_n") else 4
    async with OpenAIStub(lambda body: reply) as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, m=settings)
        async with serving(backends=backends) as running:
            async with AsyncJudgeClient(f"127.0.0.1:{running.port}") as client:

                async def consume() -> None:
                    async for _ in client.generate(request("m", k=4)):
                        pass

                call = asyncio.create_task(consume())
                await wait_until(lambda: stub.in_flight == expected)
                call.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await call
            await wait_until(lambda: stub.in_flight == 0)
            assert stub.disconnects == expected


async def test_a_passed_deadline_cancels_the_upstream_requests(tmp_path: Path) -> None:
    async with OpenAIStub(lambda body: SLOW) as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, m={})
        async with serving(backends=backends) as running:
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await generate(running.port, request("m", k=3), timeout_s=0.5)
            assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            await wait_until(lambda: stub.in_flight == 0)
    assert stub.calls == 3
    assert stub.disconnects == 3
