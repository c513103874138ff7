"""What the throughput benches share: a bounded work loop, the OpenAI-compatible stub and
`bsa-judge serve` as processes, and the CPU time of a process."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from tools.openai_stub import OpenAIStub, Script

_background: set[asyncio.Task[None]] = set()


async def bounded(total: int, in_flight: int, work: Callable[[int], Awaitable[None]]) -> None:
    """Run work(0..total-1) with at most `in_flight` at once."""
    indexes = iter(range(total))

    async def worker() -> None:
        for index in indexes:
            await work(index)

    await asyncio.gather(*(worker() for _ in range(in_flight)))


def start_stub(script: Callable[..., Script], **arguments: Any) -> tuple[BaseProcess, str]:
    """The OpenAI-compatible stub in a process of its own (spawned, so that it has a core's
    worth of its own loop), answering with `script(**arguments)` (built in that process: pass a
    module-level function); returns the process, to kill at the end, and its base URL."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_serve_stub, args=(send, script, arguments), daemon=True)
    process.start()
    return process, str(receive.recv())


def _serve_stub(ready: Connection, script: Callable[..., Script], arguments: Any) -> None:
    """The stub process: serve until killed; send the base URL through `ready`."""

    async def serve_forever() -> None:
        async with OpenAIStub(script(**arguments), backlog=4096) as stub:
            ready.send(stub.base_url)
            await asyncio.Event().wait()

    asyncio.run(serve_forever())


async def start_server(
    *flags: str,
    env: Mapping[str, str] | None = None,
    python: str = sys.executable,
    prelude: str | None = None,
    events: list[dict[str, Any]] | None = None,
) -> tuple[asyncio.subprocess.Process, int]:
    """`bsa-judge serve` on a free port (no BSA_JUDGE_* of the caller leaks in, plus `env`);
    returns it and its port once started, its log drained in the background. Its run store is
    a new SQLite file in a temporary directory unless `env` names a database: a bench measures
    the same empty store on every machine and run, and leaves no growing file behind.

    `python`: the interpreter (another checkout's venv runs that checkout's server);
    `prelude`: Python run in the server process before the CLI (a bench-only hook);
    `events`: where the log's JSON events after start-up go, if anywhere.
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BSA_JUDGE_")}
    environment.update(env or {})
    if "BSA_JUDGE_DATABASE_URL" not in environment:
        store = Path(tempfile.mkdtemp(prefix="bsa-judge-bench-"))
        atexit.register(shutil.rmtree, store, ignore_errors=True)
        environment["BSA_JUDGE_DATABASE_URL"] = f"sqlite:///{store / 'runs.sqlite3'}"
    entry = ["-m", "bsa_judge.cli"]
    if prelude is not None:
        entry = ["-c", f"{prelude}\nimport sys\nfrom bsa_judge.cli import main\nsys.exit(main())"]
    process = await asyncio.create_subprocess_exec(
        python,
        *entry,
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
            _background.add(asyncio.create_task(_drain(process.stdout, events)))
            return process, int(event["port"])
    raise RuntimeError("the server exited before it started")


async def _drain(stream: asyncio.StreamReader, events: list[dict[str, Any]] | None) -> None:
    async for line in stream:
        if events is not None and line.startswith(b"{"):
            # A line written over by another thread's is not an event to count.
            with contextlib.suppress(json.JSONDecodeError):
                events.append(json.loads(line))


def cpu_seconds(pid: int | None = None) -> float:
    """User plus system CPU seconds of a process (this one by default); Linux /proc."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and of every process under it (a supervisor's workers)."""
    total = cpu_seconds(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += tree_cpu_seconds(int(child))
    return total
