"""Weighted means, spreads and peaks of the columns of X and of y, in one pass of blocks.

A block function (:func:`moments_block`) summarises its rows exactly: each column is
divided by a power of two near its largest value (so no square overflows, even for
values near 1e308), its weighted mean is refined once by the mean of the deviations
(the corrected two-pass formula: a constant column gets a spread of zero, not of its
rounding), and the spread is the root-mean-square deviation from that mean. Two
summaries combine without cancellation (Chan, Golub and LeVeque's pairwise update, in
scaled units), so the same numbers come out of any split into blocks, in memory or over
Dask chunks, to rounding.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from gradopt._typing import FloatArray
from gradopt.linear_model._blocked import BLOCK_ELEMENTS, Blocks
from gradopt.linear_model._huber_loss import power_of_two

__all__ = ["DataSummary", "Moments", "combine_moments", "moments_block", "summarise"]


@dataclass(frozen=True)
class Moments:
    """Weighted summary of some rows: total weight, and per column the weighted mean,
    the weighted root-mean-square deviation from it and the largest absolute value
    (over every row, weighted or not). Columns: those of X, then y."""

    weight: float
    mean: FloatArray
    spread: FloatArray
    peak: FloatArray


def _dense_pieces(X_b: Any, y_b: FloatArray, sw_b: FloatArray | None) -> Iterator[Any]:
    """``[X_b, y_b]`` as dense pieces of at most about BLOCK_ELEMENTS entries."""
    rows = max(1, BLOCK_ELEMENTS // (X_b.shape[1] + 1))
    for start in range(0, X_b.shape[0], rows):
        piece = X_b[start : start + rows]
        piece = piece.toarray() if sp.issparse(piece) else np.asarray(piece, dtype=np.float64)
        weights = None if sw_b is None else sw_b[start : start + rows]
        yield np.column_stack([piece, y_b[start : start + rows]]), weights


def _piece_moments(piece: FloatArray, weights: FloatArray | None) -> Moments:
    peak = np.max(np.abs(piece), axis=0, initial=0.0)
    with np.errstate(over="ignore"):  # weights summing to inf are refused by the caller
        total = float(piece.shape[0]) if weights is None else float(np.sum(weights))
    if not total > 0:
        zeros = np.zeros(piece.shape[1])
        return Moments(0.0, zeros, zeros, peak)
    share = np.full(piece.shape[0], 1.0 / total) if weights is None else weights / total
    unit = power_of_two(peak)
    scaled = piece / unit
    first = share @ scaled
    deviation = scaled - first
    correction = share @ deviation
    variance = np.maximum(share @ (deviation * deviation) - correction * correction, 0.0)
    return Moments(total, (first + correction) * unit, np.sqrt(variance) * unit, peak)


def moments_block(X_b: Any, y_b: FloatArray, sw_b: FloatArray | None) -> Moments:
    """The :class:`Moments` of the columns of ``X_b`` and of ``y_b`` (a block function).

    Examples
    --------
    >>> X = np.array([[1.0, 5.0], [3.0, 5.0]])
    >>> m = moments_block(X, np.array([0.0, 2.0]), None)
    >>> m.weight, m.mean, m.spread, m.peak
    (2.0, array([2., 5., 1.]), array([1., 0., 1.]), array([3., 5., 2.]))
    """
    total: Moments | None = None
    for piece, weights in _dense_pieces(X_b, y_b, sw_b):
        part = _piece_moments(piece, weights)
        total = part if total is None else combine_moments(total, part)
    if total is None:  # no rows
        zeros = np.zeros(X_b.shape[1] + 1)
        return Moments(0.0, zeros, zeros, zeros)
    return total


def combine_moments(a: Moments, b: Moments) -> Moments:
    """The :class:`Moments` of the rows of `a` and `b` together (no cancellation, no
    overflow: the update's three non-negative terms in units of a power of two)."""
    peak = np.maximum(a.peak, b.peak)
    if not b.weight > 0:
        return Moments(a.weight, a.mean, a.spread, peak)
    if not a.weight > 0:
        return Moments(b.weight, b.mean, b.spread, peak)
    with np.errstate(over="ignore", invalid="ignore"):  # a total weight of inf is refused
        weight = a.weight + b.weight
        share_a, share_b = a.weight / weight, b.weight / weight
        mean = share_a * a.mean + share_b * b.mean  # convex: no overflow
        unit = power_of_two(
            np.maximum.reduce([np.abs(a.mean), np.abs(b.mean), a.spread, b.spread])
        )
        gap = b.mean / unit - a.mean / unit
        variance = (
            share_a * (a.spread / unit) ** 2
            + share_b * (b.spread / unit) ** 2
            + share_a * share_b * gap * gap
        )
    return Moments(weight, mean, np.sqrt(variance) * unit, peak)


@dataclass(frozen=True)
class DataSummary:
    """What the objectives need to know of ``(X, y, sample_weight)`` before a fit."""

    total_weight: float
    x_mean: FloatArray
    x_spread: FloatArray
    """Root-mean-square deviation from ``x_mean`` (from 0 when not centred)."""
    x_peak: FloatArray
    y_mean: float
    y_spread: float
    """Root-mean-square deviation of y from ``y_mean`` (from 0 when not centred)."""
    y_peak: float


def summarise(blocks: Blocks, center: bool) -> DataSummary:
    """One pass over the blocks: the :class:`DataSummary`, means set to 0 unless `center`.

    Examples
    --------
    >>> from gradopt.linear_model._blocked import RowBlocks
    >>> X = np.array([[1.0, 5.0], [3.0, 5.0]])
    >>> s = summarise(RowBlocks(X, np.array([0.0, 2.0]), None), center=False)
    >>> s.x_mean, s.x_spread.round(4), round(s.y_spread, 4)
    (array([0., 0.]), array([2.2361, 5.    ]), 1.4142)
    """
    m: Moments = blocks.reduce(moments_block, combine_moments)
    mean, spread = m.mean, m.spread
    if not center:  # the root-mean-square value: deviation from 0
        spread, mean = np.hypot(spread, mean), np.zeros_like(mean)
    d = blocks.n_features
    return DataSummary(
        total_weight=m.weight,
        x_mean=mean[:d],
        x_spread=spread[:d],
        x_peak=m.peak[:d],
        y_mean=float(mean[d]),
        y_spread=float(spread[d]),
        y_peak=float(m.peak[d]),
    )
