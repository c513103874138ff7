"""Bootstrap 95% intervals over items, drawn through the multinomial of item outcomes.

Resampling n items with replacement only matters through how many copies of each distinct
outcome are drawn, and those counts follow a multinomial law with the outcomes' frequencies.
Drawing the counts instead of n item indices gives exactly the same resampling distribution
at a cost that depends on the number of distinct outcomes (at most (k+1)^2), not on n.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray

_LEVEL = 0.95
_CHUNK_ELEMENTS = 4_000_000  # resamples x cells x outcomes drawn at once (32 MB of counts)


def intervals(
    numerator: NDArray[np.int64],
    denominator: NDArray[np.int64],
    cell: NDArray[np.integer],
    n_cells: int,
    *,
    ratio: bool,
    resamples: int,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The 2.5% and 97.5% quantiles of each cell's statistic under resampling of its items.

    Item i belongs to `cell[i]` and contributes numerator[i] / denominator[i]. The statistic
    is the mean of those shares, or with `ratio` the pooled share sum(num) / sum(den).
    Resamples whose ratio is undefined (sum(den) == 0) are left out. A cell without items
    gets NaN bounds.
    """
    low = np.full(n_cells, np.nan)
    high = np.full(n_cells, np.nan)
    if resamples <= 0 or len(cell) == 0:
        return low, high
    width = int(max(numerator.max(), denominator.max())) + 1
    present, outcome = np.unique(numerator * width + denominator, return_inverse=True)
    counts = np.bincount(
        cell.astype(np.int64) * len(present) + outcome, minlength=n_cells * len(present)
    ).reshape(n_cells, len(present))
    outcome_num = (present // width).astype(np.float64)
    outcome_den = (present % width).astype(np.float64)
    n_items = counts.sum(axis=1)
    # A ratio whose denominator is zero over all of a cell's items has no value to resample.
    cells = np.flatnonzero(n_items if not ratio else counts @ outcome_den.astype(np.int64))
    chunk = max(1, _CHUNK_ELEMENTS // (resamples * len(present)))
    tail = (1 - _LEVEL) / 2
    for start in range(0, len(cells), chunk):
        batch = cells[start : start + chunk]
        shares = counts[batch] / n_items[batch, None]
        drawn = rng.multinomial(n_items[batch], shares, size=(resamples, len(batch)))
        if not ratio:
            statistic = (drawn @ (outcome_num / outcome_den)) / n_items[batch]
            low[batch], high[batch] = np.quantile(statistic, [tail, 1 - tail], axis=0)
            continue
        with np.errstate(invalid="ignore"):
            statistic = (drawn @ outcome_num) / (drawn @ outcome_den)
        with warnings.catch_warnings():
            # Tiny resample counts can leave a ratio undefined in every resample: NaN bounds.
            warnings.simplefilter("ignore", RuntimeWarning)
            low[batch], high[batch] = np.nanquantile(statistic, [tail, 1 - tail], axis=0)
    return low, high
