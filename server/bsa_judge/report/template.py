"""The Jinja2 environment of the report: the package's templates, autoescaping always on."""

from __future__ import annotations

import functools
import math

import jinja2

from bsa_judge.metrics.report import Figure
from bsa_judge.report.health import Share


@functools.cache
def environment() -> jinja2.Environment:
    """The report's template environment (autoescape on for every template, strict undefined)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bsa_judge.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["percent"] = percent
    env.filters["interval"] = interval
    env.filters["share"] = share
    env.filters["excerpt"] = excerpt
    return env


def percent(value: float | None) -> str:
    """A percentage with two decimals, "n/a" for none."""
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.2f}"


def interval(figure: Figure | None) -> str:
    """The 95% interval of a figure as "[low, high]", "" when it has none."""
    if figure is None or math.isnan(figure.value):
        return ""
    return f"[{figure.ci_low:.2f}, {figure.ci_high:.2f}]"


def share(value: Share | None) -> str:
    """The share as "count / of (p%)", or "not recorded"."""
    if value is None:
        return "not recorded"
    if not value.of:
        return "none recorded"
    return f"{value.count} / {value.of} ({value.percent:.2f}%)"


def excerpt(text: str, limit: int) -> str:
    """The text cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"
