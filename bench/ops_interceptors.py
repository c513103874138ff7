"""What the operations interceptors cost per RPC: a tiny unary echo method served with no
interceptor, with the Prometheus interceptor, and with bearer-token auth plus Prometheus.

The server runs in its own process on loopback; this script is the client. For each
setting: the median latency of sequential calls, and calls per second with 64 in flight.

    .venv/bin/python bench/ops_interceptors.py
    .venv/bin/python bench/ops_interceptors.py --sequential 5000 --concurrent 20000
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import platform
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from multiprocessing.connection import Connection

import grpc
from bsa_judge.service.interceptors.auth import BearerTokenAuth
from bsa_judge.service.interceptors.prometheus import PrometheusInterceptor

TOKEN = "bench-token-0123456789abcdef"
ECHO = "/bench.Echo/Echo"
SETTINGS = ("none", "metrics", "auth+metrics")


def _interceptors(setting: str) -> Sequence[grpc.aio.ServerInterceptor]:
    return {
        "none": [],
        "metrics": [PrometheusInterceptor()],
        "auth+metrics": [BearerTokenAuth([TOKEN, "another-token"]), PrometheusInterceptor()],
    }[setting]


async def _echo(request: bytes, _context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    return request


async def _serve(setting: str, ready: Connection) -> None:
    server = grpc.aio.server(interceptors=_interceptors(setting))
    handler = grpc.unary_unary_rpc_method_handler(_echo)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("bench.Echo", {"Echo": handler}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    ready.send(port)
    await asyncio.to_thread(ready.recv)  # until the client is done
    await server.stop(0)


def _server_process(setting: str, ready: Connection) -> None:
    asyncio.run(_serve(setting, ready))


async def _measure(port: int, sequential: int, concurrent: int) -> tuple[float, float]:
    metadata = (("authorization", f"Bearer {TOKEN}"),)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        echo = channel.unary_unary(ECHO)
        for _ in range(200):  # warm-up
            await echo(b"x" * 64, metadata=metadata)
        latencies = []
        for _ in range(sequential):
            started = time.perf_counter()
            await echo(b"x" * 64, metadata=metadata)
            latencies.append(time.perf_counter() - started)
        slots = asyncio.Semaphore(64)

        async def one() -> None:
            async with slots:
                await echo(b"x" * 64, metadata=metadata)

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(concurrent)))
        rate = concurrent / (time.perf_counter() - started)
    return statistics.median(latencies) * 1e6, rate


def _run(setting: str, sequential: int, concurrent: int) -> tuple[float, float]:
    # spawn, not fork: gRPC does not survive a fork of a process that has used it.
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=_server_process, args=(setting, theirs))
    server.start()
    port = ours.recv()
    try:
        return asyncio.run(_measure(port, sequential, concurrent))
    finally:
        ours.send("done")
        server.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", type=int, default=3000)
    parser.add_argument("--concurrent", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3, help="settings interleaved, N times")
    args = parser.parse_args()
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {args.rounds} rounds")
    print(f"# sequential={args.sequential} concurrent={args.concurrent} (64 in flight)")
    results: dict[str, list[tuple[float, float]]] = {setting: [] for setting in SETTINGS}
    for _ in range(args.rounds):  # interleaved, so that background load hits every setting
        for setting in SETTINGS:
            results[setting].append(_run(setting, args.sequential, args.concurrent))
    print(f"{'interceptors':<14} {'median µs':>10} {'calls/s':>9}  (medians over rounds)")
    for setting, runs in results.items():
        median_us = statistics.median(run[0] for run in runs)
        rate = statistics.median(run[1] for run in runs)
        print(f"{setting:<14} {median_us:>10.0f} {rate:>9.0f}")


if __name__ == "__main__":
    main()
