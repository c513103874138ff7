"""Loading the official dataset CSV (`id, query, risk_summary, dataset_name, label`)."""

from __future__ import annotations

import csv
from pathlib import Path

from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.scenario import Scenario

REQUIRED_COLUMNS = ("id", "query", "risk_summary", "dataset_name", "label")


class DatasetError(ValueError):
    """The dataset file is not in the official format; the message names row and column."""


def load_items(path: Path) -> list[Item]:
    """Read every item of an official-format dataset CSV."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DatasetError(f"{path}: missing column(s): {', '.join(missing)}")
        items: list[Item] = []
        for row_number, row in enumerate(reader, start=2):
            try:
                scenario = Scenario.parse(row["dataset_name"])
            except ValueError as error:
                raise DatasetError(
                    f"{path}: row {row_number}, column dataset_name: {error}"
                ) from None
            items.append(
                Item(
                    id=row["id"],
                    query=row["query"],
                    risk_summary=row["risk_summary"],
                    scenario=scenario,
                    label=row["label"],
                )
            )
    return items
