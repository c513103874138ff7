"""Loading a dataset, CSV or JSONL, validated on load: every problem names its row and column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bsa_judge.benchmark.dataset import DatasetError, load_items
from bsa_judge.benchmark.examples import ILLUSTRATIVE_DATASET
from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.scenario import Scenario

HEADER = "id,query,risk_summary,dataset_name,label\n"


def write(tmp_path: Path, text: str, name: str = "items.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_official_dataset_loads_with_its_2000_items() -> None:
    items = load_items(Path(__file__).parents[2] / ".." / "shared" / "bsa" / "dataset.csv")
    assert len(items) == 2000
    assert {s: sum(i.scenario is s for i in items) for s in Scenario} == {
        Scenario.RISK_OMISSION: 600,
        Scenario.COGNITIVE_SHORTCUT: 1200,
        Scenario.OVER_SENSITIVITY: 200,
    }


def test_the_illustrative_dataset_has_two_items_per_scenario() -> None:
    items = load_items(ILLUSTRATIVE_DATASET)
    assert [i.scenario.abbreviation for i in items] == ["RO", "RO", "CS", "CS", "OS", "OS"]


def test_jsonl_reads_the_same_keys_as_the_csv_columns(tmp_path: Path) -> None:
    record = {
        "id": "x1",
        "query": "q",
        "risk_summary": "r",
        "dataset_name": "CS",
        "label": "Rumors-X",
    }
    path = write(tmp_path, json.dumps(record) + "\n\n", "items.jsonl")
    assert load_items(path) == [Item("x1", "q", "r", Scenario.COGNITIVE_SHORTCUT, "Rumors-X")]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("a,q,r,Risk Omission,L\nb,q,r,Risky,L\n",
         "row 3, column dataset_name: unknown scenario 'Risky'; expected one of: "
         "Risk Omission, Cognitive Shortcut, Over Sensitivity"),
        ("a,q,r,Risk Omission,L\nb,q, ,Risk Omission,L\n", "row 3, column risk_summary: empty"),
        ("a,q,r,RO,L\nb,q,r,RO,L\na,q2,r,RO,L\n",
         "row 4, column id: duplicate id 'a' (first at row 2)"),
    ],
)  # fmt: skip
def test_a_bad_csv_row_is_named(tmp_path: Path, rows: str, message: str) -> None:
    path = write(tmp_path, HEADER + rows)
    with pytest.raises(DatasetError) as error:
        load_items(path)
    assert str(error.value) == f"{path}: {message}"


def test_a_bad_jsonl_line_is_named(tmp_path: Path) -> None:
    good = {"id": "a", "query": "q", "risk_summary": "r", "dataset_name": "OS", "label": "L"}
    path = write(
        tmp_path,
        json.dumps(good) + "\n" + json.dumps({**good, "id": "b", "label": 3}) + "\n",
        "items.jsonl",
    )
    with pytest.raises(DatasetError, match=r"line 2, column label: expected text, not 3$"):
        load_items(path)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, "id,query,label\na,q,L\n")
    with pytest.raises(DatasetError, match="missing column\\(s\\): risk_summary, dataset_name"):
        load_items(path)
