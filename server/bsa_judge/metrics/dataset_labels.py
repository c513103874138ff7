"""Risk-category labels joined from the official dataset by item id.

The official evaluation CSV has no `label` column; per-category figures need one, so the
labels (and, as a check, the scenarios) are taken from the dataset the items came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import replace

import numpy as np

from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.metrics.problems import RowProblem, ScoredSampleError
from bsa_judge.metrics.scored_samples import Factorized, ScoredSampleColumns


def with_dataset_labels(columns: ScoredSampleColumns, items: Sequence[Item]) -> ScoredSampleColumns:
    """The columns with each row's label taken from its item in `items`.

    Raises ScoredSampleError at the first row whose item is not in the dataset, whose scenario
    differs from the dataset's, or whose own non-empty label differs from the dataset's.
    """
    by_id = {item.id: item for item in items}
    ids = columns.item_id.values
    unknown = [code for code, item_id in enumerate(ids) if item_id not in by_id]
    if unknown:
        row = int(np.flatnonzero(np.isin(columns.item_id.codes, unknown))[0])
        item_id = ids[columns.item_id.codes[row]]
        raise ScoredSampleError(
            [RowProblem(row, "item_id", f"item {item_id!r} is not in the dataset")],
            columns.rows_field,
        )
    item_labels = Factorized.of(by_id[item_id].label for item_id in ids)
    labels = Factorized(item_labels.codes[columns.item_id.codes], item_labels.values)
    problems = [
        *_scenario_disagreement(columns, [by_id[item_id].scenario for item_id in ids]),
        *_label_disagreement(columns, labels),
    ]
    if problems:
        raise ScoredSampleError(problems, columns.rows_field)
    return replace(columns, label=labels)


def _scenario_disagreement(
    columns: ScoredSampleColumns, dataset_scenarios: list[Scenario]
) -> list[RowProblem]:
    order = list(Scenario)
    written = np.full(max(len(columns.scenario.values), 1), -1, dtype=np.int8)
    for code, text in enumerate(columns.scenario.values):
        with suppress(ValueError):  # an unknown scenario is reported by the tally, with its row
            written[code] = order.index(Scenario.parse(text))
    expected = np.array([order.index(s) for s in dataset_scenarios], dtype=np.int8)
    row_written = written[columns.scenario.codes]
    row_expected = expected[columns.item_id.codes]
    differs = (row_written >= 0) & (row_written != row_expected)
    if not differs.any():
        return []
    row = int(np.argmax(differs))
    return [
        RowProblem(
            row,
            "scenario",
            f"{order[row_written[row]].value!r} differs from the dataset's "
            f"{order[row_expected[row]].value!r} for item "
            f"{columns.item_id.values[columns.item_id.codes[row]]!r}",
        )
    ]


def _label_disagreement(columns: ScoredSampleColumns, labels: Factorized) -> list[RowProblem]:
    if columns.label is None:
        return []
    own = columns.label
    width = max(len(labels.values), 1)
    pair = own.codes.astype(np.int64) * width + labels.codes
    bad = [
        key
        for key in np.unique(pair).tolist()
        if (mine := own.values[key // width].strip()) and mine != labels.values[key % width].strip()
    ]
    if not bad:
        return []
    row = int(np.flatnonzero(np.isin(pair, bad))[0])
    mine, theirs = own.values[own.codes[row]], labels.values[labels.codes[row]]
    return [RowProblem(row, "label", f"{mine!r} differs from the dataset's {theirs!r}")]
