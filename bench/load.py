"""Reliability under steady load: 64 JudgeTraces streams at a fixed offered load of about half
the measured capacity, against a stub judge answering after a random 0.2-2 s, for minutes.

Three processes on loopback: the OpenAI-compatible stub, `bsa-judge serve` (one judge backend)
and this script, the client. Each stream sends its share of the offered load at a steady pace
(distinct traces, so the verdict cache never answers). Every few seconds the server's RSS is
sampled from /proc. At the end every key must have exactly one verdict.

    .venv/bin/python bench/load.py                          # 64 streams, 60 traces/s, 180 s
    .venv/bin/python bench/load.py --seconds 30 --rate 60   # a quick look

Figures: traces/s delivered, verdicts not OK, stream errors, keys without a verdict or with
more than one, the server's RSS over time and the change of its mean RSS between the two
quarters of the second half (target: within 10%, no errors).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support: the stub and the judge script the tests use

from bench.judge_throughput import _request  # noqa: E402
from bench.processes import start_server, start_stub  # noqa: E402
from tools.judge_script import AGREEABLE, judge_call, reply, verdict_text  # noqa: E402
from tools.openai_stub import Reply, Script  # noqa: E402

LATENCY_S = (0.2, 2.0)


def random_latency_judge(body: dict[str, Any]) -> Reply:
    """An agreeable verdict after a random 0.2-2 s."""
    kind = judge_call(body).kind
    return reply(verdict_text(AGREEABLE[kind]), delay_s=random.uniform(*LATENCY_S))


def random_latency_script() -> Script:
    """The stub's script (built in the stub's process)."""
    return random_latency_judge


def rss_mb(pid: int) -> float:
    """The resident set size of process `pid`, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class Tally:
    """Verdicts by key, statuses and errors, from every stream."""

    def __init__(self) -> None:
        self.sent: set[str] = set()
        self.verdicts: Counter[str] = Counter()
        self.not_ok = 0
        self.errors: list[str] = []


async def one_stream(port: int, stream: int, per_second: float, until: float, tally: Tally) -> None:
    """Send traces at `per_second` until `until`, then half-close and read every verdict."""

    async def requests() -> AsyncIterator[judge_pb2.JudgeTracesRequest]:
        number = 0
        next_at = time.monotonic() + random.uniform(0, 1 / per_second)
        while next_at < until:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            request = _request(stream * 10_000_000 + number)
            tally.sent.add(request.key)
            yield request
            number += 1
            next_at += 1 / per_second

    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            async for response in judge_pb2_grpc.JudgeServiceStub(channel).JudgeTraces(requests()):
                tally.verdicts[response.key] += 1
                tally.not_ok += response.verdict.status != judge_pb2.JUDGMENT_STATUS_OK
        except grpc.aio.AioRpcError as error:
            tally.errors.append(f"stream {stream}: {error.code().name} {error.details()}")


async def run(args: argparse.Namespace) -> None:
    print(f"date       {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine    {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    stub, base_url = start_stub(random_latency_script)
    judge = {
        "name": "load",
        "base_url": base_url,
        "model": "judge",
        "max_concurrency": 1024,
        "max_retries": 0,
        "request_timeout_s": 30,
    }
    server, port = await start_server(env={"BSA_JUDGE_JUDGES": json.dumps([judge])})
    tally = Tally()
    samples: list[tuple[float, float]] = []
    try:
        started = time.monotonic()
        until = started + args.seconds
        streams = [
            asyncio.create_task(one_stream(port, n, args.rate / args.streams, until, tally))
            for n in range(args.streams)
        ]
        while not all(stream.done() for stream in streams):
            samples.append((time.monotonic() - started, rss_mb(server.pid)))
            await asyncio.wait(streams, timeout=args.sample_s)
        elapsed = time.monotonic() - started
        samples.append((elapsed, rss_mb(server.pid)))
    finally:
        server.terminate()
        await server.wait()
        stub.kill()
    report(args, tally, samples, elapsed)


def report(
    args: argparse.Namespace, tally: Tally, samples: list[tuple[float, float]], elapsed: float
) -> None:
    delivered = sum(tally.verdicts.values())
    missing = len(tally.sent - set(tally.verdicts))
    repeated = sum(1 for count in tally.verdicts.values() if count > 1)
    print(
        f"workload   {args.streams} streams, offered {args.rate:.0f} traces/s for "
        f"{args.seconds:.0f} s, stub latency {LATENCY_S[0]}-{LATENCY_S[1]} s"
    )
    print(
        f"delivered  {delivered} verdicts for {len(tally.sent)} traces in {elapsed:.1f} s: "
        f"{delivered / elapsed:.1f} traces/s"
    )
    print(
        f"errors     {len(tally.errors)} streams failed, {tally.not_ok} verdicts not OK, "
        f"{missing} keys without a verdict, {repeated} keys with more than one"
    )
    for error in tally.errors[:5]:
        print(f"           {error}")
    print("rss (MB)   " + ", ".join(f"{t:.0f}s {mb:.0f}" for t, mb in samples))
    second_half = [mb for t, mb in samples if t >= args.seconds / 2 and t <= args.seconds]
    if len(second_half) >= 2:
        middle = len(second_half) // 2
        early, late = second_half[:middle], second_half[middle:]
        change = (sum(late) / len(late)) / (sum(early) / len(early)) - 1
        print(
            f"rss flat   second half: {min(second_half):.0f}-{max(second_half):.0f} MB, "
            f"mean of its last quarter vs. its first {change:+.1%}"
        )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=64)
    parser.add_argument(
        "--rate",
        type=float,
        default=60.0,
        help="offered traces/s over all streams (about half the measured capacity, "
        "bench/RESULTS.md)",
    )
    parser.add_argument("--seconds", type=float, default=180.0, help="how long traces are sent")
    parser.add_argument("--sample-s", type=float, default=10.0, help="RSS sampling period")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(run(parse()))
