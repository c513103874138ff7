"""How a judge's labels agree with gold labels: accuracy, per-label precision and recall,
Cohen's kappa and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LabelFigures:
    """Precision and recall of one label (None when undefined: nothing predicted / present)."""

    label: str
    support: int  # gold occurrences
    precision: float | None
    recall: float | None


@dataclass(frozen=True, slots=True)
class Agreement:
    """Agreement of predicted with gold labels on one task (a scenario's thinking, safe...).

    `confusion[i][j]` counts traces of gold label `labels[i]` predicted `labels[j]`; a
    prediction missing (the judge failed) counts under the last column, "(none)", when any.
    """

    task: str
    labels: tuple[str, ...]
    count: int
    accuracy: float
    kappa: float
    per_label: tuple[LabelFigures, ...]
    confusion: tuple[tuple[int, ...], ...]
    columns: tuple[str, ...]


NONE = "(none)"


def agreement(
    task: str, labels: Sequence[str], gold: Sequence[str], predicted: Sequence[str | None]
) -> Agreement:
    """The figures of `predicted` against `gold` over `labels` (None: no prediction)."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    columns = tuple(labels) + ((NONE,) if any(p is None for p in predicted) else ())
    index = {label: i for i, label in enumerate(columns)}
    matrix = [[0] * len(columns) for _ in labels]
    for g, p in zip(gold, predicted, strict=True):
        matrix[index[g]][index[p if p is not None else NONE]] += 1
    n = len(gold)
    agree = sum(matrix[i][i] for i in range(len(labels)))
    accuracy = agree / n if n else 0.0
    expected = (
        sum(sum(matrix[i]) * sum(row[i] for row in matrix) for i in range(len(labels))) / n**2
        if n
        else 0.0
    )
    # Both sides always giving one same label: kappa is undefined; call it perfect or none.
    kappa = (accuracy - expected) / (1 - expected) if expected < 1 else float(accuracy == 1)
    per_label = []
    for i, label in enumerate(labels):
        predicted_as = sum(row[i] for row in matrix)
        present = sum(matrix[i])
        per_label.append(
            LabelFigures(
                label,
                present,
                matrix[i][i] / predicted_as if predicted_as else None,
                matrix[i][i] / present if present else None,
            )
        )
    return Agreement(
        task=task,
        labels=tuple(labels),
        count=n,
        accuracy=accuracy,
        kappa=kappa,
        per_label=tuple(per_label),
        confusion=tuple(tuple(row) for row in matrix),
        columns=columns,
    )
