"""On a complete run every official figure equals the official script's, to two decimals.

Inputs are built from the official dataset (read from ../shared/bsa at test time) with several
models and seeded random verdicts; the expected figures come from a naive loop re-statement of
the official script (official_reference.py), not from our code.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from bsa_judge.cli import main
from bsa_judge.metrics.compute import metrics_for
from bsa_judge.metrics.official_csv import read_official_csv
from bsa_judge.metrics.records import OFFICIAL_COLUMNS
from bsa_judge.metrics.report import MetricsOptions
from bsa_judge_client import write_verdicts_jsonl

from tests.metrics.official_reference import COLUMNS, official_figures
from tests.metrics.runs import complete_run, write_official_csv
from tests.metrics.verdicts_from_rows import scored_verdicts
from tests.support.scored_samples import as_verdict_message


def figures_from_cli(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["metrics", *args, "--bootstrap", "0", "--format", "json"]) == 0
    models: list[dict[str, object]] = json.loads(capsys.readouterr().out)["models"]
    return models


@pytest.mark.parametrize(("k", "seed"), [(1, 101), (2, 102), (3, 103), (4, 104), (5, 105)])
def test_every_official_column_equals_the_official_script_on_a_complete_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], k: int, seed: int
) -> None:
    rows = complete_run(models=3, k=k, seed=seed)
    path = write_official_csv(tmp_path / "verdicts.csv", rows)

    models = figures_from_cli(capsys, str(path), "--k", str(k))

    expected = official_figures(rows, k)
    assert {m["model"]: {c: m[c] for c in COLUMNS} for m in models} == expected
    assert [m["F-Score"] for m in models] == sorted(
        (f["F-Score"] for f in expected.values()), reverse=True
    )
    assert {(m["n_items"], m["n_samples"], m["k"]) for m in models} == {(2000, 2000 * k, k)}


def test_the_official_columns_come_first_in_csv_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_official_csv(tmp_path / "verdicts.csv", complete_run(models=2, k=1, seed=7))

    assert main(["metrics", str(path), "--k", "1", "--bootstrap", "0", "--format", "csv"]) == 0

    header = next(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert tuple(header[: 1 + len(COLUMNS)]) == ("model", *COLUMNS)
    assert OFFICIAL_COLUMNS == COLUMNS


def test_the_sdks_jsonl_export_of_a_run_gives_the_same_figures_as_its_official_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = complete_run(models=2, k=3, seed=21)
    export = tmp_path / "verdicts.jsonl"
    messages = (as_verdict_message(sample) for sample in scored_verdicts(rows))
    assert write_verdicts_jsonl(messages, export) == len(rows)

    models = figures_from_cli(capsys, str(export), "--k", "3")

    assert {m["model"]: {c: m[c] for c in COLUMNS} for m in models} == official_figures(rows, 3)


def test_label_spellings_are_read_liberally_and_give_the_same_figures(tmp_path: Path) -> None:
    rows = complete_run(models=2, k=2, seed=33)
    respelled = [
        (model, item_id, scenario.upper(), f" {safety.lower()} ", thought.upper())
        for model, item_id, scenario, safety, thought in rows
    ]
    path = write_official_csv(tmp_path / "verdicts.csv", respelled)

    report = metrics_for(read_official_csv(path), MetricsOptions(k=2))

    expected = official_figures(rows, 2)
    assert {m.model: m.f_score for m in report.models} == {
        model: figures["F-Score"] for model, figures in expected.items()
    }
    assert {m.model: m.think_at_k.value for m in report.models} == {
        model: figures["think_at_k"] for model, figures in expected.items()
    }
