"""The bootstrap intervals have the law of the plain bootstrap: items drawn with replacement.

The plain bootstrap here is the textbook one (draw n item indices, recompute the statistic,
take numpy's quantiles); the module computes means' laws exactly and draws ratios' outcome
counts. Seeded, so every run compares the same numbers; the tolerances are Monte Carlo
error (four standard errors of a tail quantile's difference at 20,000 resamples).
"""

from __future__ import annotations

import numpy as np
import pytest
from bsa_judge.metrics.bootstrap import intervals, resampled_sum_cdf
from numpy.typing import NDArray

RESAMPLES = 20_000


def plain_bootstrap(
    numerator: NDArray[np.int64], denominator: NDArray[np.int64], *, ratio: bool, seed: int
) -> tuple[float, float]:
    """Item indices drawn with replacement, RESAMPLES times; the 2.5% and 97.5% quantiles."""
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, len(numerator), size=(RESAMPLES, len(numerator)))
    if ratio:
        statistic = numerator[drawn].sum(axis=1) / denominator[drawn].sum(axis=1)
    else:
        statistic = (numerator / denominator)[drawn].mean(axis=1)
    low, high = np.quantile(statistic, [0.025, 0.975])
    return float(low), float(high)


def cells_of_items(seed: int) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Three cells of 60, 23 and 7 items: shares out of 1 to 3 samples (as with unusable ones),
    and pooled counts with some items of zero denominator."""
    rng = np.random.default_rng(seed)
    sizes = (60, 23, 7)
    cell = np.repeat(np.arange(3), sizes).astype(np.int64)
    denominator = rng.integers(1, 4, size=len(cell)).astype(np.int64)
    numerator = rng.binomial(denominator, 0.6).astype(np.int64)
    return numerator, denominator, cell


@pytest.mark.parametrize("ratio", [False, True])
def test_intervals_match_the_plain_bootstrap_within_monte_carlo_error(ratio: bool) -> None:
    numerator, denominator, cell = cells_of_items(seed=4)
    if ratio:
        denominator = denominator - 1  # some items count nothing, as with no Safe samples
    low, high = intervals(
        numerator if not ratio else np.minimum(numerator, denominator),
        denominator,
        cell,
        4,
        ratio=ratio,
        resamples=RESAMPLES,
        rng=np.random.default_rng(11),
    )
    for index in range(3):
        mine = cell == index
        num = numerator[mine] if not ratio else np.minimum(numerator, denominator)[mine]
        den = denominator[mine]
        plain_low, plain_high = plain_bootstrap(num, den, ratio=ratio, seed=100 + index)
        per_item = num / den if not ratio else (num - den * num.sum() / den.sum()) / den.mean()
        spread = float(np.std(per_item) / np.sqrt(len(num)))  # the statistic's standard error
        assert abs(low[index] - plain_low) <= 0.12 * spread
        assert abs(high[index] - plain_high) <= 0.12 * spread
        assert low[index] < high[index]
    # A cell without items has no interval.
    assert np.isnan(low[3])
    assert np.isnan(high[3])


@pytest.mark.parametrize("scale", [1, 2**22 + 1])
def test_cells_holding_the_same_items_resample_them_with_one_textbook_draw(scale: int) -> None:
    # Pooled counts of six models over the same 40 items, and of a seventh model that holds
    # only 25 of them. The six share one draw of item indices: the textbook bootstrap's.
    # Scaled counts keep the ratios but their sums need more than single precision.
    rng = np.random.default_rng(5)
    item = np.concatenate([np.tile(np.arange(40), 6), np.arange(25)])
    cell = np.concatenate([np.repeat(np.arange(6), 40), np.full(25, 6)])
    denominator = rng.integers(0, 4, size=len(cell)).astype(np.int64)
    numerator = rng.binomial(denominator, 0.3).astype(np.int64)
    numerator, denominator = numerator * scale, denominator * scale
    low, high = intervals(
        numerator,
        denominator,
        cell,
        7,
        ratio=True,
        resamples=RESAMPLES,
        rng=np.random.default_rng(11),
        item=item,
    )
    for index in range(6):
        mine = cell == index
        # The same generator draws the same indices as the textbook bootstrap: same bounds.
        expected = plain_bootstrap(numerator[mine], denominator[mine], ratio=True, seed=11)
        assert (float(low[index]), float(high[index])) == expected
    # The seventh model's items are not the others': its own draw, the same law.
    num, den = numerator[cell == 6], denominator[cell == 6]
    plain_low, plain_high = plain_bootstrap(num, den, ratio=True, seed=12)
    per_item = (num - den * num.sum() / den.sum()) / den.mean()
    spread = float(np.std(per_item) / np.sqrt(len(num)))
    assert abs(low[6] - plain_low) <= 0.12 * spread
    assert abs(high[6] - plain_high) <= 0.12 * spread


def test_a_figure_all_items_agree_on_has_the_point_as_interval() -> None:
    low, high = intervals(
        np.full(30, 2, dtype=np.int64),
        np.full(30, 2, dtype=np.int64),
        np.zeros(30, dtype=np.int64),
        1,
        ratio=False,
        resamples=500,
        rng=np.random.default_rng(0),
    )
    assert (low[0], high[0]) == (1.0, 1.0)


def test_the_same_seed_gives_the_same_intervals() -> None:
    numerator, denominator, cell = cells_of_items(seed=8)

    def once() -> tuple[list[float], list[float]]:
        low, high = intervals(
            numerator,
            denominator,
            cell,
            3,
            ratio=False,
            resamples=999,
            rng=np.random.default_rng(3),
        )
        return low.tolist(), high.tolist()

    assert once() == once()


@pytest.mark.parametrize(("n_items", "first"), [(7, 0), (400, 700)])
def test_the_resampled_sum_law_is_the_convolution_power(n_items: int, first: int) -> None:
    # One item's value: 0..5 with these probabilities; n_items of them summed.
    shares = np.array([0.1, 0.05, 0.3, 0.25, 0.2, 0.1])
    law = np.array([1.0])
    for _ in range(n_items):
        law = np.convolve(law, shares)
    # 400 items: the sum spans 0..2000 but is computed on 1,024 points from 700, as the
    # module does for large cells (the law outside is below 1e-17).
    length = len(law) if first == 0 else 1024
    cdf = resampled_sum_cdf(
        shares[None, :],
        np.array([n_items], dtype=np.int64),
        length,
        np.array([first], dtype=np.int64),
    )
    expected = np.cumsum(law[first : first + length])
    expected /= expected[-1]
    assert np.max(np.abs(cdf[0] - expected)) < 1e-12
    assert law[:first].sum() + law[first + length :].sum() < 1e-15
