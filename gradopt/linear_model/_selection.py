"""Weighted medians over row blocks, exact, and the robust spread of y built on them.

In memory the median is numpy's (two O(n) partitions for equal weights). Over blocks
that live elsewhere (Dask chunks) it is an exact distributed selection, never an
approximation: the answer is bracketed by ``lo < answer <= hi`` and each round

1. summarises every block's values strictly inside ``(lo, hi)``: their count and 64 of
   their order statistics (one reduction, O(64 · blocks) numbers travel);
2. if few values remain (at most ``max_gather``), gathers them with their weights and
   the weight below ``lo`` and finishes on the client; otherwise counts the weight at or
   below each of the merged order statistics (one reduction of a vector) and narrows the
   bracket to two neighbouring ones.

Between two neighbouring merged order statistics each block holds at most 1/64 of its
values in the bracket, so every round divides the count by about 64: 2e7 values need
two rounds of two reductions and a small gather. Ties cannot stall it (a pivot value
itself always leaves the open bracket). The result is the value numpy's median gives,
bit for bit, whenever the sums of weights are exact (unit or integer weights); with
other weights it can differ only where a cumulative weight ties half the total to
rounding.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradopt._typing import FloatArray
from gradopt.linear_model._blocked import Blocks
from gradopt.linear_model._huber_loss import power_of_two

__all__ = ["blocked_median", "robust_spread", "sample_step", "weighted_median"]

_QUANTILES = 64  # order statistics per block and round
_CONSTANT = 64 * float(np.finfo(np.float64).eps)  # a spread at rounding level of the peak
_MAD = 0.6745  # the MAD of a standard normal distribution


def weighted_median(values: FloatArray, weights: FloatArray) -> float:
    """Median of `values` repeated `weights` times (O(n) when the weights are equal).

    The mean of the smallest value whose cumulative weight reaches half the total and
    the smallest whose cumulative weight exceeds it (numpy's median for equal weights).

    Examples
    --------
    >>> weighted_median(np.array([1.0, 2.0, 10.0]), np.array([1.0, 1.0, 3.0]))
    10.0
    """
    if np.all(weights == weights[0]):
        return float(np.median(values))
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    half = cumulative[-1] / 2
    lower = values[order[np.searchsorted(cumulative, half, side="left")]]
    upper = values[order[np.searchsorted(cumulative, half, side="right")]]
    return float(lower + upper) / 2


# ----------------------------------------------------------------- block functions
@dataclass(frozen=True)
class _Values:
    """The values a selection runs over: ``transform(X_b, y_b)`` on rows of positive
    weight, with their weights (None: every weight counts as one)."""

    transform: Callable[[Any, FloatArray], FloatArray]
    weighted: bool = True

    def __call__(
        self, X_b: Any, y_b: FloatArray, sw_b: FloatArray | None
    ) -> tuple[FloatArray, FloatArray | None]:
        values = self.transform(X_b, y_b)
        if sw_b is None:
            return values, None
        keep = sw_b > 0
        return values[keep], sw_b[keep] if self.weighted else None


def _extent(of: _Values, X_b: Any, y_b: FloatArray, sw_b: Any) -> FloatArray:
    """[total weight, count, smallest value, largest value, smallest and largest weight]."""
    values, weights = of(X_b, y_b, sw_b)
    if values.size == 0:
        return np.array([0.0, 0.0, np.inf, -np.inf, np.inf, -np.inf])
    low, high = float(np.min(values)), float(np.max(values))
    if weights is None:
        return np.array([values.size, values.size, low, high, 1.0, 1.0])
    return np.array([np.sum(weights), values.size, low, high, np.min(weights), np.max(weights)])


def _merge_extent(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.concatenate(
        [a[:2] + b[:2], [min(a[2], b[2]), max(a[3], b[3]), min(a[4], b[4]), max(a[5], b[5])]]
    )


def _inside(
    lo: float, hi: float, of: _Values, X_b: Any, y_b: FloatArray, sw_b: Any
) -> tuple[int, FloatArray]:
    """How many values lie in ``(lo, hi)``, and 64 of their order statistics."""
    values, _ = of(X_b, y_b, sw_b)
    inside = np.sort(values[(values > lo) & (values < hi)])
    if inside.size == 0:
        return 0, inside
    ranks = np.unique(np.linspace(0, inside.size - 1, _QUANTILES).round().astype(np.intp))
    return int(inside.size), inside[ranks]


def _merge_inside(a: tuple[int, FloatArray], b: tuple[int, FloatArray]) -> Any:
    return a[0] + b[0], np.concatenate([a[1], b[1]])


def _weight_at_or_below(
    pivots: FloatArray, of: _Values, X_b: Any, y_b: FloatArray, sw_b: Any
) -> FloatArray:
    """The block's weight of values ``<= p`` for each pivot ``p``."""
    values, weights = of(X_b, y_b, sw_b)
    order = np.argsort(values, kind="stable")
    position = np.searchsorted(values[order], pivots, side="right")
    if weights is None:
        return position.astype(np.float64)
    cumulative = np.concatenate([[0.0], np.cumsum(weights[order])])
    result: FloatArray = cumulative[position]
    return result


def _gather(
    lo: float, hi: float, of: _Values, X_b: Any, y_b: FloatArray, sw_b: Any
) -> tuple[float, FloatArray, FloatArray]:
    """The weight of values ``<= lo``, and the values in ``(lo, hi)`` with their weights."""
    values, weights = of(X_b, y_b, sw_b)
    if weights is None:
        weights = np.ones(values.size)
    keep = (values > lo) & (values < hi)
    return float(np.sum(weights[values <= lo])), values[keep], weights[keep]


def _merge_gathered(a: Any, b: Any) -> Any:
    return a[0] + b[0], np.concatenate([a[1], b[1]]), np.concatenate([a[2], b[2]])


# ----------------------------------------------------------------------- selection
def _smallest_reaching(
    blocks: Blocks,
    of: _Values,
    target: float,
    strict: bool,
    bracket: tuple[float, float],
    max_gather: int,
) -> float:
    """The smallest value whose cumulative weight reaches (``strict``: exceeds) `target`,
    given a bracket ``(lo, hi)`` with the answer in ``(lo, hi]`` and ``hi`` a value."""

    def reached(weight: Any) -> Any:
        return np.greater(weight, target) if strict else np.greater_equal(weight, target)

    lo, hi = bracket
    while True:
        count, pivots = blocks.reduce(functools.partial(_inside, lo, hi, of), _merge_inside)
        if count == 0:
            return hi
        if count <= max_gather:
            below, values, weights = blocks.reduce(
                functools.partial(_gather, lo, hi, of), _merge_gathered
            )
            order = np.argsort(values, kind="stable")
            hits = np.flatnonzero(reached(below + np.cumsum(weights[order])))
            return float(values[order[hits[0]]]) if hits.size else hi
        pivots = np.unique(pivots)
        weight = blocks.reduce(functools.partial(_weight_at_or_below, pivots, of))
        hits = np.flatnonzero(reached(weight))
        if hits.size:
            hi = float(pivots[hits[0]])
        if not hits.size or hits[0] > 0:
            lo = float(pivots[hits[0] - 1 if hits.size else -1])


def blocked_median(
    blocks: Blocks,
    transform: Callable[[Any, FloatArray], FloatArray],
    max_gather: int = 1 << 16,
) -> tuple[float, float]:
    """The exact weighted median of ``transform(X, y)`` (one value per row) over the
    rows of positive weight, and the largest absolute value among them.

    `transform` is applied to each block (it must be picklable to run on Dask workers:
    a module-level function or a :func:`functools.partial` of one), residuals for
    example. Equal weights count as one each, so that their sums are exact.

    Examples
    --------
    >>> from gradopt.linear_model._blocked import RowBlocks
    >>> y = np.random.default_rng(0).normal(size=1001)
    >>> blocks = RowBlocks(np.zeros((1001, 1)), y, None, rows=100)
    >>> median, peak = blocked_median(blocks, lambda X_b, y_b: -y_b, max_gather=10)
    >>> bool(median == np.median(-y)), bool(peak == np.max(np.abs(y)))
    (True, True)
    """
    of = _Values(transform)
    total, count, smallest, largest, light, heavy = blocks.reduce(
        functools.partial(_extent, of), _merge_extent
    )
    if not total > 0:
        raise ValueError("the median of no values (every sample weight is zero)")
    if light == heavy:  # equal weights: count rows, exactly
        of, total = _Values(transform, weighted=False), count
    half = total / 2
    lower = _smallest_reaching(blocks, of, half, False, (-np.inf, largest), max_gather)
    at_lower = blocks.reduce(functools.partial(_weight_at_or_below, np.array([lower]), of))
    if at_lower[0] > half:
        upper = lower
    else:
        upper = _smallest_reaching(blocks, of, half, True, (lower, largest), max_gather)
    return float(lower + upper) / 2, float(max(abs(smallest), abs(largest)))


def sample_step(n_samples: int) -> int:
    """The step ``k`` of the sample ``0, k, 2k, ...`` that starts a fit: every row up to
    65,536 rows, else every 64th row or more, at most 32,768 rows.

    Examples
    --------
    >>> sample_step(1000), sample_step(100_000), sample_step(20_000_000)
    (1, 64, 611)
    """
    if n_samples <= 1 << 16:
        return 1
    return max(64, -(-n_samples // (1 << 15)))


def robust_spread(blocks: Blocks, center: float, rms: float, y_peak: float) -> float:
    """``s_y``: the normalised (weighted) median absolute deviation of the targets, from
    every k-th row (:func:`sample_step`).

    Not their standard deviation, which outliers inflate. It sets the scale of the
    optimizer's coordinates and the start of sigma, not the minimiser, so a sample is
    enough on large data: the rows ``0, k, 2k, ...`` are the same in memory and on Dask
    (the fits agree), and no temporary of size n is made. Computed on ``y`` divided by a power of
    two (exact), so targets near 1e308 do not overflow; when the MAD is zero, the
    root-mean-square deviation from `center` (`rms`, of every row), then the largest
    ``|y|``, then 1 (a spread within rounding of ``max|y|`` counts as zero).

    Examples
    --------
    >>> from gradopt.linear_model._blocked import RowBlocks
    >>> y = np.array([0.0, 1.0, 2.0, 3.0, 100.0])
    >>> blocks = RowBlocks(np.zeros((5, 1)), y, None)
    >>> robust_spread(blocks, 0.0, 1.0, 100.0) == 1.0 / 0.6745
    True
    """
    unit = float(power_of_two(y_peak))
    _, y, weights = blocks.every(sample_step(blocks.n_samples))
    if weights is not None:
        y, weights = y[weights > 0], weights[weights > 0]
    kept = y / unit
    weights = np.ones(kept.size) if weights is None else weights
    peak = y_peak / unit

    def mad() -> float:
        if not kept.size:  # every sampled row weighs nothing
            return 0.0
        return weighted_median(np.abs(kept - weighted_median(kept, weights)), weights) / _MAD

    for spread in (mad, lambda: rms / unit, lambda: peak):
        value = spread()
        if value > _CONSTANT * peak:  # a spread at rounding level is no spread
            return value * unit
    return 1.0
