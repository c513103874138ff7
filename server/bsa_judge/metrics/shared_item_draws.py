"""Resampled pooled ratios of cells that hold the same items, from one draw of those items.

A plain bootstrap resample of a cell's n items is how many times each item was drawn (n
indices drawn with replacement), and its pooled ratio is sum(times * num) / sum(times * den).
When many cells (the models of one group) hold exactly the same items, one draw of the
indices serves all of them, and every cell's resampled sums come out of one matrix product.
Each cell's resamples are still exactly the plain bootstrap's; only the cells are resampled
together, as a paired comparison of models is. The cost is n index draws per resample for
all the cells at once, instead of one multinomial (a chain of binomials) per cell.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: Index draws per block: 8 MB of them, and as much for the counts (cache-sized, reused).
_BLOCK_DRAWS = 1 << 20

_Floats = NDArray[np.float64]


def cells_holding_every_item(
    item: NDArray[np.integer], cell: NDArray[np.int64], n_cells: int
) -> tuple[NDArray[np.int64], NDArray[np.integer]]:
    """The cells whose entries cover every item present, and those items (sorted).

    Each (cell, item) is one entry at most, so a cell holds every item when it has as many
    entries as there are items.
    """
    items = np.unique(item)
    per_cell = np.bincount(cell, minlength=n_cells)
    return np.flatnonzero(per_cell == len(items)), items


def shared_draw_ratios(
    numerator: NDArray[np.int64],
    denominator: NDArray[np.int64],
    item: NDArray[np.integer],
    cell: NDArray[np.int64],
    cells: NDArray[np.int64],
    items: NDArray[np.integer],
    resamples: int,
    rng: np.random.Generator,
) -> _Floats:
    """Per resample (rows) and chosen cell (columns): the pooled ratio of a shared item draw.

    `cells` hold every one of `items` (cells_holding_every_item); entries of other cells are
    ignored. A resample whose denominators sum to zero has a NaN ratio.
    """
    chosen = np.full(int(cell.max()) + 1, -1, dtype=np.int64)
    chosen[cells] = np.arange(len(cells))
    column = chosen[cell]
    mine = column >= 0
    row = np.searchsorted(items, item[mine])
    n = len(items)
    # A resample's sums are at most n * the largest value: whole numbers that single
    # precision holds exactly below 2**24 (and its products take half the time).
    largest = max(int(numerator[mine].max()), int(denominator[mine].max()), 1)
    exact = np.float32 if n * largest < 1 << 24 else np.float64
    # Per item: each chosen cell's numerator, then each one's denominator.
    values = np.zeros((n, 2 * len(cells)), dtype=exact)
    values[row, column[mine]] = numerator[mine]
    values[row, len(cells) + column[mine]] = denominator[mine]
    ratios = np.empty((resamples, len(cells)))
    block = max(1, _BLOCK_DRAWS // n)
    for start in range(0, resamples, block):
        rows = min(block, resamples - start)
        drawn = rng.integers(0, n, size=(rows, n))
        drawn += np.arange(0, rows * n, n)[:, None]
        times = np.bincount(drawn.ravel(), minlength=rows * n).reshape(rows, n)
        sums = (times.astype(exact) @ values).astype(np.float64)
        numerators, denominators = sums[:, : len(cells)], sums[:, len(cells) :]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios[start : start + rows] = np.where(
                denominators > 0, numerators / denominators, np.nan
            )
    return ratios
