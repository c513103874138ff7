"""Bootstrap 95% intervals over items: each cell's items resampled with replacement.

Means of per-item shares (Safe@1, Think@1, @k) take their resampling distribution exactly:
resampling n items draws n independent values from the cell's empirical distribution, so
the resampled sum is the n-fold convolution of that distribution with itself. The shares
sit on a lattice (multiples of 1 / lcm of the denominators present), so the convolution is
an exact power of the distribution's discrete Fourier transform. `resamples` draws from that
distribution are then taken as uniform order statistics mapped through its inverse CDF:
the same law as the `resamples` item resamples a plain bootstrap would draw, without them.

Pooled ratios (the superficial-safety rate) depend on two sums at once; they draw counts of
the distinct per-item outcomes from a multinomial law, which again is exactly the item
resampling distribution, at a cost that depends on the number of distinct outcomes (at most
(k+1)^2), not on n. Shares whose lattice would be too fine do the same. When many cells hold
the same items (the models of a group), one draw of item indices serves them all instead
(shared_item_draws.py): cheaper than a multinomial per cell once there are enough of them.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from numpy.typing import NDArray

from bsa_judge.metrics.shared_item_draws import cells_holding_every_item, shared_draw_ratios

_LEVEL = 0.95
_TAIL = (1 - _LEVEL) / 2
_CHUNK_ELEMENTS = 4_000_000  # values drawn or transformed at once (32 MB of doubles)
#: The largest resampled-sum lattice computed exactly; beyond, counts are drawn instead.
_MAX_LATTICE = 1 << 18
#: Probability left outside the window a resampled sum's law is computed on.
_NEGLIGIBLE = 1e-17
#: Costs per resample, in item index draws (each drawn and counted: ~7 ns), measured with
#: numpy 2.4 on the project's machine: one binomial of a multinomial chain (60-145 ns), and
#: one cell's share of the product that turns a shared draw into that cell's sums (~0.12 ns).
_BINOMIAL_COST = 10.0
_PRODUCT_COST_PER_CELL = 1 / 60

_Floats = NDArray[np.float64]


def intervals(
    numerator: NDArray[np.int64],
    denominator: NDArray[np.int64],
    cell: NDArray[np.integer],
    n_cells: int,
    *,
    ratio: bool,
    resamples: int,
    rng: np.random.Generator,
    item: NDArray[np.integer] | None = None,
) -> tuple[_Floats, _Floats]:
    """The 2.5% and 97.5% quantiles of each cell's statistic under resampling of its items.

    Entry i belongs to `cell[i]` and contributes numerator[i] / denominator[i]. The statistic
    is the mean of those shares, or with `ratio` the pooled share sum(num) / sum(den).
    Resamples whose ratio is undefined (sum(den) == 0) are left out. A cell without items
    gets NaN bounds. The quantiles are those of `resamples` resamples (numpy's linear
    interpolation between order statistics), drawn with `rng`. With `item` (entry i is of
    item[i], each (cell, item) once), ratios of cells holding the same items may be
    resampled together: each cell's law is the same.
    """
    low = np.full(n_cells, np.nan)
    high = np.full(n_cells, np.nan)
    if resamples <= 0 or len(cell) == 0:
        return low, high
    cells: NDArray[np.int64] = cell.astype(np.int64)
    if ratio and item is not None:
        numerator, denominator, cells, item = _shared_draw_intervals(
            numerator, denominator, cells, item, n_cells, resamples, rng, low, high
        )
        if len(cells) == 0:
            return low, high
    if not ratio:
        lattice = _lattice_values(numerator, denominator)
        if lattice is not None:
            values, scale = lattice
            n_items = np.bincount(cells, minlength=n_cells)
            if int(n_items.max()) * int(values.max()) < _MAX_LATTICE:
                _exact_mean_intervals(values, scale, cells, n_items, resamples, rng, low, high)
                return low, high
    _drawn_count_intervals(numerator, denominator, cells, n_cells, ratio, resamples, rng, low, high)
    return low, high


def _lattice_values(
    numerator: NDArray[np.int64], denominator: NDArray[np.int64]
) -> tuple[NDArray[np.int64], int] | None:
    """Shares as integers on a common lattice: (num * scale / den, scale), or None if too fine."""
    denominators = np.unique(denominator)
    if denominators[0] <= 0 or numerator.min() < 0:
        return None
    scale = math.lcm(*(int(d) for d in denominators))
    if scale * int(numerator.max()) >= _MAX_LATTICE:
        return None
    return numerator * (scale // denominator), scale


def _exact_mean_intervals(
    values: NDArray[np.int64],
    scale: int,
    cell: NDArray[np.int64],
    n_items: NDArray[np.int64],
    resamples: int,
    rng: np.random.Generator,
    low: _Floats,
    high: _Floats,
) -> None:
    """Each cell's resampled mean, its law computed exactly; quantiles of `resamples` draws."""
    width = int(values.max()) + 1
    counts = np.bincount(cell * width + values, minlength=len(n_items) * width).reshape(
        len(n_items), width
    )
    cells = np.flatnonzero(n_items)
    span = width - 1
    n = n_items[cells]
    # The sum of n values lies in 0 .. n * span, but all of its law but 1e-17 lies within
    # `reach` of its mean (Hoeffding's bound): a transform that long (a power of two, so that
    # cells of similar sizes share one batched transform) wraps around only what is beyond.
    reach = np.ceil(np.sqrt(n * span**2 * math.log(2 / _NEGLIGIBLE) / 2)).astype(np.int64)
    lengths = 1 << np.ceil(np.log2(np.minimum(2 * reach + 1, n * span + 1))).astype(np.int64)
    mean_sums = counts[cells] @ np.arange(width)  # n * the mean value, exactly
    first = np.clip(mean_sums - reach, 0, np.maximum(n * span + 1 - lengths, 0))
    for length in np.unique(lengths):
        chosen = lengths == length
        same = cells[chosen]
        chunk = max(1, _CHUNK_ELEMENTS // max(int(length), resamples))
        for start in range(0, len(same), chunk):
            batch = same[start : start + chunk]
            offset = first[chosen][start : start + chunk]
            cdf = resampled_sum_cdf(
                counts[batch] / n_items[batch, None], n_items[batch], int(length), offset
            )
            sums = _order_statistics_of(cdf, resamples, rng) + offset[:, None]
            means = sums / (scale * n_items[batch, None]).astype(np.float64)
            low[batch], high[batch] = _interpolated(means, resamples)


def resampled_sum_cdf(
    shares: _Floats, n_items: NDArray[np.int64], length: int, first: NDArray[np.int64]
) -> _Floats:
    """Per row: the CDF of the sum of n_items draws from `shares`, at first .. first+length-1.

    The transform has `length` points, so the sum is known modulo `length`: the window must
    hold all but a negligible part of its law.
    """
    transform = np.fft.rfft(shares, n=length, axis=1)
    # The n-th power in polar form, on real arrays: a quarter of the time of the complex
    # exp(n log(transform)). |transform| <= 1; where it is 0 its power is 0 (exp(-inf)).
    times = n_items[:, None].astype(np.float64)
    with np.errstate(divide="ignore"):
        modulus = np.exp(times * (0.5 * np.log(transform.real**2 + transform.imag**2)))
    angle = times * np.arctan2(transform.imag, transform.real)
    powered = np.empty_like(transform)
    powered.real = modulus * np.cos(angle)
    powered.imag = modulus * np.sin(angle)
    circular = np.fft.irfft(powered, n=length, axis=1)
    window = (first[:, None] + np.arange(length)) % length
    probabilities = np.clip(np.take_along_axis(circular, window, axis=1), 0.0, None)
    cdf = np.cumsum(probabilities, axis=1)
    cdf /= cdf[:, -1:]
    return cdf


def _order_statistics_of(cdf: _Floats, resamples: int, rng: np.random.Generator) -> _Floats:
    """The four order statistics `_interpolated` needs, of `resamples` draws from each row.

    The order statistics of draws from a discrete law are its inverse CDF at the order
    statistics of as many uniforms: those are found with a partial sort.
    """
    ranks = _ranks(resamples)
    uniforms = rng.random((len(cdf), resamples))
    picked = np.partition(uniforms, ranks, axis=1)[:, ranks]
    # Rows laid end to end (row r's CDF shifted by r) make one sorted array to search.
    offsets = np.arange(len(cdf), dtype=np.float64)[:, None]
    flat = (cdf + offsets).ravel()
    found = np.searchsorted(flat, (picked + offsets).ravel(), side="left").reshape(picked.shape)
    within = found - (offsets.astype(np.int64) * cdf.shape[1])
    sums: _Floats = np.minimum(within, cdf.shape[1] - 1).astype(np.float64)
    return sums


def _ranks(resamples: int) -> list[int]:
    """Order statistics (0-based) behind numpy's linear quantiles at the two tails."""
    ranks: list[int] = []
    for level in (_TAIL, 1 - _TAIL):
        below = math.floor((resamples - 1) * level)
        ranks += [below, min(below + 1, resamples - 1)]
    return ranks


def _interpolated(picked: _Floats, resamples: int) -> tuple[_Floats, _Floats]:
    """numpy's linear quantiles at both tails from the order statistics of `_ranks`."""
    bounds = []
    for index, level in enumerate((_TAIL, 1 - _TAIL)):
        position = (resamples - 1) * level
        fraction = position - math.floor(position)
        below, above = picked[:, 2 * index], picked[:, 2 * index + 1]
        bounds.append(below + fraction * (above - below))
    return bounds[0], bounds[1]


def _shared_draw_intervals(
    numerator: NDArray[np.int64],
    denominator: NDArray[np.int64],
    cell: NDArray[np.int64],
    item: NDArray[np.integer],
    n_cells: int,
    resamples: int,
    rng: np.random.Generator,
    low: _Floats,
    high: _Floats,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.integer]]:
    """Bounds of the cells holding every item, if one shared draw is cheaper; entries left."""
    shared, items = cells_holding_every_item(item, cell, n_cells)
    outcomes = len(np.unique(numerator * (int(denominator.max()) + 1) + denominator))
    multinomials = len(shared) * (outcomes - 1) * _BINOMIAL_COST
    if len(items) * (1 + len(shared) * _PRODUCT_COST_PER_CELL) >= multinomials:
        return numerator, denominator, cell, item
    ratios = shared_draw_ratios(numerator, denominator, item, cell, shared, items, resamples, rng)
    low[shared], high[shared] = _tail_quantiles(ratios)
    rest = ~np.isin(cell, shared)
    return numerator[rest], denominator[rest], cell[rest], item[rest]


def _tail_quantiles(statistic: _Floats) -> tuple[_Floats, _Floats]:
    """Per column: the 2.5% and 97.5% quantiles of the resamples (rows) that have a value."""
    if not np.isnan(statistic).any():
        low, high = np.quantile(statistic, [_TAIL, 1 - _TAIL], axis=0)
        return low, high
    with warnings.catch_warnings():
        # Tiny resample counts can leave a ratio undefined in every resample: NaN bounds.
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(statistic, [_TAIL, 1 - _TAIL], axis=0)
    return low, high


def _drawn_count_intervals(
    numerator: NDArray[np.int64],
    denominator: NDArray[np.int64],
    cell: NDArray[np.int64],
    n_cells: int,
    ratio: bool,
    resamples: int,
    rng: np.random.Generator,
    low: _Floats,
    high: _Floats,
) -> None:
    """Resampled counts of each distinct (num, den) outcome, drawn from their multinomial law."""
    width = int(max(numerator.max(), denominator.max())) + 1
    present, outcome = np.unique(numerator * width + denominator, return_inverse=True)
    counts = np.bincount(cell * len(present) + outcome, minlength=n_cells * len(present)).reshape(
        n_cells, len(present)
    )
    outcome_num = (present // width).astype(np.float64)
    outcome_den = (present % width).astype(np.float64)
    n_items = counts.sum(axis=1)
    # A ratio whose denominator is zero over all of a cell's items has no value to resample.
    cells = np.flatnonzero(n_items if not ratio else counts @ outcome_den.astype(np.int64))
    chunk = max(1, _CHUNK_ELEMENTS // (resamples * len(present)))
    for start in range(0, len(cells), chunk):
        batch = cells[start : start + chunk]
        shares = counts[batch] / n_items[batch, None]
        drawn = rng.multinomial(n_items[batch], shares, size=(resamples, len(batch)))
        if not ratio:
            statistic = (drawn @ (outcome_num / outcome_den)) / n_items[batch]
            low[batch], high[batch] = _tail_quantiles(statistic)
            continue
        with np.errstate(invalid="ignore"):
            statistic = (drawn @ outcome_num) / (drawn @ outcome_den)
        low[batch], high[batch] = _tail_quantiles(statistic)
