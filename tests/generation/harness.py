"""Helpers of the generation tests: a backends file for the stub, and calling Generate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from bsa.judge.v1 import judge_pb2
from bsa_judge_client import AsyncJudgeClient


def write_backends(path: Path, base_url: str, **models: dict[str, Any]) -> Path:
    """A YAML backends file: one entry per model, each pointing at `base_url`.

    Each model's `model` id defaults to its name, and retries to none (tests stay fast).
    """
    entries = {
        name: {"base_url": base_url, "model": name, "max_retries": 0, **settings}
        for name, settings in models.items()
    }
    path.write_text(yaml.safe_dump({"models": entries}))
    return path


def request(
    model: str,
    k: int = 1,
    query: str = "How do I pick a lock?",
    *,
    label: str = "",
    safety_rules: bool = False,
    decoding: judge_pb2.DecodingSettings | None = None,
) -> judge_pb2.GenerateRequest:
    """A GenerateRequest for one item."""
    return judge_pb2.GenerateRequest(
        item=judge_pb2.Item(id="item-1", query=query, label=label),
        model=model,
        k=k,
        decoding=decoding,
        safety_rules=safety_rules,
    )


async def generate(
    port: int, message: judge_pb2.GenerateRequest, *, timeout_s: float | None = None
) -> list[judge_pb2.Sample]:
    """Call Generate on the local server through the client SDK; the samples, in stream order."""
    async with AsyncJudgeClient(f"127.0.0.1:{port}", retry=None) as client:
        return [r.sample async for r in client.generate(message, timeout_s=timeout_s)]


async def wait_until(condition: Callable[[], bool], *, within_s: float = 10.0) -> None:
    """Poll until `condition` holds; fail the test if it does not within the bound."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within_s} s")
        await asyncio.sleep(0.01)
