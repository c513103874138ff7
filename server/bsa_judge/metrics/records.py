"""The figures as flat records under the official script's column names, for CSV and JSON.

The official columns come first, in the order of the official output (scenarios in report
order), so spreadsheets built on the official script keep working; the new columns follow.
Percentages are two-decimal numbers; an undefined figure is empty in CSV and null in JSON.
Interval columns (`<figure>_ci_low`, `<figure>_ci_high`) appear only when resampling was asked.
"""

from __future__ import annotations

import csv
import json
import math
from typing import TextIO

from bsa_judge.metrics.report import Figure, GroupMetrics, MetricsReport, ModelMetrics
from bsa_judge.metrics.tally import SCENARIOS

Value = str | int | float | None

#: The official output columns, after the `model` index.
OFFICIAL_COLUMNS = (
    "answer_at_1",
    "answer_at_k",
    *(f"{s.value}_think_at_{n}" for s in SCENARIOS for n in ("1", "k")),
    "think_at_1",
    "think_at_k",
    "F-Score",
)

_GROUP_FIGURES = (
    ("answer_at_1", "safe_at_1"),
    ("answer_at_k", "safe_at_k"),
    ("think_at_1", "think_at_1"),
    ("think_at_k", "think_at_k"),
    ("superficial_safety_rate", "superficial_safety_rate"),
)


def report_records(report: MetricsReport) -> list[dict[str, Value]]:
    """One record per model, ranked by F-score; every record has the same keys."""
    categories = sorted({g.name for m in report.models for g in m.categories})
    with_intervals = report.options.bootstrap_resamples > 0
    return [
        _record(rank, model, categories, with_intervals)
        for rank, model in enumerate(report.models, start=1)
    ]


def write_csv(report: MetricsReport, stream: TextIO) -> None:
    """The records as CSV, `model` first (the official index column)."""
    records = report_records(report)
    writer = csv.DictWriter(stream, fieldnames=list(records[0]) if records else ["model"])
    writer.writeheader()
    for record in records:
        writer.writerow({key: "" if value is None else value for key, value in record.items()})


def write_json(report: MetricsReport, stream: TextIO) -> None:
    """The records as a JSON document with the options they were computed with."""
    options = report.options
    document = {
        "k": options.k,
        "alpha": options.alpha,
        "missing_sample_policy": options.policy.value,
        "bootstrap_resamples": options.bootstrap_resamples,
        "seed": options.seed,
        "models": report_records(report),
    }
    json.dump(document, stream, indent=2, ensure_ascii=False, allow_nan=False)
    stream.write("\n")


def _record(
    rank: int, model: ModelMetrics, categories: list[str], with_intervals: bool
) -> dict[str, Value]:
    scenarios = {g.name: g for g in model.scenarios}
    figures: dict[str, Figure | None] = {
        "answer_at_1": model.safe_at_1,
        "answer_at_k": model.safe_at_k,
    }
    for scenario in SCENARIOS:
        group = scenarios.get(scenario.value)
        figures[f"{scenario.value}_think_at_1"] = group.think_at_1 if group else None
        figures[f"{scenario.value}_think_at_k"] = group.think_at_k if group else None
    figures["think_at_1"] = model.think_at_1
    figures["think_at_k"] = model.think_at_k
    record: dict[str, Value] = {"model": model.model}
    record.update({name: _value(figure) for name, figure in figures.items()})
    record["F-Score"] = _number(model.f_score)
    record.update(
        {
            "rank": rank,
            "k": model.k,
            "n_items": model.n_items,
            "n_samples": model.n_samples,
            "n_unusable_samples": model.n_unusable_samples,
            "n_incomplete_items": model.n_incomplete_items,
            "n_truncated_samples": model.n_truncated_samples,
            "n_no_reasoning_samples": model.n_no_reasoning_samples,
            "n_items_at_1": model.safe_at_1.n_items,
            "n_items_at_k": model.safe_at_k.n_items,
            "superficial_safety_rate": _value(model.superficial_safety_rate),
        }
    )
    figures["superficial_safety_rate"] = model.superficial_safety_rate
    named_groups = [
        *((s.value, scenarios.get(s.value)) for s in SCENARIOS),
        *((c, next((g for g in model.categories if g.name == c), None)) for c in categories),
    ]
    for name, group in named_groups:
        for column, attribute in _GROUP_FIGURES:
            key = f"{name}_{column}"
            figure = getattr(group, attribute) if group else None
            figures.setdefault(key, figure)
            record.setdefault(key, _value(figure))
        record[f"{name}_n_items"] = group.n_items if group else 0
        record[f"{name}_n_samples"] = group.n_samples if group else 0
    if with_intervals:
        for name, figure in figures.items():
            record[f"{name}_ci_low"] = None if figure is None else _number(figure.ci_low)
            record[f"{name}_ci_high"] = None if figure is None else _number(figure.ci_high)
    return record


def _value(figure: Figure | None) -> float | None:
    return None if figure is None else _number(figure.value)


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def group_of(model: ModelMetrics, name: str) -> GroupMetrics | None:
    """The model's figures for a scenario or category, if it has items there."""
    return next((g for g in (*model.scenarios, *model.categories) if g.name == name), None)
