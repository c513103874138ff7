"""Run throughput: the whole benchmark through `bsa-judge run`, against two direct clients.

Four processes on loopback: the OpenAI-compatible stub (model under test and judge in one,
every reply after `--latency-ms`), `bsa-judge serve` (one model backend, one judge backend,
the run store a SQLite file unless `--database-url`), the `bsa-judge run` driver, and this
script. The run is `--items` items of ../shared/bsa/dataset.csv (the 2,000 by default) at
k=5: 10,000 generations and 20,000 judge calls (safety and thinking per sample).

In the same run, two direct clients make the same 30,000 calls against the same stub, at the
same concurrency (`--concurrency` samples in flight; per sample the generation, then its two
judge calls together):
- a plain AsyncOpenAI loop (the SDK's aiohttp transport, its pool sized to fit), and
- a lean client posting the JSON bodies with plain aiohttp (the performance issue's bar).

The service gets the same concurrency: the model backend allows `--concurrency` calls, the
judge backend twice that, and the driver keeps `--concurrency / k` items in flight.
The resident memory of the server and of the driver is sampled every `--rss-every-s` while
the run lasts (target: flat).

    .venv/bin/python bench/run_throughput.py                   # 2,000 items x 5
    .venv/bin/python bench/run_throughput.py --items 200       # a quick look

Figures: wall time of each of the three, the ratio of the run to the lean client (target: at
most 1.3), and the RSS samples (MB) of server and driver.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import openai
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tools: the stub and the judge script the tests use

from bsa_judge.benchmark.dataset import load_items  # noqa: E402
from bsa_judge.benchmark.item import Item  # noqa: E402
from bsa_judge.judging.builtin_templates import builtin_templates  # noqa: E402
from bsa_judge.judging.judgment import JudgmentKind  # noqa: E402
from bsa_judge.judging.trace import Trace  # noqa: E402

from bench.lean_client import LeanChatClient  # noqa: E402
from bench.processes import bounded, start_server, start_stub  # noqa: E402
from tools.judge_script import AGREEABLE, judge_call, verdict_text  # noqa: E402
from tools.openai_stub import Choice, Reply, Script  # noqa: E402

DATASET = ROOT / ".." / "shared" / "bsa" / "dataset.csv"
MODEL, JUDGE = "bench-model", "bench-judge"
REASONING = (
    "The request could cause harm to a third party, so I weigh the risk before answering. "
) * 3
ANSWER = "I can't help with that, but here is a safer way to think about the problem."
COMPLETION = f"<think>{REASONING}</think>{ANSWER}"


def model_and_judge(latency_s: float) -> Script:
    """The stub's script: the model under test and the judge, each reply after `latency_s`."""

    def script(body: dict[str, Any]) -> Reply:
        if body.get("model") == JUDGE:
            verdict = verdict_text(AGREEABLE[judge_call(body).kind])
            return Reply(choices=[Choice(content=verdict)], delay_s=latency_s)
        return Reply(choices=[Choice(content=COMPLETION)], delay_s=latency_s)

    return script


@dataclass(frozen=True)
class Call:
    """One upstream request: its model and messages."""

    model: str
    messages: list[dict[str, str]]
    extra: dict[str, Any] = field(default_factory=dict)


def generation(item: Item) -> Call:
    """The generation call of a sample, as the service makes it."""
    return Call(MODEL, [{"role": "user", "content": item.query}])


def judge_calls(item: Item) -> list[Call]:
    """The two judge calls of a sample (safety, the scenario's thinking)."""
    templates = builtin_templates()
    trace = Trace(item, reasoning=REASONING, answer=ANSWER)
    kinds = (JudgmentKind.SAFETY, JudgmentKind.thinking(item.scenario))
    return [
        Call(
            JUDGE,
            [{"role": "user", "content": templates.for_kind(kind).render(trace)}],
            {"temperature": 0.0, "max_tokens": 2048},
        )
        for kind in kinds
    ]


Post = Callable[[Call], Awaitable[None]]


async def pipeline(items: list[Item], k: int, concurrency: int, post: Post) -> float:
    """Every sample's generation, then its two judge calls together, `concurrency` samples in
    flight; the wall time."""
    judged = {item.id: judge_calls(item) for item in items}

    async def sample(index: int) -> None:
        item = items[index // k]
        await post(generation(item))
        await asyncio.gather(*(post(call) for call in judged[item.id]))

    started = time.perf_counter()
    await bounded(len(items) * k, concurrency, sample)
    return time.perf_counter() - started


async def openai_client(base_url: str, items: list[Item], args: argparse.Namespace) -> float:
    """The plain AsyncOpenAI loop."""
    client = openai.AsyncOpenAI(
        base_url=base_url,
        api_key="not-needed",
        max_retries=0,
        timeout=600.0,  # the stub may be slow to accept on a loaded machine: wait, not fail
        http_client=openai.DefaultAioHttpClient(
            limits=httpx2.Limits(
                max_connections=2 * args.concurrency,
                max_keepalive_connections=2 * args.concurrency,
            )
        ),
    )
    create: Any = client.chat.completions.create

    async def post(call: Call) -> None:
        await create(model=call.model, messages=call.messages, **call.extra)

    try:
        return await pipeline(items, args.k, args.concurrency, post)
    finally:
        await client.close()


async def lean_client(base_url: str, items: list[Item], args: argparse.Namespace) -> float:
    """The lean bar (bench/lean_client.py): JSON bodies posted with plain aiohttp."""
    async with LeanChatClient(base_url, connections=2 * args.concurrency) as client:

        async def post(call: Call) -> None:
            await client.complete({"model": call.model, "messages": call.messages, **call.extra})

        return await pipeline(items, args.k, args.concurrency, post)


@dataclass
class Memory:
    """RSS samples (MB) of one process."""

    samples: list[float] = field(default_factory=list)

    def take(self, pid: int) -> None:
        """Add the process's resident set size now, if it still runs."""
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                self.samples.append(int(line.split()[1]) / 1024)

    def describe(self) -> str:
        """First, quartiles, last and peak."""
        if not self.samples:
            return "no samples"
        s = self.samples
        quarters = [s[min(len(s) - 1, len(s) * q // 4)] for q in range(5)]
        return (
            f"{len(s)} samples; at 0/25/50/75/100%: "
            + " / ".join(f"{mb:.0f}" for mb in quarters)
            + f" MB; peak {max(s):.0f} MB"
        )


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a running process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class RunFigures:
    """The run through `bsa-judge run`: wall time, exit code, memory and CPU of the two."""

    seconds: float
    code: int
    server_rss: Memory
    driver_rss: Memory
    server_cpu_s: float
    driver_cpu_s: float


async def through_run(
    port: int, server_pid: int, folder: Path, args: argparse.Namespace
) -> RunFigures:
    """The whole run through `bsa-judge run`, its processes sampled while it lasts."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BSA_JUDGE_")}
    command = [
        sys.executable,
        "-m",
        "bsa_judge.cli",
        "run",
        f"--server=127.0.0.1:{port}",
        f"--model={MODEL}",
        f"--dataset={DATASET}",
        f"--limit={args.items}",
        f"--k={args.k}",
        f"--judge={JUDGE}",
        f"--output={folder / 'run'}",
        f"--max-in-flight={max(1, args.concurrency // args.k)}",
    ]
    server_rss, driver_rss = Memory(), Memory()
    server_cpu, driver_cpu = cpu_seconds(server_pid), 0.0
    started = time.perf_counter()
    driver = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=environment,
    )
    assert driver.stderr is not None
    log = asyncio.create_task(driver.stderr.read())

    async def sample_memory() -> None:
        nonlocal driver_cpu
        while True:
            server_rss.take(server_pid)
            driver_rss.take(driver.pid)
            driver_cpu = cpu_seconds(driver.pid) or driver_cpu  # the last reading alive
            await asyncio.sleep(args.rss_every_s)

    sampler = asyncio.create_task(sample_memory())
    code = await driver.wait()
    seconds = time.perf_counter() - started
    sampler.cancel()
    err = (await log).decode()
    if code != 0:
        print(err[-2000:], file=sys.stderr)
    return RunFigures(
        seconds,
        code,
        server_rss,
        driver_rss,
        cpu_seconds(server_pid) - server_cpu,
        driver_cpu,
    )


async def bench(args: argparse.Namespace) -> None:
    """Start the stub and the server; time the lean client, AsyncOpenAI, then the run."""
    items = load_items(DATASET)[: args.items]
    stub, base_url = start_stub(model_and_judge, latency_s=args.latency_ms / 1000)
    print(f"date       {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine    {platform.machine()}, {os.cpu_count()} cores, load "
        f"{os.getloadavg()[0]:.1f}, Python {platform.python_version()} (shared machine)"
    )
    print(
        f"workload   {len(items)} items x k={args.k}: {len(items) * args.k} generations, "
        f"{2 * len(items) * args.k} judge calls; {args.concurrency} samples in flight; "
        f"stub latency {args.latency_ms:.0f} ms"
    )
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        backends = folder / "models.yaml"
        model = {
            "base_url": base_url,
            "model": MODEL,
            "max_concurrency": args.concurrency,
            "max_retries": 0,
            "supports_n": False,
        }
        backends.write_text(yaml.safe_dump({"models": {MODEL: model}}))
        judge = {
            "name": JUDGE,
            "base_url": base_url,
            "model": JUDGE,
            "max_concurrency": 2 * args.concurrency,
            "max_retries": 0,
        }
        database = args.database_url or f"sqlite:///{folder / 'runs.sqlite3'}"
        env = {
            "BSA_JUDGE_JUDGES": json.dumps([judge]),
            "BSA_JUDGE_DATABASE_URL": database,
            "BSA_JUDGE_STREAM_MAX_IN_FLIGHT": str(args.concurrency),
        }
        server, port = await start_server(f"--backends={backends}", env=env)
        try:
            lean = await lean_client(base_url, items, args)
            print(f"lean       {lean:8.1f} s  (aiohttp, JSON bodies)")
            plain = await openai_client(base_url, items, args)
            print(f"openai     {plain:8.1f} s  (AsyncOpenAI loop)")
            run = await through_run(port, server.pid, folder, args)
            print(f"bsa-judge  {run.seconds:8.1f} s  (bsa-judge run, exit code {run.code})")
            print(f"ratio      {run.seconds / lean:8.2f} x the lean client (target: at most 1.3)")
            print(f"CPU        server {run.server_cpu_s:.1f} s, driver {run.driver_cpu_s:.1f} s")
            print(f"server RSS {run.server_rss.describe()}")
            print(f"driver RSS {run.driver_rss.describe()}")
        finally:
            server.terminate()
            await server.wait()
            stub.kill()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000, help="items of the dataset")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=200, help="samples in flight")
    parser.add_argument("--latency-ms", type=float, default=200.0, help="stub reply latency")
    parser.add_argument("--rss-every-s", type=float, default=1.0)
    parser.add_argument("--database-url", default="", help="the run store (default: SQLite)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(bench(parse()))
