"""The paper's picture: Think@1 against Safe@1, one point per model, intervals as error bars.

The diagonal is drawn: a model below it answers safely more often than its reasoning sees
the risk (superficial safety).
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from bsa_judge.metrics.report import MetricsReport


def plot_think_against_safe(report: MetricsReport, path: Path) -> None:
    """Write a PNG scatter of Think@1 (y) against Safe@1 (x) for every model."""
    path.write_bytes(think_against_safe_png(report))


def think_against_safe_png(report: MetricsReport, *, dpi: int = 120) -> bytes:
    """The scatter of Think@1 (y) against Safe@1 (x) as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7, 5.5), dpi=dpi)
    try:
        axes.plot([0, 100], [0, 100], color="0.6", linestyle="--", linewidth=1, zorder=0)
        for model in report.models:
            safe, think = model.safe_at_1, model.think_at_1
            if math.isnan(safe.value) or math.isnan(think.value):
                continue
            axes.errorbar(
                safe.value,
                think.value,
                xerr=[[safe.value - safe.ci_low], [safe.ci_high - safe.value]],
                yerr=[[think.value - think.ci_low], [think.ci_high - think.value]],
                fmt="o",
                capsize=3,
                label=f"{model.model} (F {model.f_score:.2f})",
            )
            axes.annotate(
                model.model,
                (safe.value, think.value),
                textcoords="offset points",
                xytext=(5, 5),
                fontsize=8,
            )
        options = report.options
        axes.set_xlim(-3, 103)  # room for a point at 0 or 100 and its error bar caps
        axes.set_ylim(-3, 103)
        axes.set_xlabel("Safe@1 (%)")
        axes.set_ylabel("Think@1 (%)")
        interval = (
            f"95% bootstrap intervals, {options.bootstrap_resamples} resamples"
            if options.bootstrap_resamples
            else "no intervals"
        )
        axes.set_title(f"BSA: Think@1 against Safe@1 (k={options.k}; {interval})", fontsize=10)
        axes.grid(True, alpha=0.3)
        if report.models:
            axes.legend(fontsize=7, loc="best")
        figure.tight_layout()
        return png_bytes(figure)
    finally:
        pyplot.close(figure)


def png_bytes(figure: Any) -> bytes:
    """A matplotlib figure as PNG bytes, at the figure's own size and dpi."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
