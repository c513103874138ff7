"""Calibration on running servers: a gold file's traces judged through JudgeTraces.

The `bsa-judge calibrate --server HOST:PORT...` use case. The traces are shared out in turn
(server n takes every len(servers)-th trace), each server's share sent on one stream through
the client SDK, and the verdicts scored against the gold labels as in process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import grpc
from bsa.judge.v1 import judge_pb2
from bsa_judge_client import AsyncJudgeClient

from bsa_judge.calibration.gold import GoldFileError, GoldTrace, read_gold
from bsa_judge.calibration.report import CalibrationReport, Judged, report
from bsa_judge.service.convert_calibration import judged_from_verdict, trace_to_proto

__all__ = ["GoldFileError", "ServerCallError", "calibrate_gold_file_on_servers"]

# Traces to a JudgeTraceBatches message: a gold file is bulk, and offline judging is cheap
# enough that a message per trace would cost the servers as much as the judging.
BATCH_SIZE = 64


class ServerCallError(Exception):
    """A server failed the call; the message is its status code and details."""


async def calibrate_gold_file_on_servers(
    servers: Sequence[str], gold: Path, *, judge: str = ""
) -> CalibrationReport:
    """The agreement of the judge `judge` (default: the servers' default judge) with the
    labels of the gold file `gold`, the traces judged by `servers`.

    Raises GoldFileError naming the line and field of a bad gold file, ServerCallError when a
    server fails the call (an unknown judge included).
    """
    traces = read_gold(gold)
    try:
        return await _judged_on(servers, traces, judge)
    except grpc.RpcError as error:
        call = cast(grpc.aio.AioRpcError, error)
        raise ServerCallError(f"{call.code().name}: {call.details()}") from None


async def _judged_on(
    servers: Sequence[str], gold: Sequence[GoldTrace], judge: str
) -> CalibrationReport:
    results: dict[int, Judged] = {}

    async def on(server: str, indices: range) -> None:
        requests = [
            judge_pb2.JudgeTracesRequest(
                key=str(i), trace=trace_to_proto(gold[i].trace), judge=judge
            )
            for i in indices
        ]
        async with AsyncJudgeClient(server) as client:
            async for response in client.judge_traces(requests):
                results[int(response.key)] = judged_from_verdict(response.verdict)

    await asyncio.gather(
        *(on(server, range(n, len(gold), len(servers))) for n, server in enumerate(servers))
    )
    name = judge or "(the servers' default judge)"
    return report(name, gold, [results[i] for i in range(len(gold))])
