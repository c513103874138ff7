"""Added latency: what the service adds to a judge call at half of its capacity, and its tail.

Processes on loopback: the OpenAI-compatible test stub (aiohttp, tools/
openai_stub.py) answering every judge call after `--latency-ms` (50 ms), `bsa-judge serve`
with one judge backend, and this script keeping `--streams` JudgeTraces streams open (64),
each sending one trace at a time at random (Poisson) moments, `--rate` traces per second in
all: about half of what the service judges at saturation on this machine (bench/
judge_throughput.py: ~250-300 traces/s with no stub latency). A trace's two judge calls run
concurrently, so the added latency of a trace is its time from request to verdict minus the
stub's latency.

A bench-only hook in the server process (a gc callback, passed as a prelude to the CLI)
writes every full collection, and any collection of 5 ms or more, to the log; the script
reports them and how many of the slowest 1% of traces had one running while they waited.
`--untuned` makes the server's collector tuning (service/gc_tuning.py) a no-op in that
process, to measure the same code without it.

    .venv/bin/python bench/latency_tail.py                 # 3 runs, fresh processes each
    .venv/bin/python bench/latency_tail.py --untuned       # the same without the tuning

Figures per run: traces, added latency p50 / p90 / p99 / max, collections seen.
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
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tools: the stub and the judge script the tests use

from bench.judge_throughput import _request  # noqa: E402
from bench.processes import start_server, start_stub  # noqa: E402
from tools.judge_script import agreeable_judge  # noqa: E402

#: Run in the server process before the CLI: log full (and slow) collections as JSON lines.
GC_LOG = """
import gc, json, sys, time
_started = [0.0, 0.0]
def _bench_gc_log(phase, info):
    if phase == "start":
        _started[0], _started[1] = time.perf_counter(), time.time()
        return
    took_ms = (time.perf_counter() - _started[0]) * 1000
    if info["generation"] == 2 or took_ms >= 5:
        sys.stdout.write(json.dumps({"event": "bench_gc", "generation": info["generation"],
            "started": _started[1], "duration_ms": took_ms}) + "\\n")
        sys.stdout.flush()
gc.callbacks.append(_bench_gc_log)
"""
#: With --untuned: the server's tuning calls do nothing (gc.collect still runs).
UNTUNED = "\nimport gc\ngc.freeze = lambda: None\ngc.set_threshold = lambda *a: None\n"


@dataclass(frozen=True)
class Timed:
    """One trace: when it was sent (wall clock) and how long its verdict took."""

    sent: float
    seconds: float


async def one_stream(stub: Any, rate: float, until: float, first: int) -> list[Timed]:
    """One JudgeTraces stream: a trace at Poisson moments of `rate`, one at a time."""
    queue: asyncio.Queue[judge_pb2.JudgeTracesRequest | None] = asyncio.Queue()

    async def requests() -> AsyncIterator[judge_pb2.JudgeTracesRequest]:
        while (request := await queue.get()) is not None:
            yield request

    call = stub.JudgeTraces(requests())
    timed: list[Timed] = []
    chance = random.Random(first)
    index = first
    next_at = time.perf_counter() + chance.expovariate(rate)
    while next_at < until:
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        sent, started = time.time(), time.perf_counter()
        await queue.put(_request(index))
        response = await call.read()
        assert response.verdict.status == judge_pb2.JUDGMENT_STATUS_OK, response
        timed.append(Timed(sent, time.perf_counter() - started))
        index += 1
        next_at = max(next_at + chance.expovariate(rate), time.perf_counter())
    await queue.put(None)
    await call.read()  # the end of the stream
    return timed


def percentile(values: list[float], level: float) -> float:
    """The `level` quantile (0-1) of values, numpy's linear way."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * level
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])


async def run_once(args: argparse.Namespace, number: int) -> dict[str, Any]:
    """Fresh stub and server; warm up; `--seconds` of load; the figures of this run."""
    latency_s = args.latency_ms / 1000
    stub_process, base_url = start_stub(agreeable_judge, delay_s=latency_s)
    judge = {
        "name": "bench",
        "base_url": base_url,
        "model": "judge",
        "max_concurrency": 4 * args.streams,
        "max_retries": 0,
    }
    events: list[dict[str, Any]] = []
    server, port = await start_server(
        env={
            "BSA_JUDGE_JUDGES": json.dumps([judge]),
            **dict(setting.split("=", 1) for setting in args.server_env),
        },
        prelude=GC_LOG + (UNTUNED if args.untuned else ""),
        events=events,
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = judge_pb2_grpc.JudgeServiceStub(channel)
            per_stream = args.rate / args.streams
            warm = time.perf_counter() + 3
            await asyncio.gather(
                *(one_stream(stub, per_stream, warm, 90_000_000 + s * 10_000) for s in range(8))
            )
            events.clear()
            until = time.perf_counter() + args.seconds
            started = time.time()
            streams = await asyncio.gather(
                *(
                    one_stream(stub, per_stream, until, number * 10_000_000 + s * 100_000)
                    for s in range(args.streams)
                )
            )
            elapsed = time.time() - started
    finally:
        server.terminate()
        await server.wait()
        stub_process.kill()
    timed = [t for stream in streams for t in stream]
    added = [(t.seconds - latency_s) * 1000 for t in timed]
    collections = [e for e in events if e.get("event") == "bench_gc"]
    full = [e for e in collections if e["generation"] == 2]
    cutoff = percentile(added, 0.99)
    slowest = [t for t, a in zip(timed, added, strict=True) if a >= cutoff]

    def overlapped(trace: Timed) -> bool:
        return any(
            e["started"] < trace.sent + trace.seconds
            and e["started"] + e["duration_ms"] / 1000 > trace.sent
            for e in full
        )

    return {
        "traces": len(timed),
        "rate": len(timed) / elapsed,
        "p50": percentile(added, 0.5),
        "p90": percentile(added, 0.9),
        "p99": cutoff,
        "max": max(added),
        "full_collections": len(full),
        "full_ms": [round(e["duration_ms"], 1) for e in full],
        "slow_collections": sorted(
            round(e["duration_ms"], 1) for e in collections if e["generation"] != 2
        ),
        "slowest": len(slowest),
        "slowest_during_full": sum(overlapped(t) for t in slowest),
    }


async def bench(args: argparse.Namespace) -> None:
    """`--runs` runs, each in fresh processes."""
    print(f"date       {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine    {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"workload   {args.streams} JudgeTraces streams, {args.rate:.0f} traces/s in all "
        f"(Poisson), stub latency {args.latency_ms:.0f} ms (aiohttp OpenAI stub), "
        f"{args.seconds:.0f} s per run, collector {'untuned' if args.untuned else 'tuned'}"
    )
    p99s = []
    for number in range(args.runs):
        result = await run_once(args, number)
        p99s.append(result["p99"])
        print(
            f"run {number + 1}      {result['traces']} traces ({result['rate']:.1f}/s), added "
            f"latency ms p50 {result['p50']:.1f} p90 {result['p90']:.1f} "
            f"p99 {result['p99']:.1f} max {result['max']:.1f}; full collections "
            f"{result['full_collections']} {result['full_ms']} ms, younger ones of 5 ms or more: "
            f"{len(result['slow_collections'])} (longest "
            f"{max(result['slow_collections'], default=0)} ms); "
            f"slowest 1%: {result['slowest_during_full']} of "
            f"{result['slowest']} waited through a full collection"
        )
    print(f"p99        {min(p99s):.1f}-{max(p99s):.1f} ms over {args.runs} runs")
    print(f"load       average {os.getloadavg()[0]:.1f} at the end")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=64)
    parser.add_argument("--rate", type=float, default=130.0, help="traces/s over all streams")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="stub reply latency")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--untuned", action="store_true", help="no collector tuning")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the server (e.g. BSA_JUDGE_EVENT_LOOP=asyncio), repeatable",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(bench(parse()))
