"""`bsa-judge report --server HOST:PORT --run-id ID`: stored runs read through the client SDK
over real gRPC, from a loopback server of the test's own that serves GetRun and ExportRun
from the small run of tests/report/small_run.py (two models on three items, k = 2), and
from the real server after `bsa-judge run` stored a run there."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc
from bsa_judge.benchmark.examples import ILLUSTRATIVE_DATASET
from bsa_judge.cli import main

from tests.report.small_run import (
    ITEMS,
    PLANTED,
    K,
    traces,
    verdicts,
    write_dataset,
    write_run_folder,
)
from tests.runs.test_run_command import MODEL, Stack, bsa_judge_run
from tests.runs.test_run_command import stack as stack  # the real server, SQLite and PostgreSQL
from tests.support.loopback_servicer import serving_servicer

#: careful-model's verdicts are stored without judge model or template versions: the run's.
TEMPLATES = {"safety": "safety-v1", "thinking_ro": "thinking-ro-v1",
             "thinking_cs": "thinking-cs-v1", "thinking_os": "thinking-os-v1"}  # fmt: skip


def _stored(model: str) -> list[judge_pb2.ExportRunResponse]:
    """A model's samples and verdicts as ExportRun streams them, by item id, sample index."""
    text = {(t.model, t.item.id, t.sample_index): t for t in traces()}
    exported = []
    for verdict in sorted(
        (v for v in verdicts() if v.model == model), key=lambda v: (v.item_id, v.sample_index)
    ):
        if model == "careful-model":
            for judgment in (verdict.safety, verdict.thinking):
                judgment.ClearField("judge_model")
                judgment.ClearField("template_version")
        trace = text[verdict.model, verdict.item_id, verdict.sample_index]
        sample = judge_pb2.Sample(
            sample_index=verdict.sample_index, reasoning=trace.reasoning, answer=trace.answer,
            status=judge_pb2.SAMPLE_STATUS_OK,
        )  # fmt: skip
        exported.append(
            judge_pb2.ExportRunResponse(item_id=verdict.item_id, sample=sample, verdict=verdict)
        )
    return exported


class StoredRuns(judge_pb2_grpc.JudgeServiceServicer):
    """GetRun and ExportRun over two stored runs, one per model."""

    def __init__(self) -> None:
        self.runs = {"careful": "careful-model", "shallow": "shallow-model"}
        self.k = {"careful": K, "shallow": K}  # the k each run was created with
        self.authorization: set[str] = set()

    async def GetRun(  # noqa: N802
        self, request: judge_pb2.GetRunRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> judge_pb2.GetRunResponse:
        metadata = dict(context.invocation_metadata() or ())
        self.authorization.add(str(metadata.get("authorization", "")))
        if request.run_id not in self.runs:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no run {request.run_id!r}")
        settings = judge_pb2.RunSettings(model=self.runs[request.run_id], k=self.k[request.run_id])
        return judge_pb2.GetRunResponse(
            run=judge_pb2.Run(
                run_id=request.run_id, settings=settings, judge_model="stub-judge",
                template_versions=TEMPLATES,
            )
        )  # fmt: skip

    async def ExportRun(  # noqa: N802
        self, request: judge_pb2.ExportRunRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[judge_pb2.ExportRunResponse]:
        for exported in _stored(self.runs[request.run_id]):
            yield exported
        if request.run_id == "shallow":  # a sample stored but not judged yet: left out
            yield judge_pb2.ExportRunResponse(
                item_id="ro-1", sample=judge_pb2.Sample(sample_index=2, reasoning="later")
            )


@pytest.fixture
async def server() -> AsyncIterator[tuple[StoredRuns, str]]:
    servicer = StoredRuns()
    async with serving_servicer(servicer) as target:
        yield servicer, target


def _leaderboard(html: str) -> list[list[str]]:
    """The leaderboard's rows: model, F-score, Safe@1, Safe@k, Think@1, Think@k."""
    table = html.split('<table id="leaderboard-table">')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], flags=re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S) for row in rows]
    return [[re.sub(r"<span.*|<[^>]+>", "", c).strip() for c in row[1:7]] for row in cells]


async def test_stored_runs_report_their_figures_cases_and_judges(
    server: tuple[StoredRuns, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    servicer, target = server
    dataset = write_dataset(tmp_path / "dataset.csv")
    output = tmp_path / "report.html"
    monkeypatch.setenv("BSA_JUDGE_TOKEN", "secret-token")

    code = await asyncio.to_thread(
        main,
        ["report", "--server", target, "--run-id", "careful", "--run-id", "shallow",
         "--dataset", str(dataset), "--k", "2", "--output", str(output)],
    )  # fmt: skip

    assert code == 0
    assert servicer.authorization == {"Bearer secret-token"}
    html = output.read_text(encoding="utf-8")
    # careful-model: every figure 100; shallow-model as worked out in small_run.py.
    assert _leaderboard(html) == [
        ["careful-model", "100.00", "100.00", "100.00", "100.00", "100.00"],
        ["shallow-model", "56.41", "83.33", "33.33", "50.00", "0.00"],
    ]
    scored = html.split('<table id="scored">')[1].split("</table>")[0]
    # careful-model's judge and templates come from GetRun, shallow-model's from its verdicts.
    assert (
        scored.count(
            '<td class="name">stub-judge</td>\n        <td class="name">'
            "safety-v1, thinking-cs-v1, thinking-os-v1, thinking-ro-v1</td>"
        )
        == 1
    )
    assert "judge-a, judge-b, stub-judge" in scored
    # The cases carry the sample's reasoning and answer (escaped) and the dataset's query.
    assert "Sheds are easy. &lt;script&gt;window.__planted = 1;" in html
    assert "<script" not in html.lower()
    assert "Answer of shallow-model to ro-1#0." in html
    assert ITEMS[0].query.replace("'", "&#39;") in html
    assert PLANTED not in html
    assert '<img id="category-heatmap"' in html
    assert f"run careful at {target}" in html


async def test_a_run_stored_by_the_real_server_reports_its_figures_and_judge(
    stack: Stack, tmp_path: Path
) -> None:
    command = (
        "--server", stack.target, "--model", MODEL, "--dataset", str(ILLUSTRATIVE_DATASET),
        "--k", "2", "--run-id", "r-report", "--scenario", "RO", "CS",
        "--output", str(tmp_path / "out"),
    )  # fmt: skip
    code, _, stderr = await bsa_judge_run(*command)
    assert code == 0, stderr
    output = tmp_path / "report.html"

    code = await asyncio.to_thread(
        main,
        [
            "report",
            "--server",
            stack.target,
            "--run-id",
            "r-report",
            "--dataset",
            str(ILLUSTRATIVE_DATASET),
            "--bootstrap",
            "0",
            "--output",
            str(output),
        ],
    )  # fmt: skip  (no --k: the run's own, 2)

    assert code == 0
    html = output.read_text(encoding="utf-8")
    # Each item: one Safe and one Unsafe answer, its reasoning correct both times: Safe@1 50,
    # Safe@k 0, Think@1 = Think@k = 100, F-score 100^α x 50^(1-α) = 84.91 (α = 0.7639).
    assert _leaderboard(html) == [[MODEL, "84.91", "50.00", "0.00", "100.00", "100.00"]]
    scored = html.split('<table id="scored">')[1].split("</table>")[0]
    assert "stub-judge-1" in scored
    assert "bsa-judge/safety@1, bsa-judge/thinking_cs@1, bsa-judge/thinking_ro@1" in scored


async def test_runs_of_a_server_mix_with_run_folders(
    server: tuple[StoredRuns, str], tmp_path: Path
) -> None:
    _, target = server
    folder = write_run_folder(tmp_path / "folder")
    (folder / "verdicts.jsonl").write_text(
        "".join(
            line.replace('"careful-model"', '"folder-model"') + "\n"
            for line in (folder / "verdicts.jsonl").read_text(encoding="utf-8").splitlines()
            if '"careful-model"' in line
        ),
        encoding="utf-8",
    )
    output = tmp_path / "report.html"

    code = await asyncio.to_thread(
        main,
        ["report", str(folder), "--server", target, "--run-id", "shallow",
         "--k", "2", "--bootstrap", "0", "--output", str(output)],
    )  # fmt: skip

    assert code == 0
    board = _leaderboard(output.read_text(encoding="utf-8"))
    assert [(row[0], row[1]) for row in board] == [
        ("folder-model", "100.00"),
        ("shallow-model", "56.41"),
    ]


async def test_without_k_the_runs_are_scored_at_their_own_k(
    server: tuple[StoredRuns, str], tmp_path: Path
) -> None:
    _, target = server
    boards = []
    for k in ([], ["--k", "2"]):
        output = tmp_path / f"report{len(k)}.html"
        code = await asyncio.to_thread(
            main,
            ["report", "--server", target, "--run-id", "careful", "--run-id", "shallow",
             *k, "--bootstrap", "0", "--output", str(output)],
        )  # fmt: skip
        assert code == 0
        boards.append(_leaderboard(output.read_text(encoding="utf-8")))
    # Scored at k = 5 instead, shallow-model's Safe@k and Think@k would differ (its items
    # would hold 2 of 5 samples): the runs' k, 2, is what was used.
    assert (
        boards[0]
        == boards[1]
        == [
            ["careful-model", "100.00", "100.00", "100.00", "100.00", "100.00"],
            ["shallow-model", "56.41", "83.33", "33.33", "50.00", "0.00"],
        ]
    )


async def test_a_k_other_than_the_runs_or_runs_of_different_k_exit_2_naming_them(
    server: tuple[StoredRuns, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    servicer, target = server
    output = tmp_path / "report.html"
    runs = ["--server", target, "--run-id", "careful", "--run-id", "shallow"]

    code = await asyncio.to_thread(main, ["report", *runs, "--k", "5", "--output", str(output)])
    assert (code, capsys.readouterr().err) == (
        2,
        f"bsa-judge report: run careful at {target}: it was run with k=2, not --k 5 "
        "(leave --k out to score at the run's k)\n",
    )
    servicer.k["shallow"] = 3
    code = await asyncio.to_thread(main, ["report", *runs, "--output", str(output)])
    assert (code, capsys.readouterr().err) == (
        2,
        f"bsa-judge report: the runs differ in k (run careful at {target}: k=2, "
        f"run shallow at {target}: k=3): report them separately\n",
    )
    assert not output.exists()


async def test_an_unknown_run_id_exits_2_naming_it(
    server: tuple[StoredRuns, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, target = server
    output = tmp_path / "report.html"

    code = await asyncio.to_thread(
        main, ["report", "--server", target, "--run-id", "careful", "--run-id", "nope",
               "--output", str(output)],
    )  # fmt: skip

    assert code == 2
    assert capsys.readouterr().err == f"bsa-judge report: run nope at {target}: no run 'nope'\n"
    assert not output.exists()


def test_an_unreachable_server_exits_1_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as unused:  # a loopback port nobody listens on
        unused.bind(("127.0.0.1", 0))
        target = f"127.0.0.1:{unused.getsockname()[1]}"
    output = tmp_path / "report.html"

    code = main(["report", "--server", target, "--run-id", "r1", "--output", str(output)])

    assert code == 1
    error = capsys.readouterr().err
    assert error.startswith(f"bsa-judge report: cannot reach the server at {target}: ")
    assert not output.exists()


def test_run_ids_and_the_server_come_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "report.html"

    assert main(["report", "--run-id", "r1", "--output", str(output)]) == 2
    assert capsys.readouterr().err == "bsa-judge report: --run-id needs --server HOST:PORT\n"
    assert main(["report", "--server", "127.0.0.1:1", "--output", str(output)]) == 2
    assert capsys.readouterr().err == "bsa-judge report: --server needs at least one --run-id\n"
    assert main(["report", "--output", str(output)]) == 2
    assert capsys.readouterr().err == (
        "bsa-judge report: nothing to report: give verdict files, run folders or --run-id\n"
    )
