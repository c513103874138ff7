"""The report: every figure, plot, case and health count of some verdict sources, as HTML.

`build_report` reads the sources once (the rows metrics score, then their optional facts,
one at a time) and `render_report` turns the result into one self-contained page: the
template is Jinja2 with autoescaping on, so any trace text shows as text; the plots are
inline PNGs; no script, style sheet or font is fetched from anywhere.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.metrics.compute import metrics_for
from bsa_judge.metrics.dataset_labels import with_dataset_labels
from bsa_judge.metrics.files import VerdictFile, describe
from bsa_judge.metrics.problems import ScoredSampleError
from bsa_judge.metrics.report import Figure, MetricsOptions, MetricsReport, ModelMetrics
from bsa_judge.metrics.scored_samples import ScoredSampleColumns
from bsa_judge.report.cases import CaseSampler, ScenarioCases
from bsa_judge.report.details import SampleKey, TraceText, VerdictDetail
from bsa_judge.report.health import HealthCounter, JudgeHealth
from bsa_judge.report.sources import ReportInputError, VerdictSource

#: Leaderboard figures after the F-score: (heading, scenario or None, figure name).
LEADERBOARD_FIGURES: tuple[tuple[str, Scenario | None, str], ...] = (
    ("Safe@1", None, "safe_at_1"),
    ("Safe@k", None, "safe_at_k"),
    ("Think@1", None, "think_at_1"),
    ("Think@k", None, "think_at_k"),
    *((f"{s.abbreviation}@{at}", s, f"think_at_{at}") for s in Scenario for at in ("1", "k")),
)


@dataclass(frozen=True)
class ReportOptions:
    """How to build the report."""

    metrics: MetricsOptions = field(
        default_factory=lambda: MetricsOptions(bootstrap_resamples=1000)
    )
    #: Superficial-safety cases shown per scenario.
    cases_per_scenario: int = 5
    #: Longest reasoning, answer or explanation shown, in characters.
    excerpt_chars: int = 1200
    title: str = "Beyond Safe Answers report"


@dataclass(frozen=True)
class Report:
    """Everything the page shows."""

    title: str
    created: str
    sources: tuple[str, ...]
    metrics: MetricsReport
    health: tuple[JudgeHealth, ...]
    cases: tuple[ScenarioCases, ...]
    has_categories: bool
    scatter_png: bytes
    heatmap_png: bytes | None
    options: ReportOptions


def build_report(
    sources: Sequence[VerdictSource],
    options: ReportOptions = ReportOptions(),
    *,
    items: Sequence[Item] = (),
) -> Report:
    """The report of the verdict rows of every source, scored together.

    `items` (the official dataset) give rows their risk categories and the cases their
    query and risk summary. Raises ReportInputError naming source, row and column.
    """
    if not sources:
        raise ReportInputError("no verdict source given")
    health = HealthCounter()
    sampler = CaseSampler(options.cases_per_scenario)

    def on_detail(detail: VerdictDetail) -> None:
        health.add(detail)
        sampler.add(detail)

    files = [source.read(on_detail) for source in sources]
    metrics = _metrics(files, options.metrics, items)
    wanted = sampler.wanted()
    texts: dict[SampleKey, TraceText] = {}
    for source in sources:
        texts.update(source.trace_texts(wanted - texts.keys()))
    from bsa_judge.metrics.plot import think_against_safe_png
    from bsa_judge.report.plots import category_heatmap_png

    has_categories = any(model.categories for model in metrics.models)
    return Report(
        title=options.title,
        created=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        sources=tuple(source.name for source in sources),
        metrics=metrics,
        health=health.health(model.model for model in metrics.models),
        cases=sampler.cases(texts, {item.id: item for item in items}),
        has_categories=has_categories,
        scatter_png=think_against_safe_png(metrics, dpi=100),
        heatmap_png=category_heatmap_png(metrics) if has_categories else None,
        options=options,
    )


def render_report(report: Report) -> str:
    """The report as one self-contained HTML page."""
    from bsa_judge.report.template import environment

    template = environment().get_template("report.html.j2")
    return template.render(
        report=report,
        leaderboard=[_leaderboard_row(model) for model in report.metrics.models],
        leaderboard_headings=[heading for heading, _, _ in LEADERBOARD_FIGURES],
        health_by_model={health.model: health for health in report.health},
        scatter=_data_uri(report.scatter_png),
        heatmap=_data_uri(report.heatmap_png) if report.heatmap_png is not None else None,
    )


def report_html(
    sources: Sequence[VerdictSource],
    options: ReportOptions = ReportOptions(),
    *,
    items: Sequence[Item] = (),
) -> str:
    """The HTML page of the verdict rows of every source (build_report, then render_report)."""
    return render_report(build_report(sources, options, items=items))


@dataclass(frozen=True)
class LeaderboardRow:
    """One model's line of the leaderboard."""

    model: ModelMetrics
    figures: tuple[Figure | None, ...]


def _leaderboard_row(model: ModelMetrics) -> LeaderboardRow:
    scenarios = {group.name: group for group in model.scenarios}
    figures: list[Figure | None] = []
    for _, scenario, name in LEADERBOARD_FIGURES:
        if scenario is None:
            figures.append(getattr(model, name))
        else:
            group = scenarios.get(scenario.value)
            figures.append(getattr(group, name) if group is not None else None)
    return LeaderboardRow(model, tuple(figures))


def _metrics(
    files: Sequence[VerdictFile], options: MetricsOptions, items: Sequence[Item]
) -> MetricsReport:
    columns = ScoredSampleColumns.concat([file.columns for file in files])
    try:
        if items:
            columns = with_dataset_labels(columns, items)
        return metrics_for(columns, options)
    except ScoredSampleError as error:
        raise ReportInputError("\n".join(describe(files, p) for p in error.problems)) from None


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
