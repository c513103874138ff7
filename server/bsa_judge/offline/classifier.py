"""A small multinomial logistic regression in numpy: fitted once, read from JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class LogisticModel:
    """Softmax over labels of standardised features times weights plus biases."""

    labels: tuple[str, ...]
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[tuple[float, ...], ...]  # one row per feature, one column per label
    bias: tuple[float, ...]

    def probabilities(self, x: NDArray[Any]) -> Matrix:
        """Rows of label probabilities (columns in `labels` order) for rows of features."""
        rows = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if rows.shape[1] != len(self.features):
            raise ValueError(
                f"expected {len(self.features)} features ({', '.join(self.features)}), "
                f"got {rows.shape[1]}"
            )
        z = (rows - np.asarray(self.mean)) / np.asarray(self.scale)
        logits = z @ np.asarray(self.weights) + np.asarray(self.bias)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        result: Matrix = exp / exp.sum(axis=1, keepdims=True)
        return result

    def to_json(self) -> dict[str, Any]:
        """The model as plain JSON values, rounded to 7 significant digits to keep the shipped
        file small (relative, not decimal, rounding: a small scale must not become 0)."""
        return {
            "labels": list(self.labels),
            "features": list(self.features),
            "mean": [_round(v) for v in self.mean],
            "scale": [_round(v) for v in self.scale],
            "weights": [[_round(v) for v in row] for row in self.weights],
            "bias": [_round(v) for v in self.bias],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogisticModel:
        """Read a model written by to_json; raises ValueError when the shapes disagree."""
        model = cls(
            labels=tuple(str(v) for v in data["labels"]),
            features=tuple(str(v) for v in data["features"]),
            mean=tuple(float(v) for v in data["mean"]),
            scale=tuple(float(v) for v in data["scale"]),
            weights=tuple(tuple(float(v) for v in row) for row in data["weights"]),
            bias=tuple(float(v) for v in data["bias"]),
        )
        n, k = len(model.features), len(model.labels)
        shapes_ok = (
            len(model.mean) == n
            and len(model.scale) == n
            and len(model.weights) == n
            and all(len(row) == k for row in model.weights)
            and len(model.bias) == k
        )
        if not shapes_ok:
            raise ValueError(f"logistic model for labels {model.labels}: inconsistent shapes")
        return model


def _round(value: float) -> float:
    return float(f"{value:.7g}")


# Features whose spread is below this are constant up to float32 noise: left unscaled.
_MIN_SCALE = 1e-6


def fit_logistic(
    x: NDArray[Any],
    y: Sequence[str],
    labels: Sequence[str],
    features: Sequence[str],
    l2: float = 1.0,
    iterations: int = 1500,
    sample_weight: Sequence[float] | None = None,
) -> LogisticModel:
    """Fit by full-batch gradient descent on the L2-penalised mean log loss.

    `sample_weight` (default: all 1) weighs each row's loss; it is rescaled to mean 1.
    Deterministic: same data, same model. Labels absent from `y` keep a low bias.
    """
    rows = np.asarray(x, dtype=np.float64)
    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale < _MIN_SCALE] = 1.0
    z = (rows - mean) / scale
    index = {label: i for i, label in enumerate(labels)}
    target = np.zeros((len(y), len(labels)))
    target[np.arange(len(y)), [index[label] for label in y]] = 1.0
    weights = np.zeros((z.shape[1], len(labels)))
    bias = np.zeros(len(labels))
    n = len(y)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    w = w / w.mean()
    # A step of 1/L, L the gradient's Lipschitz bound, keeps descent stable at any L2 strength.
    curvature = float(np.linalg.eigvalsh(z.T @ z / n).max()) / 2 * float(w.max()) + l2 / n
    step = 1.0 / curvature
    for _ in range(iterations):
        logits = z @ weights + bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        error = (p - target) * w[:, None] / n
        weights -= step * (z.T @ error + l2 * weights / n)
        bias -= step * error.sum(axis=0)
    return LogisticModel(
        labels=tuple(labels),
        features=tuple(features),
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        weights=tuple(tuple(float(v) for v in row) for row in weights),
        bias=tuple(float(v) for v in bias),
    )
