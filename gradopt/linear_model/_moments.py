"""Weighted means and spreads of the columns of X and of y, over row blocks.

The usual path is two passes of plain sums (products with the weights, fast BLAS): the
weighted means, then the sums of squared deviations from them with the corrected
two-pass formula (the mean deviation's square is subtracted, so a constant column gets a
spread of zero, not of its rounding, and a column like 1.7e12 + noise loses no digits).
When a sum is not finite (values beyond 1e154, whose squares overflow, or X holding
inf), or for sparse X, the exact path runs instead: :func:`moments_block` divides each
column by a power of two near its largest value (no square overflows, even near 1e308)
and summaries combine without cancellation (Chan, Golub and LeVeque's pairwise update,
in scaled units). Either way the same numbers come out of any split into blocks, in
memory or over Dask chunks, to rounding.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError
from gradopt.linear_model._blocked import BLOCK_ELEMENTS, Blocks, centred, scratch_elements
from gradopt.linear_model._huber_loss import power_of_two

__all__ = [
    "DataSummary",
    "Moments",
    "combine_moments",
    "moments_block",
    "summarise",
    "weighted_sums",
]

_CONSTANT = 64 * float(np.finfo(np.float64).eps)  # relative spread of a constant column


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
    """Weighted means of the columns (zeros when not centred)."""
    x_spread: FloatArray
    """Root-mean-square deviation from ``x_mean`` (from 0 when not centred), a column
    constant but for rounding (spread within 64·eps of its mean) counted as spreading
    over its value (or 1 if zero)."""
    y_mean: float
    y_spread: float
    """Root-mean-square deviation of y from ``y_mean`` (from 0 when not centred)."""
    y_peak: float
    """``max|y|``."""
    x_peak: float
    """``max|X|`` over every entry."""


def _sums_block(X_b: Any, y_b: FloatArray, sw_b: FloatArray | None) -> tuple[Any, ...]:
    """(Σs, Σs·x per column, Σs·y, max|y|, max|x|) of the block."""
    weights = np.ones(y_b.shape[0]) if sw_b is None else sw_b
    peak = max(float(X_b.max(initial=0.0)), -float(X_b.min(initial=0.0))) if X_b.size else 0.0
    return (
        float(np.sum(weights)),
        np.asarray(weights @ X_b),
        float(weights @ y_b),
        float(np.max(np.abs(y_b), initial=0.0)),
        peak,
    )


def _merge_sums(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2], max(a[3], b[3]), max(a[4], b[4])


def weighted_sums(blocks: Blocks) -> tuple[float, FloatArray, float, float]:
    """(total weight, the columns' weighted means, y's weighted mean, max|y|): one pass
    of sums (products with the weights)."""
    total, x_sum, y_sum, y_peak, _ = blocks.reduce(_sums_block, _merge_sums)
    if not 0 < total < np.inf:
        raise InvalidInputError(
            f"sample_weight must have a positive, finite sum; it sums to {total:.3g}."
        )
    return total, np.asarray(x_sum) / total, float(y_sum) / total, float(y_peak)


def _squares_block(
    x_mean: FloatArray, y_mean: float, X_b: Any, y_b: FloatArray, sw_b: FloatArray | None
) -> FloatArray:
    """[Σs·(x - m)², Σs·(x - m) per column, then the same for y] of the block."""
    deviation = centred(X_b, x_mean)
    y_deviation = y_b - y_mean
    weights = np.ones(y_b.shape[0]) if sw_b is None else sw_b
    first = weights @ deviation
    square = weights @ np.square(deviation, out=deviation)  # the scratch buffer, in place
    return np.concatenate(
        [square, first, [weights @ (y_deviation * y_deviation), weights @ y_deviation]]
    )


def _fast_moments(
    blocks: Blocks,
) -> tuple[float, FloatArray, FloatArray, float, float] | None:
    """(total weight, means, spreads, max|y|, max|X|) of the columns of X then y, by
    sums; None when a sum is not finite."""
    with np.errstate(all="ignore"):
        total, x_sum, y_sum, y_peak, x_peak = blocks.reduce(_sums_block, _merge_sums)
        mean = np.append(x_sum, y_sum) / total
        if not (np.all(np.isfinite(mean)) and 0 < total < np.inf):
            return None
        d = blocks.n_features
        squares = functools.partial(_squares_block, mean[:d], float(mean[d]))
        sums = blocks.reduce(squares, elements=scratch_elements(blocks))
        square = np.concatenate([sums[:d], sums[2 * d : 2 * d + 1]]) / total
        first = np.concatenate([sums[d : 2 * d], sums[2 * d + 1 :]]) / total
        variance = np.maximum(square - first * first, 0.0)
        if not np.all(np.isfinite(variance)):
            return None
    return total, mean + first, np.sqrt(variance), y_peak, x_peak


def _exact_moments(blocks: Blocks) -> tuple[float, FloatArray, FloatArray, float, float]:
    m: Moments = blocks.reduce(moments_block, combine_moments)
    for name, peak in (("X", m.peak[:-1]), ("y", m.peak[-1:])):
        if not np.all(np.isfinite(peak)):  # validated in memory; Dask arrays are not
            raise InvalidInputError(f"{name} must be finite; it holds NaN or infinity.")
    return m.weight, m.mean, m.spread, float(m.peak[-1]), float(np.max(m.peak[:-1], initial=0.0))


def summarise(blocks: Blocks, center: bool) -> DataSummary:
    """The :class:`DataSummary` of the blocks; means set to 0 unless `center`.

    Examples
    --------
    >>> from gradopt.linear_model._blocked import RowBlocks
    >>> X = np.array([[1.0, 5.0], [3.0, 5.0]])
    >>> s = summarise(RowBlocks(X, np.array([0.0, 2.0]), None), center=False)
    >>> s.x_mean, s.x_spread.round(4), round(s.y_spread, 4)
    (array([0., 0.]), array([2.2361, 5.    ]), 1.4142)
    >>> summarise(RowBlocks(X, np.array([0.0, 2.0]), None), center=True).x_spread
    array([1., 5.])
    """
    fast = None if blocks.sparse else _fast_moments(blocks)
    total, mean, spread, y_peak, x_peak = _exact_moments(blocks) if fast is None else fast
    d = blocks.n_features
    size = np.abs(mean[:d])
    constant = spread[:d] <= _CONSTANT * size
    if not center:  # the root-mean-square value: deviation from 0
        spread, mean = np.hypot(spread, mean), np.zeros_like(mean)
    return DataSummary(
        total_weight=total,
        x_mean=mean[:d],
        x_spread=np.where(constant, np.where(size > 0, size, 1.0), spread[:d]),
        y_mean=float(mean[d]),
        y_spread=float(spread[d]),
        y_peak=y_peak,
        x_peak=x_peak,
    )
