"""Concurrent big ComputeMetrics calls: the server's peak RSS, which calls are refused, and how
long health checks take meanwhile (issue 10, defect 7: six 1M-sample calls once reached 2.3 GB
and 2.7 s health checks).

`bsa-judge serve` as a subprocess; this script sends `--calls` identical requests of
`--samples` samples at once (built as bytes, sent as they are), polls health every 50 ms and
samples the server's RSS from /proc every 50 ms until every call has ended.

    .venv/bin/python bench/heavy_metrics.py                      # max_heavy_calls 2, the default
    .venv/bin/python bench/heavy_metrics.py --max-heavy-calls 6  # no effective limit
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import grpc
from bsa.judge.v1 import judge_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import rss_mb  # noqa: E402
from bench.processes import start_server  # noqa: E402

K = 5


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    length, size = bytearray(), len(payload)
    while True:
        byte, size = size & 0x7F, size >> 7
        length.append(byte | (0x80 if size else 0))
        if not size:
            break
    return bytes([number << 3 | 2]) + bytes(length) + payload


def request_bytes(samples: int) -> bytes:
    """A ComputeMetricsRequest of `samples` inline samples (k = 5), serialized."""
    templates = [
        judge_pb2.ScoredSample(
            model="m",
            item_id="item-XXXXXXXX",
            scenario=judge_pb2.SCENARIO_RISK_OMISSION,
            sample_index=index,
            safety_label=judge_pb2.SAFETY_LABEL_SAFE,
            thinking_label=judge_pb2.THINKING_LABEL_RISK_IDENTIFIED,
        ).SerializeToString()
        for index in range(K)
    ]
    rows = b"".join(
        _field(1, templates[row % K].replace(b"XXXXXXXX", b"%08d" % (row // K)))
        for row in range(samples)
    )
    return _field(1, rows) + judge_pb2.ComputeMetricsRequest(k=K).SerializeToString()


async def run(args: argparse.Namespace) -> None:
    body = request_bytes(args.samples)
    print(f"date       {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine    {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    env = {"BSA_JUDGE_MAX_HEAVY_CALLS": str(args.max_heavy_calls)}
    server, port = await start_server("--max-message-bytes", str(256 << 20), env=env)
    peak = idle = rss_mb(server.pid)
    health_s: list[float] = []
    options = [("grpc.max_send_message_length", 256 << 20)]
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
            compute = channel.unary_unary("/bsa.judge.v1.JudgeService/ComputeMetrics")
            health = health_pb2_grpc.HealthStub(channel)

            async def one() -> str:
                try:
                    await compute(body)
                except grpc.aio.AioRpcError as error:
                    return error.code().name
                return "OK"

            calls = [asyncio.create_task(one()) for _ in range(args.calls)]
            while not all(call.done() for call in calls):
                started = time.perf_counter()
                await health.Check(health_pb2.HealthCheckRequest())
                health_s.append(time.perf_counter() - started)
                peak = max(peak, rss_mb(server.pid))
                await asyncio.sleep(0.05)
            outcomes = Counter([call.result() for call in calls])
    finally:
        server.terminate()
        await server.wait()
    print(
        f"workload   {args.calls} concurrent ComputeMetrics of {args.samples:,} samples "
        f"({len(body) / 1e6:.0f} MB each), max_heavy_calls {args.max_heavy_calls}"
    )
    print(f"outcomes   {dict(outcomes)}")
    print(f"rss        idle {idle:.0f} MB, peak {peak:.0f} MB")
    health_s.sort()
    print(
        f"health     {len(health_s)} checks: median {health_s[len(health_s) // 2] * 1000:.0f} ms, "
        f"max {health_s[-1] * 1000:.0f} ms"
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--max-heavy-calls", type=int, default=2)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(run(parse()))
