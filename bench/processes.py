"""What the throughput benches share: a bounded work loop, `bsa-judge serve` as a process,
and the CPU time of a process."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

_background: set[asyncio.Task[None]] = set()


async def bounded(total: int, in_flight: int, work: Callable[[int], Awaitable[None]]) -> None:
    """Run work(0..total-1) with at most `in_flight` at once."""
    indexes = iter(range(total))

    async def worker() -> None:
        for index in indexes:
            await work(index)

    await asyncio.gather(*(worker() for _ in range(in_flight)))


async def start_server(
    *flags: str, env: Mapping[str, str] | None = None
) -> tuple[asyncio.subprocess.Process, int]:
    """`bsa-judge serve` on a free port (no BSA_JUDGE_* of the caller leaks in, plus `env`);
    returns it and its port once started, its log drained in the background."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BSA_JUDGE_")}
    environment.update(env or {})
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bsa_judge.cli",
        "serve",
        "--port=0",
        "--metrics-port=none",
        "--log-format=json",
        *flags,
        stdout=asyncio.subprocess.PIPE,
        env=environment,
    )
    assert process.stdout is not None
    async for line in process.stdout:
        event = json.loads(line)
        if event.get("event") == "server_started":
            _background.add(asyncio.create_task(_drain(process.stdout)))
            return process, int(event["port"])
    raise RuntimeError("the server exited before it started")


async def _drain(stream: asyncio.StreamReader) -> None:
    async for _line in stream:
        pass


def cpu_seconds(pid: int | None = None) -> float:
    """User plus system CPU seconds of a process (this one by default); Linux /proc."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
