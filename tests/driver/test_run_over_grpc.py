"""`bsa-judge run` as a process, through the real client SDK and real gRPC, against a loopback
server of the test's own that implements the run RPCs from an in-memory store: the token
arrives, a stream broken with UNAVAILABLE is resumed, and the outputs are written."""

from __future__ import annotations

import asyncio
import csv
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc
from bsa_judge.benchmark.examples import ILLUSTRATIVE_DATASET

from tests.driver.fake_client import CORRECT_THINKING
from tests.support.loopback_servicer import serving_servicer


class StoringJudge(judge_pb2_grpc.JudgeServiceServicer):
    """CreateRun and EvaluateItems over a dict; the first stream breaks after two samples."""

    def __init__(self) -> None:
        self.settings: dict[str, judge_pb2.RunSettings] = {}
        self.stored: dict[tuple[str, int], judge_pb2.EvaluateItemsResponse] = {}
        self.generated = 0
        self.streams = 0
        self.authorization: set[str] = set()

    async def CreateRun(  # noqa: N802
        self, request: judge_pb2.CreateRunRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> judge_pb2.CreateRunResponse:
        self.authorization.add(dict(context.invocation_metadata() or ())["authorization"])
        self.settings[request.run_id] = request.settings
        return judge_pb2.CreateRunResponse(
            run=judge_pb2.Run(run_id=request.run_id, settings=request.settings), created=True
        )

    async def EvaluateItems(  # noqa: N802
        self,
        requests: AsyncIterator[judge_pb2.EvaluateItemsRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[judge_pb2.EvaluateItemsResponse]:
        self.streams += 1
        sent = 0
        async for request in requests:
            k = self.settings[request.run_id].k
            for index in range(k):
                if self.streams == 1 and sent == 2:
                    await context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")
                key = (request.item.id, index)
                if key not in self.stored:
                    self.generated += 1
                    self.stored[key] = judge_pb2.EvaluateItemsResponse(
                        item_id=request.item.id,
                        sample=judge_pb2.Sample(
                            sample_index=index, reasoning="r", answer="a", status=1
                        ),
                        verdict=judge_pb2.Verdict(
                            item_id=request.item.id,
                            sample_index=index,
                            model=self.settings[request.run_id].model,
                            scenario=request.item.scenario,
                            safety_label=judge_pb2.SAFETY_LABEL_SAFE,
                            thinking_label=CORRECT_THINKING[request.item.scenario],
                            status=judge_pb2.JUDGMENT_STATUS_OK,
                            sample_status=judge_pb2.SAMPLE_STATUS_OK,
                        ),
                    )
                sent += 1
                yield self.stored[key]


@pytest.fixture
async def server() -> AsyncIterator[tuple[StoringJudge, str]]:
    servicer = StoringJudge()
    async with serving_servicer(servicer) as target:
        yield servicer, target


async def test_the_command_runs_resumes_a_broken_stream_and_writes_the_outputs(
    server: tuple[StoringJudge, str], tmp_path: Path
) -> None:
    servicer, target = server
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bsa_judge.cli", "run", "--server", target, "--model", "m1",
        "--dataset", str(ILLUSTRATIVE_DATASET), "--k", "2", "--run-id", "r1",
        "--scenario", "RO", "CS", "--output", str(tmp_path / "out"),
        env={**os.environ, "BSA_JUDGE_TOKEN": "secret-token"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)

    assert process.returncode == 0, stderr.decode()
    assert "stream broke (UNAVAILABLE)" in stderr.decode()
    assert (servicer.streams, servicer.generated) == (2, 8)
    assert servicer.authorization == {"Bearer secret-token"}
    assert servicer.settings["r1"].selection.description == "scenario=RO,CS"
    assert servicer.settings["r1"].selection.item_count == 4
    with (tmp_path / "out" / "official.csv").open(newline="", encoding="utf-8") as handle:
        rows = [(r["id"], r["sample_index"], r["Thk_Acc_Judge"]) for r in csv.DictReader(handle)]
    assert rows == [
        ("illustrative-ro-1", "0", "True"),
        ("illustrative-ro-1", "1", "True"),
        ("illustrative-ro-2", "0", "True"),
        ("illustrative-ro-2", "1", "True"),
        ("illustrative-cs-1", "0", "Fully Covered"),
        ("illustrative-cs-1", "1", "Fully Covered"),
        ("illustrative-cs-2", "0", "Fully Covered"),
        ("illustrative-cs-2", "1", "Fully Covered"),
    ]
    assert "100.00" in stdout.decode()
