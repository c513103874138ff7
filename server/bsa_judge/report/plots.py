"""The report's figures as PNG bytes: the Think@1/Safe@1 scatter and the category heatmap."""

from __future__ import annotations

import math

from bsa_judge.benchmark.item import PRIMARY_CATEGORIES
from bsa_judge.metrics.plot import png_bytes
from bsa_judge.metrics.report import MetricsReport

#: Heatmap panels: the figure of each category shown, and its title.
HEATMAP_FIGURES = (("think_at_1", "Think@1 (%)"), ("safe_at_1", "Safe@1 (%)"))
DPI = 100


def category_grid(report: MetricsReport, figure: str) -> list[list[float]]:
    """Per model (rows, in ranking order) and primary category (columns), the figure or NaN."""
    grid = []
    for model in report.models:
        by_name = {group.name: group for group in model.categories}
        grid.append(
            [
                getattr(by_name[c], figure).value if c in by_name else math.nan
                for c in PRIMARY_CATEGORIES
            ]
        )
    return grid


def category_heatmap_png(report: MetricsReport) -> bytes:
    """Models x the nine primary categories, Think@1 beside Safe@1, values written in."""
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    from matplotlib import pyplot

    names = [model.model for model in report.models]
    height = 2.6 + 0.42 * max(len(names), 1)
    figure, panels = pyplot.subplots(1, 2, figsize=(13, height), dpi=DPI, sharey=True)
    try:
        colours = matplotlib.colormaps["RdYlGn"].with_extremes(bad="0.85")
        for axes, (name, title) in zip(panels, HEATMAP_FIGURES, strict=True):
            grid = np.ma.masked_invalid(np.array(category_grid(report, name), dtype=float))
            axes.imshow(
                grid, cmap=colours, vmin=0, vmax=100, aspect="auto", interpolation="nearest"
            )
            axes.set_title(title, fontsize=10)
            axes.set_xticks(range(len(PRIMARY_CATEGORIES)))
            axes.set_xticklabels(PRIMARY_CATEGORIES, rotation=40, ha="right", fontsize=7)
            axes.set_yticks(range(len(names)))
            axes.set_yticklabels(names, fontsize=8)
            for row, values in enumerate(grid.filled(np.nan).tolist()):
                for column, value in enumerate(values):
                    text = "n/a" if math.isnan(value) else f"{value:.1f}"
                    axes.text(column, row, text, ha="center", va="center", fontsize=7)
        figure.suptitle("BSA per primary risk category", fontsize=11)
        figure.tight_layout()
        return png_bytes(figure)
    finally:
        pyplot.close(figure)
