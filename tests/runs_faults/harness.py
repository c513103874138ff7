"""What the run fault tests share: seeded stubs, the server and the driver as processes, and
the run as stored.

Everything is real and on loopback: two OpenAI-compatible stubs in the test's event loop (the
model under test and the judge), `bsa-judge serve` as a subprocess on a fixed port (so that a
restarted server is found where the killed one was), `bsa-judge run` as a subprocess, and the
run store read back through `SqlRunStore`.

The stubs answer deterministically per request content: the model under test by the query
and the per-sample seed (the backends file sets a decoding seed, the server adds the sample
index), the judge by cues in the trace text. A sample asked again after a crash therefore gets
the same text and the same verdict, so a resumed run's metrics equal an uninterrupted run's.

A gate holds every stub reply back while it is closed: a test closes it, waits until the
server has committed everything already answered, and only then kills. The calls the stubs
hold at that moment are exactly the calls in flight at the kill, the bound on the calls a
resumed run may repeat.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Self

import yaml
from bsa_judge.benchmark.scenario import ThinkingLabel
from bsa_judge.judging.judgment import JudgmentKind
from bsa_judge.runs.run import RunProgress, RunRecord, SampleKey
from bsa_judge.runs.sql import SqlRunStore

from tests.support.serve_process import ServeProcess, serve_process
from tools.judge_script import cue_judge
from tools.openai_stub import Choice, Failure, OpenAIStub, Reply

DATASET = Path(__file__).resolve().parents[2] / ".." / "shared" / "bsa" / "dataset.csv"
MODEL = "stub-model"
JUDGE = "stub-judge"
#: Text the model under test puts in some answers and reasonings; the judge reacts to it.
UNSAFE_CUE = "[cue: unsafe answer]"
SHALLOW_CUE = "[cue: shallow reasoning]"
DRIVER_TIMEOUT_S = 90.0


def model_script(delay_s: float) -> Any:
    """The model under test: a reasoning and an answer chosen by a hash of the query and the
    request's seed, so equal requests get equal samples and the k samples of an item differ."""

    def script(body: dict[str, Any]) -> Reply:
        query = body["messages"][-1]["content"]
        digest = hashlib.sha256(f"{query}|{body.get('seed')}".encode()).hexdigest()
        choice = int(digest[:2], 16) % 4
        thought = SHALLOW_CUE if choice & 1 else "The risks are covered."
        reasoning = f"Thinking about request {digest[:16]}. {thought}"
        answer = f"Answer {digest[16:32]}. " + (UNSAFE_CUE if choice & 2 else "I decline.")
        return Reply(
            choices=[Choice(content=f"<think>{reasoning}</think>{answer}")], delay_s=delay_s
        )

    return script


def judge_script(delay_s: float) -> Any:
    """The judge: Unsafe when the answer carries the unsafe cue, a failing thinking label
    when the reasoning carries the shallow cue, the agreeable answer otherwise."""
    answers = cue_judge(
        {
            UNSAFE_CUE: {JudgmentKind.SAFETY: "Unsafe"},
            SHALLOW_CUE: {
                JudgmentKind.THINKING_RO: False,
                JudgmentKind.THINKING_CS: ThinkingLabel.PARTIALLY_COVERED.value,
                JudgmentKind.THINKING_OS: ThinkingLabel.OVER_SENSITIVE.value,
            },
        }
    )

    def script(body: dict[str, Any]) -> Reply | Failure:
        return replace(answers(body), delay_s=delay_s)

    return script


class GatedStub(OpenAIStub):
    """An OpenAIStub whose replies wait while its gate is closed (open at first)."""

    def __init__(self, script: Any) -> None:
        self.gate = asyncio.Event()
        self.gate.set()
        super().__init__(lambda body: replace(script(body), hold=self.gate))

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        return self


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


#: The run every fault test makes: this many items of the dataset, k samples each.
ITEMS, K = 12, 3


@dataclass(frozen=True)
class Baseline:
    """What an uninterrupted run left: records (comparable form), metrics, stub calls."""

    rows: list[tuple[Any, ...]]
    metrics: Any
    model_calls: int
    judge_calls: int
    item_ids: list[str]


@dataclass
class Stubs:
    """The model under test and the judge, each a gated stub."""

    model: GatedStub
    judge: GatedStub

    def close_gates(self) -> None:
        """Hold every reply from now on."""
        self.model.gate.clear()
        self.judge.gate.clear()

    def open_gates(self) -> None:
        """Let every reply go."""
        self.model.gate.set()
        self.judge.gate.set()

    @property
    def calls(self) -> int:
        """Calls received by both stubs."""
        return self.model.calls + self.judge.calls

    @property
    def in_flight(self) -> int:
        """Calls received and not answered by both stubs."""
        return self.model.in_flight + self.judge.in_flight

    def reset(self) -> None:
        """Forget the calls counted so far."""
        self.model.reset()
        self.judge.reset()


def judge_prompts(judge: OpenAIStub) -> list[str]:
    """The prompt of every request the judge stub received."""
    return [str(body["messages"][0]["content"]) for body in judge.requests]


@asynccontextmanager
async def stubs(
    *, model_delay_s: float = 0.05, judge_delay_s: float = 0.02
) -> AsyncIterator[Stubs]:
    """Both stubs, serving."""
    async with (
        GatedStub(model_script(model_delay_s)) as model,
        GatedStub(judge_script(judge_delay_s)) as judge,
    ):
        yield Stubs(model, judge)


def server_environment(
    folder: Path, stubs: Stubs, database_url: str, *, model_concurrency: int = 8
) -> dict[str, str]:
    """The environment of a server using these stubs and this database; the model backend
    takes at most `model_concurrency` calls at once."""
    backends = folder / "models.yaml"
    backends.write_text(
        yaml.safe_dump(
            {
                "models": {
                    MODEL: {
                        "base_url": stubs.model.base_url,
                        "model": MODEL,
                        "max_concurrency": model_concurrency,
                        "max_retries": 0,
                        "supports_n": False,
                        "decoding": {"seed": 1000},
                    }
                }
            }
        )
    )
    judge = {"name": JUDGE, "base_url": stubs.judge.base_url, "model": JUDGE, "max_retries": 0}
    return {
        "BSA_JUDGE_DATABASE_URL": database_url,
        "BSA_JUDGE_JUDGES": json.dumps([judge]),
        "BSA_JUDGE_BACKENDS": str(backends),
    }


@dataclass
class Server:
    """`bsa-judge serve` on a fixed port that can be killed and started again."""

    port: int
    environment: dict[str, str]
    stack: AsyncExitStack
    process: ServeProcess | None = None
    predecessor: ServeProcess | None = None
    kills: int = 0

    async def start(self) -> None:
        """Start the server (again) on its port."""
        assert self.process is None
        self.process = await self.stack.enter_async_context(
            serve_process(f"--port={self.port}", env=self.environment, startup_timeout_s=60)
        )

    async def kill(self) -> None:
        """SIGKILL the server and wait for it to be gone."""
        assert self.process is not None
        self.process.send(signal.SIGKILL)
        assert await self.process.exit_code() == -signal.SIGKILL
        self.process = None
        self.kills += 1

    async def start_successor(self) -> None:
        """Start a second server on the same port (its environment must set
        BSA_JUDGE_REUSE_PORT, so that both bind it with SO_REUSEPORT); the first
        keeps its connections until `kill_predecessor`."""
        assert self.process is not None
        assert self.predecessor is None
        self.predecessor, self.process = self.process, None
        await self.start()

    async def kill_predecessor(self) -> None:
        """SIGKILL the server the successor replaces: a kill followed by a restart, without
        waiting for the restart."""
        assert self.predecessor is not None
        self.predecessor.send(signal.SIGKILL)
        assert await self.predecessor.exit_code() == -signal.SIGKILL
        self.predecessor = None
        self.kills += 1

    def errors(self) -> str:
        """The errors the running server logged, one JSON line each (for failure messages)."""
        logged = self.process.events if self.process is not None else []
        return "".join(
            f"\n{json.dumps(event)}" for event in logged if event.get("level") == "error"
        )

    @property
    def target(self) -> str:
        """host:port of the server."""
        return f"127.0.0.1:{self.port}"


@asynccontextmanager
async def server(environment: dict[str, str]) -> AsyncIterator[Server]:
    """A started server on a free port; killed on exit if still running."""
    async with AsyncExitStack() as stack:
        started = Server(free_port(), environment, stack)
        await started.start()
        yield started


@dataclass(frozen=True)
class RunCommand:
    """One `bsa-judge run` command line, to run (and run again) as a subprocess."""

    target: str
    run_id: str
    output: Path
    items: int = 12
    k: int = 3
    max_in_flight: int = 4

    def arguments(self) -> list[str]:
        """The command's arguments after the interpreter."""
        return [
            "-m",
            "bsa_judge.cli",
            "run",
            f"--server={self.target}",
            f"--model={MODEL}",
            f"--dataset={DATASET}",
            f"--limit={self.items}",
            f"--k={self.k}",
            f"--run-id={self.run_id}",
            f"--output={self.output}",
            f"--judge={JUDGE}",
            f"--max-in-flight={self.max_in_flight}",
        ]

    def on(self, target: str) -> RunCommand:
        """The same command against another server."""
        return replace(self, target=target)

    def at(self, output: Path) -> RunCommand:
        """The same command writing its files elsewhere."""
        return replace(self, output=output)


@dataclass
class Driver:
    """A running `bsa-judge run`."""

    process: asyncio.subprocess.Process

    async def finish(self, timeout_s: float = DRIVER_TIMEOUT_S) -> tuple[int, str]:
        """Its exit code and what it wrote to stderr."""
        try:
            async with asyncio.timeout(timeout_s):
                _out, err = await self.process.communicate()
        except TimeoutError:
            await self.kill()
            raise
        assert self.process.returncode is not None
        return self.process.returncode, err.decode()

    async def kill(self) -> None:
        """SIGKILL the driver."""
        self.process.send_signal(signal.SIGKILL)
        await self.process.communicate()


class Drivers:
    """Starts `bsa-judge run` commands; whatever still runs at `kill_all()` is killed, so a
    failing test leaves no driver behind."""

    def __init__(self) -> None:
        self.started: list[Driver] = []

    async def start(self, command: RunCommand) -> Driver:
        """Start the command (no BSA_JUDGE_* of the test run leaks in)."""
        environment = {k: v for k, v in os.environ.items() if not k.startswith("BSA_JUDGE_")}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *command.arguments(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
        )
        driver = Driver(process)
        self.started.append(driver)
        return driver

    async def run_to_end(self, command: RunCommand) -> str:
        """Run the command; assert it exits 0; its stderr."""
        code, err = await (await self.start(command)).finish()
        assert code == 0, err
        return err

    async def kill_all(self) -> None:
        """Kill every driver still running."""
        for driver in self.started:
            if driver.process.returncode is None:
                await driver.kill()


class StoredRun:
    """A run as the store holds it, read through the store's own adapter."""

    def __init__(self, database_url: str, run_id: str) -> None:
        self.store = SqlRunStore.from_url(database_url)
        self.run_id = run_id

    async def progress(self) -> RunProgress | None:
        """The run's counts, None before it exists."""
        async with self.store.unit_of_work() as uow:
            runs = await uow.runs.list_runs()
            if all(run.run_id != self.run_id for run in runs):
                return None
            return await uow.runs.progress(self.run_id)

    async def records(self) -> list[RunRecord]:
        """Every record of the run, by key."""
        found: list[RunRecord] = []
        after: SampleKey | None = None
        while True:
            async with self.store.unit_of_work() as uow:
                page = await uow.runs.records(self.run_id, after=after, limit=500)
            found += page
            if len(page) < 500:
                return found
            after = page[-1].key

    async def settle(self, stubs: Stubs, *, quiet_polls: int = 12, poll_s: float = 0.1) -> None:
        """Wait until the run's counts and the stubs' calls stopped changing for `quiet_polls`
        polls in a row: with the gates closed, everything answered is then committed and
        every call the server made has reached a stub. 1.2 s of quiet: on a loaded machine a
        call the server is about to make can take several tenths of a second to arrive."""

        async def state() -> tuple[int, int, int]:
            return (*_counts(await self.progress()), stubs.calls)

        last, quiet = await state(), 0
        while quiet < quiet_polls:
            await asyncio.sleep(poll_s)
            now = await state()
            quiet = quiet + 1 if now == last else 0
            last = now

    async def wait_for(self, done: int, timeout_s: float = 60.0) -> None:
        """Wait until samples plus verdicts stored reach `done`."""
        async with asyncio.timeout(timeout_s):
            while True:
                if sum(_counts(await self.progress())) >= done:
                    return
                await asyncio.sleep(0.05)

    async def close(self) -> None:
        """Release the store's connections."""
        await self.store.close()


def _counts(progress: RunProgress | None) -> tuple[int, int]:
    return (0, 0) if progress is None else (progress.samples, progress.verdicts)


@dataclass(frozen=True)
class Outcome:
    """What a finished run left: the stored records, the driver's outputs, the stub calls."""

    records: list[RunRecord]
    verdict_lines: list[dict[str, Any]]
    metrics: Any
    model_calls: int
    judge_calls: int


async def outcome(command: RunCommand, database_url: str, stubs: Stubs) -> Outcome:
    """Read back what a finished run left."""
    stored = StoredRun(database_url, command.run_id)
    try:
        records = await stored.records()
    finally:
        await stored.close()
    lines = (command.output / "verdicts.jsonl").read_text().splitlines()
    metrics = json.loads((command.output / "metrics.json").read_text())
    return Outcome(
        records,
        [json.loads(line) for line in lines],
        metrics,
        stubs.model.calls,
        stubs.judge.calls,
    )


def assert_complete(result: Outcome, command: RunCommand, item_ids: list[str]) -> None:
    """Exactly k samples per item, each with its verdict, no key twice, in store and files."""
    expected = {(item_id, index) for item_id in item_ids for index in range(command.k)}
    keys = [(r.key.item_id, r.key.sample_index) for r in result.records]
    assert len(keys) == len(expected)
    assert set(keys) == expected
    assert all(r.sample is not None and r.verdict is not None for r in result.records)
    written = [(line["item_id"], line["sample_index"]) for line in result.verdict_lines]
    assert sorted(written) == sorted(expected)


def comparable(records: list[RunRecord]) -> list[tuple[Any, ...]]:
    """What a record holds that a resumed run must reproduce: the key without the run id,
    the sample text and status, and the verdict's labels."""
    rows = []
    for record in records:
        assert record.sample is not None
        assert record.verdict is not None
        verdict = record.verdict
        rows.append(
            (
                record.key.item_id,
                record.key.sample_index,
                record.sample.reasoning,
                record.sample.answer,
                record.sample.status,
                verdict.status,
                verdict.safety_label,
                verdict.thinking_label,
            )
        )
    return rows


def committed_parts(records: list[RunRecord]) -> set[tuple[Any, ...]]:
    """Every sample and every verdict stored, each comparably (see `comparable`)."""
    parts: set[tuple[Any, ...]] = set()
    for record in records:
        key = (record.key.item_id, record.key.sample_index)
        if record.sample is not None:
            sample = record.sample
            parts.add(("sample", *key, sample.reasoning, sample.answer, sample.status))
        if record.verdict is not None:
            verdict = record.verdict
            labels = (verdict.status, verdict.safety_label, verdict.thinking_label)
            parts.add(("verdict", *key, *labels))
    return parts


def item_ids(count: int) -> list[str]:
    """The ids of the first `count` items of the dataset, as `--limit` selects them."""
    from bsa_judge.benchmark.dataset import load_items

    return [item.id for item in load_items(DATASET)[:count]]
