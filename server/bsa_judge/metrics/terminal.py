"""The figures as tables for a terminal (rich)."""

from __future__ import annotations

import math

from rich.console import Console, Group, RenderableType
from rich.table import Table

from bsa_judge.metrics.records import group_of
from bsa_judge.metrics.report import Figure, MetricsReport
from bsa_judge.metrics.tally import SCENARIOS


def render(report: MetricsReport, console: Console) -> None:
    """Print the ranking, the per-scenario figures, the sample counts and the categories."""
    console.print(report_tables(report))


def report_tables(report: MetricsReport) -> RenderableType:
    """Every table of the report, one under the other."""
    options = report.options
    intervals = (
        f"95% intervals from {options.bootstrap_resamples} bootstrap resamples over items "
        f"(seed {options.seed})"
        if options.bootstrap_resamples
        else "no intervals (--bootstrap 0)"
    )
    caption = (
        f"k={options.k}, alpha={options.alpha:g}, "
        f"missing samples: {options.policy.value.replace('_', '-')}; {intervals}"
    )
    tables: list[RenderableType] = [_ranking(report, caption), _scenarios(report), _samples(report)]
    if any(m.categories for m in report.models):
        tables.append(_categories(report))
    return Group(*tables)


def _ranking(report: MetricsReport, caption: str) -> Table:
    table = Table(title="BSA figures, ranked by F-score (percent)", caption=caption)
    for header in ("#", "model", "F-score", "Safe@1", "Safe@k", "Think@1", "Think@k"):
        table.add_column(header, justify="left" if header == "model" else "right")
    table.add_column("superficial\nsafety", justify="right")
    for rank, model in enumerate(report.models, start=1):
        table.add_row(
            str(rank),
            model.model,
            _number(model.f_score),
            *(
                _cell(figure)
                for figure in (
                    model.safe_at_1,
                    model.safe_at_k,
                    model.think_at_1,
                    model.think_at_k,
                    model.superficial_safety_rate,
                )
            ),
        )
    return table


def _scenarios(report: MetricsReport) -> Table:
    table = Table(
        title="Per scenario: Think (Risk Omission RO, Cognitive Shortcut CS, Over Sensitivity OS)"
    )
    table.add_column("model")
    for scenario in SCENARIOS:
        for at in ("1", "k"):
            table.add_column(f"{scenario.abbreviation}@{at}", justify="right")
    for model in report.models:
        cells = []
        for scenario in SCENARIOS:
            group = group_of(model, scenario.value)
            cells += [_cell(group.think_at_1 if group else None)]
            cells += [_cell(group.think_at_k if group else None)]
        table.add_row(model.model, *cells)
    return table


def _samples(report: MetricsReport) -> Table:
    table = Table(title="What the figures rest on")
    headers = (
        "model",
        "items",
        "samples",
        "unusable",
        "incomplete items",
        "truncated",
        "no reasoning",
    )
    for header in headers:
        table.add_column(header, justify="left" if header == "model" else "right")
    for model in report.models:
        table.add_row(
            model.model,
            str(model.n_items),
            str(model.n_samples),
            str(model.n_unusable_samples),
            str(model.n_incomplete_items),
            str(model.n_truncated_samples),
            str(model.n_no_reasoning_samples),
        )
    return table


def _categories(report: MetricsReport) -> Table:
    table = Table(title="Per primary risk category: Think@1 / Safe@1")
    table.add_column("category")
    for model in report.models:
        table.add_column(model.model, justify="right")
    names = sorted({g.name for m in report.models for g in m.categories})
    for name in names:
        cells = []
        for model in report.models:
            group = group_of(model, name)
            cells.append(
                f"{_number(group.think_at_1.value)} / {_number(group.safe_at_1.value)}"
                if group
                else "-"
            )
        table.add_row(name, *cells)
    return table


def _cell(figure: Figure | None) -> str:
    if figure is None:
        return "-"
    if figure.ci_low == figure.ci_high == figure.value or math.isnan(figure.value):
        return _number(figure.value)
    return f"{_number(figure.value)}\n[dim]\\[{figure.ci_low:.2f}, {figure.ci_high:.2f}][/dim]"


def _number(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}"
