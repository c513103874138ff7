"""Scoring files: the `bsa-judge metrics` use case (ComputeMetrics is `Application.score`).

Reads the official evaluation CSV and the JSONL verdict export, any mix, optionally joins
risk categories from the official dataset, and computes the figures. Bad input becomes one
`MetricsInputError` worded in the files' terms (file, row, column).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bsa_judge.metrics.policy import MissingSamplePolicy
from bsa_judge.metrics.report import OFFICIAL_ALPHA, MetricsOptions, MetricsReport

if TYPE_CHECKING:
    from bsa_judge.benchmark.item import Item

__all__ = [
    "OFFICIAL_ALPHA",
    "MetricsInputError",
    "MetricsOptions",
    "MetricsReport",
    "MissingSamplePolicy",
    "score_files",
]

# numpy, pyarrow and the metrics core are imported when scoring runs, so that the other
# subcommands (and `--help`) do not pay for them.


class MetricsInputError(Exception):
    """Input the figures cannot be computed from; already worded for the user."""


def score_files(
    paths: list[Path], options: MetricsOptions, *, dataset: Path | None = None
) -> MetricsReport:
    """The report for verdict files; raises MetricsInputError naming file, row and column."""
    from bsa_judge.metrics.compute import metrics_for
    from bsa_judge.metrics.dataset_labels import with_dataset_labels
    from bsa_judge.metrics.files import VerdictFile, describe, read_verdict_file
    from bsa_judge.metrics.problems import ScoredSampleError, UnreadableFile
    from bsa_judge.metrics.scored_samples import ScoredSampleColumns

    files: list[VerdictFile] = []
    for path in paths:
        try:
            files.append(read_verdict_file(path))
        except UnreadableFile as error:
            raise MetricsInputError(f"{path}: {error}") from None
        except OSError as error:
            raise MetricsInputError(f"{path}: {error.strerror or error}") from None
    columns = ScoredSampleColumns.concat([file.columns for file in files])
    try:
        if dataset is not None:
            columns = with_dataset_labels(columns, _dataset_items(dataset))
        return metrics_for(columns, options)
    except ScoredSampleError as error:
        raise MetricsInputError("\n".join(describe(files, p) for p in error.problems)) from None


def _dataset_items(path: Path) -> list[Item]:
    from bsa_judge.benchmark.dataset import DatasetError, load_items

    try:
        return list(load_items(path))
    except DatasetError as error:
        raise MetricsInputError(str(error)) from None
    except OSError as error:
        raise MetricsInputError(f"{path}: {error.strerror or error}") from None
