"""Loading a benchmark dataset: the official CSV (`id, query, risk_summary, dataset_name,
label`) or JSON Lines with the same keys, one item per line.

Every item is validated on load: an unknown scenario, an empty field or an id seen before is
a DatasetError naming the row (CSV: spreadsheet row, the header being row 1; JSONL: line)
and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.rows import rows
from bsa_judge.benchmark.scenario import Scenario

REQUIRED_COLUMNS = ("id", "query", "risk_summary", "dataset_name", "label")


class DatasetError(ValueError):
    """The dataset file is not in the official format; the message names row and column."""


def load_items(path: Path) -> list[Item]:
    """Read and validate every item of a dataset file (official CSV, or `.jsonl`)."""
    items: list[Item] = []
    first_seen: dict[str, str] = {}
    for where, row in rows(path, REQUIRED_COLUMNS, DatasetError):
        item = _item(path, where, row)
        if item.id in first_seen:
            raise DatasetError(
                f"{path}: {where}, column id: duplicate id {item.id!r} "
                f"(first at {first_seen[item.id]})"
            )
        first_seen[item.id] = where
        items.append(item)
    return items


def _item(path: Path, where: str, row: Mapping[str, Any]) -> Item:
    values: dict[str, str] = {}
    for column in REQUIRED_COLUMNS:
        value = row.get(column)
        if not isinstance(value, str) or not value.strip():
            problem = (
                "missing"
                if value is None
                else "empty"
                if isinstance(value, str)
                else (f"expected text, not {value!r}")
            )
            raise DatasetError(f"{path}: {where}, column {column}: {problem}")
        values[column] = value
    try:
        scenario = Scenario.parse(values["dataset_name"])
    except ValueError as error:
        raise DatasetError(f"{path}: {where}, column dataset_name: {error}") from None
    return Item(
        id=values["id"].strip(),
        query=values["query"],
        risk_summary=values["risk_summary"],
        scenario=scenario,
        label=values["label"],
    )
