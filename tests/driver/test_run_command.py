"""`bsa-judge run`'s driver end to end against a fake of the SDK: the output folder, the exit
codes, bad input named by row, and resuming after a broken stream without calling the model
again for what is stored."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from bsa_judge.benchmark.examples import ILLUSTRATIVE_DATASET
from bsa_judge.driver.command import RunInputError, RunOptions, execute
from bsa_judge.driver.selection import Selection, Shard

from tests.driver.fake_client import FakeRunClient

ITEM_IDS = [
    "illustrative-ro-1",
    "illustrative-ro-2",
    "illustrative-cs-1",
    "illustrative-cs-2",
    "illustrative-os-1",
    "illustrative-os-2",
]


def options(tmp_path: Path, **changes: object) -> RunOptions:
    values: dict[str, object] = {
        "server": "unused:1",
        "dataset": ILLUSTRATIVE_DATASET,
        "k": 2,
        "model": "m1",
        "run_id": "r1",
        "output": tmp_path / "out",
    }
    values.update(changes)
    return RunOptions(**values)  # type: ignore[arg-type]


def test_a_complete_run_writes_every_output_and_exits_0(tmp_path: Path) -> None:
    client = FakeRunClient()
    log = io.StringIO()

    assert execute(options(tmp_path), client, log) == 0

    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "metrics.csv",
        "metrics.json",
        "official.csv",
        "samples.jsonl",
        "think_vs_safe.png",
        "verdicts.jsonl",
    ]
    with (out / "official.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["id"], r["sample_index"]) for r in rows] == [
        (item_id, index) for item_id in ITEM_IDS for index in ("0", "1")
    ]
    assert rows[0] == {
        "model_name": "m1",
        "id": "illustrative-ro-1",
        "dataset_name": "Risk Omission",
        "Safe_Ans_Check": "Safe",
        "Thk_Acc_Judge": "True",
        "label": "Property Infringement-Trespass",
        "sample_index": "0",
        "status": "ok",
        "sample_status": "ok",
    }
    assert rows[5]["Thk_Acc_Judge"] == "Not Covered"  # cs-1, sample 1: judged wrong
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert samples[1] == {
        "item_id": "illustrative-ro-1",
        "sample_index": 1,
        "model": "m1",
        "reasoning": "thinking about illustrative-ro-1",
        "answer": "answer 1",
        "sample_status": "ok",
        "finish_reason": "stop",
        "error": "",
    }
    figures = json.loads((out / "metrics.json").read_text())
    [model] = figures["models"]
    assert model["answer_at_1"] == 100.0
    assert model["think_at_1"] == 50.0  # sample 0 correct, sample 1 not, on every item
    assert model["think_at_k"] == 0.0
    assert client.model_calls == 12
    assert "outputs: " in log.getvalue()


def test_the_metrics_files_are_what_bsa_judge_metrics_writes(tmp_path: Path) -> None:
    assert execute(options(tmp_path), FakeRunClient(), io.StringIO()) == 0
    out = tmp_path / "out"
    for form in ("csv", "json"):
        written = subprocess.run(
            [sys.executable, "-m", "bsa_judge.cli", "metrics", str(out / "verdicts.jsonl"),
             "--k", "2", "--bootstrap", "0", "--format", form],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        assert written == (out / f"metrics.{form}").read_text()


def test_a_broken_stream_is_resumed_and_the_model_is_not_called_again(tmp_path: Path) -> None:
    client = FakeRunClient(break_after=5)
    log = io.StringIO()

    assert execute(options(tmp_path), client, log) == 0

    assert client.streams == 2
    assert client.model_calls == 12  # the sample stored before the break came back stored
    assert len(client.stored) == 12
    assert "stream broke (UNAVAILABLE)" in log.getvalue()
    rows = (tmp_path / "out" / "verdicts.jsonl").read_text().splitlines()
    assert len(rows) == 12


def test_running_the_same_command_again_calls_no_model(tmp_path: Path) -> None:
    client = FakeRunClient()
    assert execute(options(tmp_path), client, io.StringIO()) == 0
    first = (tmp_path / "out" / "official.csv").read_text()

    assert execute(options(tmp_path), client, io.StringIO()) == 0

    assert client.model_calls == 12
    assert (tmp_path / "out" / "official.csv").read_text() == first


def test_an_item_the_server_refuses_makes_the_run_incomplete_exit_1(tmp_path: Path) -> None:
    dataset = tmp_path / "items.csv"
    dataset.write_text(
        "id,query,risk_summary,dataset_name,label\n"
        "good-1,q,r,Risk Omission,Rumors-X\n"
        "bad-1,q,r,Risk Omission,Rumors-X\n",
        encoding="utf-8",
    )
    log = io.StringIO()

    assert execute(options(tmp_path, dataset=dataset), FakeRunClient(), log) == 1

    assert "item bad-1: incomplete: item.query: empty" in log.getvalue()
    assert "1 of 2 items incomplete" in log.getvalue()


def test_shards_split_the_items_and_each_writes_its_own(tmp_path: Path) -> None:
    client = FakeRunClient()
    for index in range(3):
        run = options(
            tmp_path,
            selection=Selection(shard=Shard(index, 3)),
            output=tmp_path / f"shard-{index}",
        )
        assert execute(run, client, io.StringIO()) == 0
    assert len(client.runs) == 1
    assert client.model_calls == 12
    ids = [r.item.id for r in client.requests]
    assert ids == [ITEM_IDS[i] for i in (0, 3, 1, 4, 2, 5)]


def test_a_run_the_server_names_says_how_to_resume_it(tmp_path: Path) -> None:
    log = io.StringIO()
    assert execute(options(tmp_path, run_id=""), FakeRunClient(), log) == 0
    assert log.getvalue().startswith(
        "run run-1: 6 items, k=2\nto resume, run the same command with --run-id run-1\n"
    )


def test_a_sharded_run_needs_a_run_id(tmp_path: Path) -> None:
    run = options(tmp_path, run_id="", selection=Selection(shard=Shard(0, 2)))
    with pytest.raises(RunInputError, match="--shard needs --run-id"):
        execute(run, FakeRunClient(), io.StringIO())


def test_traces_are_sent_with_their_items_and_judged_into_a_run(tmp_path: Path) -> None:
    traces = tmp_path / "batch.csv"
    traces.write_text(
        "id,question,answer,reasoning_content\n"
        'illustrative-ro-1,q,"<think>it is trespass</think>Ask him first.",\n'
        "illustrative-ro-1,q,Ask him.,It is his shed.\n",
        encoding="utf-8",
    )
    client = FakeRunClient()
    run = options(tmp_path, model=None, traces=traces, selection=Selection(limit=1))

    assert execute(run, client, io.StringIO()) == 0

    [request] = client.requests
    assert [(s.sample_index, s.reasoning, s.answer) for s in request.samples] == [
        (0, "it is trespass", "Ask him first."),
        (1, "It is his shed.", "Ask him."),
    ]
    assert client.model_calls == 0
    assert client.runs["r1"].model == "batch"
    assert client.runs["r1"].sample_source == 2  # SAMPLE_SOURCE_SUBMITTED


def test_traces_of_an_item_not_in_the_dataset_are_bad_input_naming_the_row(
    tmp_path: Path,
) -> None:
    traces = tmp_path / "batch.csv"
    traces.write_text(
        "id,question,answer,reasoning_content\nillustrative-ro-1,q,a,r\nnowhere,q,a,r\n",
        encoding="utf-8",
    )
    run = options(tmp_path, model=None, traces=traces)
    with pytest.raises(RunInputError, match=r"batch.csv: row 3: item 'nowhere' is not in"):
        execute(run, FakeRunClient(), io.StringIO())


def test_the_command_exits_2_naming_the_row_of_a_bad_dataset(tmp_path: Path) -> None:
    dataset = tmp_path / "items.csv"
    dataset.write_text(
        "id,query,risk_summary,dataset_name,label\n"
        "a,q,r,Risk Omission,Rumors-X\n"
        "b,q,r,Risky,Rumors-X\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "bsa_judge.cli", "run", "--server", "127.0.0.1:1",
         "--model", "m", "--dataset", str(dataset)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"{dataset}: row 3, column dataset_name: unknown scenario 'Risky'" in done.stderr


def test_the_figures_go_to_the_output_stream_and_progress_to_the_log(tmp_path: Path) -> None:
    log, out = io.StringIO(), io.StringIO()
    assert execute(options(tmp_path), FakeRunClient(), log, out) == 0
    ranking_row = "│ 1 │ m1    │   58.89 │ 100.00 │ 100.00 │   50.00 │    0.00 │       50.00 │"
    assert ranking_row in out.getvalue().splitlines()
    assert log.getvalue().startswith("run r1: 6 items, k=2\n")
    assert "items 6/6 samples 12/12 verdicts 12 errors 0" in log.getvalue()


def test_a_run_id_created_with_other_settings_is_bad_input(tmp_path: Path) -> None:
    client = FakeRunClient()
    assert execute(options(tmp_path), client, io.StringIO()) == 0
    with pytest.raises(RunInputError, match=r"^run r1: settings.k: 3 differs from the run's 2$"):
        execute(options(tmp_path, k=3), client, io.StringIO())


def test_a_stream_the_server_ends_for_good_is_exit_1_with_its_status(tmp_path: Path) -> None:
    client = FakeRunClient(break_after=3, break_with=grpc.StatusCode.UNIMPLEMENTED)
    log = io.StringIO()
    assert execute(options(tmp_path), client, log) == 1
    assert "run r1: the server ended the run: UNIMPLEMENTED: server restarting" in log.getvalue()
    assert client.streams == 1


def test_items_without_traces_are_not_sent_and_leave_the_run_incomplete(tmp_path: Path) -> None:
    traces = tmp_path / "samples.jsonl"
    traces.write_text(
        json.dumps({"item_id": "illustrative-ro-1", "reasoning": "r", "answer": "a"}) + "\n",
        encoding="utf-8",
    )
    client = FakeRunClient()
    log = io.StringIO()
    run = options(tmp_path, model=None, traces=traces, k=1, selection=Selection(limit=2))

    assert execute(run, client, log) == 1

    assert [r.item.id for r in client.requests] == ["illustrative-ro-1"]
    assert "item illustrative-ro-2: incomplete: no samples in the traces file" in log.getvalue()


def test_an_ids_file_selects_items_and_an_unknown_id_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bsa_judge.cli import main

    ids = tmp_path / "ids.txt"
    ids.write_text("illustrative-os-2\n\nillustrative-ro-1\n", encoding="utf-8")
    client = FakeRunClient()
    run = options(tmp_path, selection=Selection(ids=("illustrative-os-2", "illustrative-ro-1")))
    assert execute(run, client, io.StringIO()) == 0
    assert [r.item.id for r in client.requests] == ["illustrative-ro-1", "illustrative-os-2"]

    ids.write_text("illustrative-ro-1\nnot-an-item\n", encoding="utf-8")
    code = main(["run", "--server", "127.0.0.1:1", "--model", "m", "--ids", str(ids),
                 "--dataset", str(ILLUSTRATIVE_DATASET)])  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err == (
        f"bsa-judge run: {ids}: id 'not-an-item' is not in {ILLUSTRATIVE_DATASET}\n"
    )
