"""Run `bsa-judge serve` as a real subprocess on a free loopback port and read its log lines.

`async with serve_process("--grace-period-s", "5", env={...}) as server:` starts the command
(`--port 0`, `--metrics-port 0`, JSON logs), waits for its `server_started` event and gives
its `port`. Every stdout line is parsed as JSON into `server.events`; `server.stderr` keeps
what the process wrote there. On exit the process is killed if it is still running.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

Event = dict[str, Any]

# Every server's run store is a SQLite file in this throwaway folder, never the default one.
_STORES = tempfile.TemporaryDirectory(prefix="bsa-judge-serve-")


@dataclass
class ServeProcess:
    """A running `bsa-judge serve` and what it has logged so far."""

    process: asyncio.subprocess.Process
    events: list[Event] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    port: int = 0
    _logged: asyncio.Event = field(default_factory=asyncio.Event)
    _ended: bool = False

    def send(self, signum: signal.Signals) -> None:
        """Send a signal to the server process."""
        self.process.send_signal(signum)

    async def exit_code(self, timeout_s: float = 30.0) -> int:
        """Wait for the process to end; its exit code."""
        async with asyncio.timeout(timeout_s):
            return await self.process.wait()

    async def event(
        self, name: str, where: Callable[[Event], bool] = lambda _e: True, timeout_s: float = 30
    ) -> Event:
        """The first event called `name` (matching `where`), waiting for it if need be."""
        async with asyncio.timeout(timeout_s):
            while True:
                self._logged.clear()  # before looking, so that no line slips between
                for logged in self.events:
                    if logged.get("event") == name and where(logged):
                        return logged
                if self._ended:
                    raise AssertionError(f"the server's output ended without {name}")
                await self._logged.wait()

    async def _read(self, stdout: asyncio.StreamReader, stderr: asyncio.StreamReader) -> None:
        async def lines(stream: asyncio.StreamReader, keep: Callable[[str], None]) -> None:
            async for raw in stream:
                keep(raw.decode().rstrip("\n"))
                self._logged.set()

        await asyncio.gather(
            lines(stdout, lambda line: self.events.append(json.loads(line))),
            lines(stderr, self.stderr.append),
        )
        self._ended = True
        self._logged.set()


@asynccontextmanager
async def serve_process(
    *flags: str, env: Mapping[str, str] | None = None, startup_timeout_s: float = 30.0
) -> AsyncIterator[ServeProcess]:
    """Start `bsa-judge serve --port 0` with these flags and environment (no BSA_JUDGE_* of
    the test run leaks in) and yield it once it has logged `server_started`."""
    process = await _spawn(flags, env, ())
    assert process.stdout is not None
    assert process.stderr is not None
    server = ServeProcess(process)
    reader = asyncio.create_task(server._read(process.stdout, process.stderr))
    try:
        started = await server.event("server_started", timeout_s=startup_timeout_s)
        server.port = int(started["port"])
        yield server
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        with suppress(asyncio.CancelledError):
            await reader


@dataclass(frozen=True)
class Exited:
    """A `bsa-judge serve` that ended by itself: its exit code and what it wrote."""

    code: int
    events: list[Event]
    stdout: str
    stderr: str


async def serve_until_exit(
    *flags: str,
    env: Mapping[str, str] | None = None,
    unset: tuple[str, ...] = (),
    timeout_s: float = 60.0,
) -> Exited:
    """Run `bsa-judge serve` (flags and environment as `serve_process`, the variables named
    in `unset` removed) until it exits by itself, e.g. on bad settings."""
    process = await _spawn(flags, env, unset)
    try:
        async with asyncio.timeout(timeout_s):
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    text = stdout.decode()
    events = [json.loads(line) for line in text.splitlines()]
    return Exited(process.returncode, events, text, stderr.decode())


async def _spawn(
    flags: tuple[str, ...], env: Mapping[str, str] | None, unset: tuple[str, ...]
) -> asyncio.subprocess.Process:
    """`bsa-judge serve --port 0` with JSON logs; no BSA_JUDGE_* of the test run leaks in."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("BSA_JUDGE_") and k not in unset
    }
    store = tempfile.mkstemp(suffix=".sqlite3", dir=_STORES.name)
    os.close(store[0])
    environment["BSA_JUDGE_DATABASE_URL"] = f"sqlite:///{store[1]}"
    environment.update(env or {})
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bsa_judge.cli",
        "serve",
        "--port=0",
        "--metrics-port=0",
        "--log-format=json",
        *flags,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environment,
    )
