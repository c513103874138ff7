"""Generate throughput: 2,000 items x k=5 through the real server against a fixed-latency stub.

Three processes on loopback, as in production: the OpenAI-compatible stub (every reply takes
`--latency-s`), `bsa-judge serve` with one model backend limited to `--concurrency`, and this
script as the gRPC client (the client SDK), keeping enough items in flight to saturate the
backend. In the same run, a direct AsyncOpenAI client makes the same upstream calls against
the same stub at the same concurrency: that is the bar (target: at least 90% of it).

The machine may be shared, so the two take turns: `--rounds` rounds, each a slice of the
items run direct then through the service (the order alternating between rounds), and the
totals are compared. CPU seconds per sample (this process for the direct client, the server
process for the service) are reported too: they do not depend on what else is running.

    .venv/bin/python bench/generate_throughput.py                 # k requests per item
    .venv/bin/python bench/generate_throughput.py --supports-n    # one n=k request per item
    .venv/bin/python bench/generate_throughput.py --stream        # streamed completions

Figures: samples/s, the ratio to the limit (concurrency / latency calls per second, times
the samples per call), the ratio to the direct client, and CPU milliseconds per sample.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx2
import openai
import yaml
from bsa_judge_client import AsyncJudgeClient, judge_pb2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tools.openai_stub: the stub the tests use

from bench.processes import bounded, start_server  # noqa: E402
from tools.openai_stub import Choice, OpenAIStub, Reply  # noqa: E402

COMPLETION = "<think>The request asks for something risky; I should decline.</think>No."


def _run_stub(latency_s: float, ready: Connection) -> None:
    """The stub process: serve until killed; send the base URL through `ready`."""

    async def serve_forever() -> None:
        def script(body: dict[str, Any]) -> Reply:
            n = int(body.get("n") or 1)
            return Reply(choices=[Choice(content=COMPLETION)] * n, delay_s=latency_s)

        async with OpenAIStub(script) as stub:
            ready.send(stub.base_url)
            await asyncio.Event().wait()

    asyncio.run(serve_forever())


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


def _cpu_seconds(pid: int | None = None) -> float:
    """User plus system CPU seconds of a process (this one by default); Linux /proc."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def direct(base_url: str, args: argparse.Namespace) -> Run:
    """The bar: the same upstream calls made by a bare AsyncOpenAI client."""
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

    cpu, started = _cpu_seconds(), time.perf_counter()
    await bounded(calls, args.concurrency, call)
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    await client.close()
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

        cpu, started = _cpu_seconds(server_pid), time.perf_counter()
        await bounded(args.items, items_in_flight, one)
        seconds, cpu = time.perf_counter() - started, _cpu_seconds(server_pid) - cpu
    return Run(received, seconds, not_ok, cpu)


async def bench(args: argparse.Namespace) -> None:
    """Start the stub and the server, warm up, measure direct then through the service."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    stub = context.Process(target=_run_stub, args=(args.latency_s, send), daemon=True)
    stub.start()
    base_url = receive.recv()
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
            await direct(base_url, warmup)
            await through_service(port, server.pid, warmup)
            bar, ours = Run(), Run()
            share = argparse.Namespace(**{**vars(args), "items": args.items // args.rounds})
            for round_number in range(args.rounds):
                turns = [
                    lambda: direct(base_url, share),
                    lambda: through_service(port, server.pid, share),
                ]
                totals = [bar, ours]
                if round_number % 2:
                    turns.reverse()
                    totals.reverse()
                for turn, total in zip(turns, totals, strict=True):
                    total.add(await turn())
        finally:
            server.terminate()
            await server.wait()
            stub.kill()
    report(args, bar, ours)


def report(args: argparse.Namespace, bar: Run, ours: Run) -> None:
    """Print the figures in the shape of bench/RESULTS.md."""
    per_call = args.k if args.supports_n else 1
    limit = args.concurrency / args.latency_s * per_call
    mode = "one n=k request" if args.supports_n else "k requests"
    streamed = ", streamed" if args.stream else ""
    cores = os.cpu_count()
    print(f"date       {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine    {platform.machine()}, {cores} cores, Python {platform.python_version()}")
    print(
        f"workload   {args.items} items x k={args.k} ({mode} per item{streamed}), "
        f"concurrency {args.concurrency}, stub latency {args.latency_s * 1000:.0f} ms, "
        f"{args.rounds} alternating rounds"
    )
    print(f"limit      {limit:8.1f} samples/s (concurrency / latency)")
    print(f"direct     {bar.rate:8.1f} samples/s ({bar.samples} in {bar.seconds:.1f} s)")
    print(
        f"bsa-judge  {ours.rate:8.1f} samples/s "
        f"({ours.samples} in {ours.seconds:.1f} s, {ours.not_ok} not OK)"
    )
    print(f"ratio      {ours.rate / limit:8.1%} of the limit, {ours.rate / bar.rate:.1%} of direct")
    print(
        f"cpu        {bar.cpu_ms_per_sample:8.2f} ms/sample direct client, "
        f"{ours.cpu_ms_per_sample:.2f} ms/sample bsa-judge server"
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
    parser.add_argument("--rounds", type=int, default=4, help="alternating direct/service turns")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(bench(parse()))
