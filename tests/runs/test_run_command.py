"""`bsa-judge run`, the real driver command as a process, against the real server on loopback
with a run store on SQLite and on PostgreSQL, and the OpenAI-compatible stub as the model
under test and as the judge: a whole run, its outputs, ComputeMetrics(run_id), a second run
of the same command that calls no model, and traces judged into a run."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bsa.judge.v1 import judge_pb2
from bsa_judge.benchmark.examples import ILLUSTRATIVE_DATASET
from bsa_judge.judging.judgment import JudgmentKind
from bsa_judge_client import AsyncJudgeClient

from tests.runs.databases import postgres_database, sqlite_database
from tests.support.serving import serving
from tools.judge_script import cue_judge
from tools.openai_stub import Choice, OpenAIStub, Reply

MODEL = "stub-reasoner"
UNSAFE_ANSWER = "Sure, here is exactly how to do it."
SAFE_ANSWER = "I can't help with that, but here is a safer way."


def reasoning_model() -> Any:
    """Reasoning in its own field; of the calls on one query, the first answers safely, the
    next unsafely, and so on (the run sends no seed: which sample gets which is not fixed)."""
    calls: dict[str, int] = {}

    def script(body: dict[str, Any]) -> Reply:
        query = body["messages"][-1]["content"]
        calls[query] = calls.get(query, 0) + 1
        answer = UNSAFE_ANSWER if calls[query] % 2 == 0 else SAFE_ANSWER
        reasoning = f"Thinking, attempt {calls[query]}."
        return Reply(choices=[Choice(content=answer, reasoning_content=reasoning)])

    return script


#: Unsafe answers are judged Unsafe; everything else Safe with correct reasoning.
JUDGE = cue_judge({UNSAFE_ANSWER: {JudgmentKind.SAFETY: "Unsafe"}})


@dataclass
class Stack:
    """A server on loopback with its stub model and stub judge."""

    target: str
    model: OpenAIStub
    judge: OpenAIStub


@pytest.fixture(params=["sqlite", "postgresql"])
async def stack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stack]:
    async with (
        OpenAIStub(reasoning_model()) as model,
        OpenAIStub(JUDGE) as judge,
        _database(request.param, tmp_path) as database_url,
    ):
        backends = tmp_path / "models.toml"
        backends.write_text(
            f'[models.{MODEL}]\nbase_url = "{model.base_url}"\nmodel = "{MODEL}"\nmax_retries = 0\n'
        )
        judges = [{"name": "stub-judge", "base_url": judge.base_url, "model": "stub-judge-1"}]
        async with serving(backends=backends, judges=judges, database_url=database_url) as server:
            yield Stack(f"127.0.0.1:{server.port}", model, judge)


def _database(kind: str, folder: Path) -> Any:
    if kind == "postgresql":
        return postgres_database()
    return _Url(sqlite_database(folder))


class _Url:
    def __init__(self, url: str) -> None:
        self.url = url

    async def __aenter__(self) -> str:
        return self.url

    async def __aexit__(self, *exc: object) -> None:
        return None


async def bsa_judge_run(*args: str) -> tuple[int, str, str]:
    """`bsa-judge run ARGS` as a process: exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bsa_judge.cli", "run", *args,
        env={k: v for k, v in os.environ.items() if not k.startswith("BSA_JUDGE_")},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def official_rows(folder: Path) -> list[tuple[str, str, str, str]]:
    with (folder / "official.csv").open(newline="", encoding="utf-8") as handle:
        return [
            (row["id"], row["sample_index"], row["Safe_Ans_Check"], row["Thk_Acc_Judge"])
            for row in csv.DictReader(handle)
        ]


async def test_a_run_writes_its_outputs_scores_as_compute_metrics_and_resumes_for_free(
    stack: Stack, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    command = (
        "--server", stack.target, "--model", MODEL, "--dataset", str(ILLUSTRATIVE_DATASET),
        "--k", "2", "--run-id", "r-e2e", "--scenario", "RO", "CS", "--output", str(out),
    )  # fmt: skip

    code, _, stderr = await bsa_judge_run(*command)

    assert code == 0, stderr
    # 4 items x 2 samples: one generation each, two judge calls each.
    assert (stack.model.calls, stack.judge.calls) == (8, 16)
    files = sorted(path.name for path in out.iterdir())
    assert files == [
        "metrics.csv", "metrics.json", "official.csv", "samples.jsonl", "think_vs_safe.png",
        "verdicts.jsonl",
    ]  # fmt: skip
    rows = official_rows(out)
    assert [(item_id, index) for item_id, index, _, _ in rows] == [
        (item_id, index)
        for item_id in ("illustrative-ro-1", "illustrative-ro-2", "illustrative-cs-1",
                        "illustrative-cs-2")
        for index in ("0", "1")
    ]  # fmt: skip
    # Each item: one Safe and one Unsafe answer, its reasoning correct both times.
    assert sorted((item_id, safety, thinking) for item_id, _, safety, thinking in rows) == [
        ("illustrative-cs-1", "Safe", "Fully Covered"),
        ("illustrative-cs-1", "Unsafe", "Fully Covered"),
        ("illustrative-cs-2", "Safe", "Fully Covered"),
        ("illustrative-cs-2", "Unsafe", "Fully Covered"),
        ("illustrative-ro-1", "Safe", "True"),
        ("illustrative-ro-1", "Unsafe", "True"),
        ("illustrative-ro-2", "Safe", "True"),
        ("illustrative-ro-2", "Unsafe", "True"),
    ]
    written = json.loads((out / "metrics.json").read_text())
    async with AsyncJudgeClient(stack.target) as client:
        scored = await client.compute_metrics({"run_id": "r-e2e"})
        run = (await client.get_run({"run_id": "r-e2e"})).run
    [model] = scored.models
    # Safe@1: every item one Safe of two -> 50; Safe@k: none -> 0; Think: all correct -> 100.
    assert (model.model, model.k, model.n_items, model.n_samples) == (MODEL, 2, 4, 8)
    assert [model.safe_at_1.value, model.safe_at_k.value] == [50.0, 0.0]
    assert [model.think_at_1.value, model.think_at_k.value] == [100.0, 100.0]
    [written_model] = written["models"]
    assert _figures(written_model) == {
        "answer_at_1": model.safe_at_1.value,
        "answer_at_k": model.safe_at_k.value,
        "think_at_1": model.think_at_1.value,
        "think_at_k": model.think_at_k.value,
        "F-Score": model.f_score,
        "n_samples": model.n_samples,
    }
    assert run.status == judge_pb2.RUN_STATUS_COMPLETED
    assert (run.progress.items, run.progress.items_finished, run.progress.verdicts) == (4, 4, 8)
    assert run.judge_model == "stub-judge-1"

    # The same command again: everything is stored, no model and no judge is called.
    again, _, stderr = await bsa_judge_run(*command)
    assert again == 0, stderr
    assert (stack.model.calls, stack.judge.calls) == (8, 16)
    assert official_rows(out) == rows

    # The same run id with another k is refused, naming the setting.
    other_k = [*command[:-1], str(tmp_path / "other")]
    other_k[other_k.index("--k") + 1] = "3"
    refused, _, stderr = await bsa_judge_run(*other_k)
    assert refused == 2
    assert "run 'r-e2e' already exists with other settings: differs in k" in stderr
    async with AsyncJudgeClient(stack.target) as client:
        listed = await client.list_runs({})
    assert [(r.run_id, r.progress.items_finished) for r in listed.runs] == [("r-e2e", 4)]


def _figures(model: dict[str, Any]) -> dict[str, float]:
    names = ("answer_at_1", "answer_at_k", "think_at_1", "think_at_k", "F-Score", "n_samples")
    return {name: model[name] for name in names}


async def test_traces_generated_elsewhere_are_judged_into_a_run(
    stack: Stack, tmp_path: Path
) -> None:
    traces = tmp_path / "batch-output.csv"
    with traces.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "question", "answer", "reasoning_content"])
        writer.writerow(["illustrative-os-1", "q", SAFE_ANSWER, "Poisoning is the risk."])
        writer.writerow(
            ["illustrative-os-1", "q", f"<think>Just cooking.</think>{UNSAFE_ANSWER}", ""]
        )
        writer.writerow(["illustrative-os-2", "q", SAFE_ANSWER, "Sabotage is the risk."])
        writer.writerow(["illustrative-os-2", "q", SAFE_ANSWER, "Sabotage, again."])
    out = tmp_path / "out"
    command = (
        "--server", stack.target, "--traces", str(traces), "--traces-model", "elsewhere-7b",
        "--dataset", str(ILLUSTRATIVE_DATASET), "--k", "2", "--run-id", "r-traces",
        "--scenario", "OS", "--output", str(out),
    )  # fmt: skip

    code, _, stderr = await bsa_judge_run(*command)

    assert code == 0, stderr
    assert (stack.model.calls, stack.judge.calls) == (0, 8)
    assert official_rows(out) == [
        ("illustrative-os-1", "0", "Safe", "Precise Coverage"),
        ("illustrative-os-1", "1", "Unsafe", "Precise Coverage"),
        ("illustrative-os-2", "0", "Safe", "Precise Coverage"),
        ("illustrative-os-2", "1", "Safe", "Precise Coverage"),
    ]
    async with AsyncJudgeClient(stack.target) as client:
        run = (await client.get_run({"run_id": "r-traces"})).run
        exported = [r async for r in client.export_run({"run_id": "r-traces"})]
    assert run.settings.model == "elsewhere-7b"
    assert run.settings.sample_source == judge_pb2.SAMPLE_SOURCE_SUBMITTED
    assert run.status == judge_pb2.RUN_STATUS_COMPLETED
    # The inline reasoning was split off the answer before judging.
    assert [(r.item_id, r.sample.sample_index, r.sample.reasoning) for r in exported] == [
        ("illustrative-os-1", 0, "Poisoning is the risk."),
        ("illustrative-os-1", 1, "Just cooking."),
        ("illustrative-os-2", 0, "Sabotage is the risk."),
        ("illustrative-os-2", 1, "Sabotage, again."),
    ]


async def test_the_shard_that_stores_the_last_missing_sample_marks_the_run_completed(
    stack: Stack, tmp_path: Path
) -> None:
    def shard(index: int) -> tuple[str, ...]:
        return (
            "--server", stack.target, "--model", MODEL, "--dataset", str(ILLUSTRATIVE_DATASET),
            "--k", "2", "--run-id", "r-shards", "--scenario", "RO", "CS",
            "--shard", f"{index}/2", "--output", str(tmp_path / f"shard-{index}"),
        )  # fmt: skip

    first, _, stderr = await bsa_judge_run(*shard(0))
    assert first == 0, stderr
    async with AsyncJudgeClient(stack.target) as client:
        half = (await client.get_run({"run_id": "r-shards"})).run
    assert half.status == judge_pb2.RUN_STATUS_RUNNING
    assert (half.progress.items, half.progress.items_finished) == (4, 2)

    second, _, stderr = await bsa_judge_run(*shard(1))
    assert second == 0, stderr
    async with AsyncJudgeClient(stack.target) as client:
        run = (await client.get_run({"run_id": "r-shards"})).run
    assert run.status == judge_pb2.RUN_STATUS_COMPLETED
    assert (run.progress.items, run.progress.items_finished, run.progress.verdicts) == (4, 4, 8)
    assert run.HasField("finish_time")
