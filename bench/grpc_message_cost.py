"""What a gRPC message costs in Python: CPU per trace of a bidirectional grpc.aio stream that
only echoes, one trace to a message versus N traces to a message, client and server each.

    .venv/bin/python bench/grpc_message_cost.py [--traces 20000] [--batch 16] [--rounds 2]

The server is a process of its own (grpc.aio on uvloop, as `bsa-judge serve`) whose handler
answers every message with one reply message and does nothing else; the client streams
JudgeTracesRequest messages of a bench-sized trace (1.2 KB of reasoning, 0.6 KB of answer)
with at most 200 traces unanswered. A batch of N is one message carrying N traces' worth of
text, answered by one reply: the cost of the messages themselves, whatever the service does
with them. This is why JudgeTraceBatches exists (issue 11).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import uvloop
from bsa.judge.v1 import judge_pb2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.processes import cpu_seconds

METHOD = "/bench.Echo/Stream"
IN_FLIGHT = 200


def _message(traces: int) -> judge_pb2.JudgeTracesRequest:
    """One message with `traces` traces' worth of text."""
    item = judge_pb2.Item(id="item", query="q" * 100, risk_summary="r" * 100)
    return judge_pb2.JudgeTracesRequest(
        key="key",
        trace=judge_pb2.Trace(item=item, reasoning="t" * 1200 * traces, answer="a" * 600 * traces),
    )


async def serve(port: int) -> None:
    """The echo server: one reply per message read."""
    reply = judge_pb2.JudgeTracesResponse(key="key", verdict=judge_pb2.Verdict())

    async def stream(requests: AsyncIterator[Any], context: Any) -> AsyncIterator[Any]:
        async for _ in requests:
            yield reply

    handler = grpc.stream_stream_rpc_method_handler(
        stream,
        request_deserializer=judge_pb2.JudgeTracesRequest.FromString,
        response_serializer=judge_pb2.JudgeTracesResponse.SerializeToString,
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("bench.Echo", {"Stream": handler}),)
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


async def send(port: int, traces: int, batch: int) -> None:
    """`traces` traces in messages of `batch`, at most IN_FLIGHT traces unanswered."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.stream_stream(
            METHOD,
            request_serializer=judge_pb2.JudgeTracesRequest.SerializeToString,
            response_deserializer=judge_pb2.JudgeTracesResponse.FromString,
        )()
        message = _message(batch)
        window = asyncio.Semaphore(max(1, IN_FLIGHT // batch))

        async def write() -> None:
            for _ in range(traces // batch):
                await window.acquire()
                await call.write(message)
            await call.done_writing()

        writer = asyncio.create_task(write())
        async for _ in call:
            window.release()
        await writer


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--traces", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        uvloop.run(serve(args.serve))
        return
    port = 50_000 + os.getpid() % 10_000
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    server.stdout.readline()  # ready
    print(f"date       {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine    {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, grpcio {grpc.__version__}, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    try:
        for _ in range(args.rounds):
            for batch in (1, args.batch):
                uvloop.run(send(port, 2_000, batch))  # warm up
                client, served = cpu_seconds(), cpu_seconds(server.pid)
                started = time.perf_counter()
                uvloop.run(send(port, args.traces, batch))
                seconds = time.perf_counter() - started
                client, served = cpu_seconds() - client, cpu_seconds(server.pid) - served
                print(
                    f"{batch:3d} trace(s) a message: {args.traces / seconds:8.0f} traces/s, "
                    f"CPU ms per trace: client {client / args.traces * 1000:.4f}, "
                    f"server {served / args.traces * 1000:.4f}"
                )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
