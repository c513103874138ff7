"""Generate throughput: 2,000 items x k=5 through the real server against a fixed-latency stub.

Three processes on loopback, as in production: the OpenAI-compatible stub (every reply takes
`--latency-s`), `bsa-judge serve` with one model backend limited to `--concurrency`, and this
script as the gRPC client (the client SDK), keeping enough items in flight to saturate the
backend. In the same run, against the same stub (the aiohttp OpenAI stub of
tools/openai_stub.py) at the same concurrency, two baselines make the same upstream
calls: lean, plain aiohttp posting the chat-completions JSON (bench/lean_client.py), and
sdk, a bare AsyncOpenAI client (its aiohttp transport). Issue 11's target: at least 95% of
lean with k requests per item at 0.2 s.

The machine may be shared, so the three take turns: `--rounds` rounds, each a slice of the
items run by each pass (the order rotated between rounds); the totals are compared and each
round's ratios are printed as the spread. CPU seconds per sample (this process for the
baselines, the server process for the service) are reported too: they depend less on what
else is running.

    .venv/bin/python bench/generate_throughput.py                 # k requests per item
    .venv/bin/python bench/generate_throughput.py --supports-n    # one n=k request per item
    .venv/bin/python bench/generate_throughput.py --stream        # streamed completions

Figures: samples/s, the ratio to the limit (concurrency / latency calls per second, times
the samples per call), the ratio to the direct client, and CPU milliseconds per sample.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import openai
import yaml
from bsa_judge_client import AsyncJudgeClient, judge_pb2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tools.openai_stub: the stub the tests use

from bench.lean_client import LeanChatClient  # noqa: E402
from bench.processes import bounded, cpu_seconds, start_server, start_stub  # noqa: E402
from tools.openai_stub import Choice, Reply, Script  # noqa: E402

COMPLETION = "<think>The request asks for something risky; I should decline.</think>No."


def model_under_test(latency_s: float) -> Script:
    """The stub's script: the model under test, `n` completions per request (default 1)."""

    def script(body: dict[str, Any]) -> Reply:
        n = int(body.get("n") or 1)
        return Reply(choices=[Choice(content=COMPLETION)] * n, delay_s=latency_s)

    return script


@dataclass
class Run:
    """Measured passes: how many samples, in how long, for how much CPU."""

    samples: int = 0
    seconds: float = 0.0
    not_ok: int = 0
    cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Samples per second."""
        return self.samples / self.seconds

    @property
    def cpu_ms_per_sample(self) -> float:
        """CPU milliseconds spent per sample by the process making the upstream calls."""
        return self.cpu_seconds / self.samples * 1000

    def add(self, other: Run) -> None:
        """Accumulate another pass."""
        self.samples += other.samples
        self.seconds += other.seconds
        self.not_ok += other.not_ok
        self.cpu_seconds += other.cpu_seconds


async def direct(base_url: str, args: argparse.Namespace) -> Run:
    """The SDK bar: the same upstream calls made by a bare AsyncOpenAI client."""
    client = openai.AsyncOpenAI(
        base_url=base_url,
        api_key="not-needed",
        max_retries=0,
        # The SDK's aiohttp client, as the service's ChatEndpoint uses, its pool sized alike.
        http_client=openai.DefaultAioHttpClient(
            limits=httpx2.Limits(
                max_connections=args.concurrency, max_keepalive_connections=args.concurrency
            )
        ),
    )
    n = args.k if args.supports_n else 1
    calls = args.items * (1 if args.supports_n else args.k)
    create: Any = client.chat.completions.create
    params: dict[str, Any] = {"n": n} if n > 1 else {}
    messages = [{"role": "user", "content": "query"}]

    async def call(_index: int) -> None:
        if args.stream:
            async for _chunk in await create(
                model="bench", messages=messages, stream=True, **params
            ):
                pass
        else:
            await create(model="bench", messages=messages, **params)

    cpu, started = cpu_seconds(), time.perf_counter()
    await bounded(calls, args.concurrency, call)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    await client.close()
    return Run(calls * n, seconds, cpu_seconds=cpu)


async def lean(base_url: str, args: argparse.Namespace) -> Run:
    """The lean bar: the same upstream calls posted with plain aiohttp."""
    n = args.k if args.supports_n else 1
    calls = args.items * (1 if args.supports_n else args.k)
    body: dict[str, Any] = {"model": "bench", "messages": [{"role": "user", "content": "query"}]}
    if n > 1:
        body["n"] = n
    if args.stream:
        body["stream"] = True
    async with LeanChatClient(base_url, connections=args.concurrency) as client:

        async def call(_index: int) -> None:
            if args.stream:
                await client.stream(body)
            else:
                await client.complete(body)

        cpu, started = cpu_seconds(), time.perf_counter()
        await bounded(calls, args.concurrency, call)
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    return Run(calls * n, seconds, cpu_seconds=cpu)


async def through_service(port: int, server_pid: int, args: argparse.Namespace) -> Run:
    """Generate for every item through the gRPC server, counting samples that are not OK."""
    # Enough items in flight to keep every upstream slot busy while answers stream back.
    items_in_flight = max(2, 2 * args.concurrency // (1 if args.supports_n else args.k))
    received = not_ok = 0
    async with AsyncJudgeClient(f"127.0.0.1:{port}", retry=None) as client:

        async def one(index: int) -> None:
            nonlocal received, not_ok
            request = judge_pb2.GenerateRequest(
                item=judge_pb2.Item(id=f"item-{index}", query=f"query {index}"),
                model="bench",
                k=args.k,
            )
            async for response in client.generate(request):
                received += 1
                not_ok += response.sample.status != judge_pb2.SAMPLE_STATUS_OK

        cpu, started = cpu_seconds(server_pid), time.perf_counter()
        await bounded(args.items, items_in_flight, one)
        seconds, cpu = time.perf_counter() - started, cpu_seconds(server_pid) - cpu
    return Run(received, seconds, not_ok, cpu)


async def bench(args: argparse.Namespace) -> None:
    """Start the stub and the server, warm up, measure direct then through the service."""
    stub, base_url = start_stub(model_under_test, latency_s=args.latency_s)
    with tempfile.TemporaryDirectory() as folder:
        backends = Path(folder) / "models.yaml"
        model = {
            "base_url": base_url,
            "model": "bench",
            "max_concurrency": args.concurrency,
            "max_retries": 0,
            "supports_n": args.supports_n,
            "stream": args.stream,
        }
        backends.write_text(yaml.safe_dump({"models": {"bench": model}}))
        server, port = await start_server(f"--backends={backends}")
        try:
            warmup = argparse.Namespace(**{**vars(args), "items": 50})
            await lean(base_url, warmup)
            await direct(base_url, warmup)
            await through_service(port, server.pid, warmup)
            share = argparse.Namespace(**{**vars(args), "items": args.items // args.rounds})
            passes = {
                "lean": lambda: lean(base_url, share),
                "sdk": lambda: direct(base_url, share),
                "bsa-judge": lambda: through_service(port, server.pid, share),
            }
            rounds: dict[str, list[Run]] = {name: [] for name in PASSES}
            for number in range(args.rounds):
                for name in PASSES[number % 3 :] + PASSES[: number % 3]:
                    rounds[name].append(await passes[name]())
        finally:
            server.terminate()
            await server.wait()
            stub.kill()
    report(args, rounds)


PASSES = ("lean", "sdk", "bsa-judge")


def report(args: argparse.Namespace, rounds: dict[str, list[Run]]) -> None:
    """Print the figures in the shape of bench/RESULTS.md."""
    totals = {name: Run() for name in PASSES}
    for name, runs in rounds.items():
        for run in runs:
            totals[name].add(run)
    per_call = args.k if args.supports_n else 1
    limit = args.concurrency / args.latency_s * per_call
    mode = "one n=k request" if args.supports_n else "k requests"
    streamed = ", streamed" if args.stream else ""
    cores = os.cpu_count()
    print(f"date       {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine    {platform.machine()}, {cores} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(
        f"workload   {args.items} items x k={args.k} ({mode} per item{streamed}), "
        f"concurrency {args.concurrency}, stub latency {args.latency_s * 1000:.0f} ms "
        f"(aiohttp OpenAI stub), {args.rounds} rounds, order rotated"
    )
    print(f"limit      {limit:8.1f} samples/s (concurrency / latency)")
    for name in PASSES:
        total = totals[name]
        per_round = " / ".join(f"{run.rate:.1f}" for run in rounds[name])
        print(
            f"{name:10} {total.rate:8.1f} samples/s ({total.samples} in {total.seconds:.1f} s, "
            f"{total.not_ok} not OK; rounds {per_round}), "
            f"CPU {total.cpu_ms_per_sample:.2f} ms/sample"
        )
    ours = totals["bsa-judge"]
    print(f"ratio      {ours.rate / limit:8.1%} of the limit")
    for bar in ("lean", "sdk"):
        ratios = [o.rate / b.rate for o, b in zip(rounds["bsa-judge"], rounds[bar], strict=True)]
        print(
            f"ratio      bsa-judge / {bar}: {ours.rate / totals[bar].rate:.1%} over all rounds "
            f"(rounds {' / '.join(f'{r:.1%}' for r in ratios)})"
        )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32, help="backend max_concurrency")
    parser.add_argument("--latency-s", type=float, default=0.2, help="stub reply latency")
    parser.add_argument("--supports-n", action="store_true", help="one n=k request per item")
    parser.add_argument("--stream", action="store_true", help="streamed completions")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of the three passes")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(bench(parse()))
