"""Richardson extrapolation of central differences, with an error estimate per component.

A central difference at step ``h`` has the expansion
``D(h) = f'(x) + c1 h^2 + c2 h^4 + c3 h^6 + ...`` (odd powers cancel). Evaluating it at the
steps ``h, h/2, h/4, h/8, h/16`` and combining the values (the Richardson table
``T[i, k] = T[i, k-1] + (T[i, k-1] - T[i-1, k-1]) / (2^(2k) - 1)``) removes the terms one by
one: the entry ``T[4, 4]`` is accurate to O(h^10), so a large step (about 0.06 relative to
``max(1, |x_j|)``) can be used, and round-off, which grows like ``eps |f| / h``, stays small.

Every entry ``T[i, k]`` (``k >= 1``) is a candidate. Its error is estimated as the sum of

* a truncation term ``|T[i, k] - T[i, k-1]|``: the correction the last elimination made,
  which bounds the error of ``T[i, k]`` while the expansion is in its asymptotic regime, and
* a round-off term ``eps * (max|f| + |x_j| max|D_m|) * sum_m |a_m| / h_m``: the worst
  case of an error of ``eps (|f| + |x_j df/dx_j|)`` in each value of f (the rounding of
  the result and of ``x_j`` itself), propagated through the weights ``a_m`` of the entry.

Per component, the candidate with the smallest estimate is returned, with that estimate.
All ``2 * 5 * d`` points are laid out up front, so they can be evaluated in any order or in
parallel; ``f(x)`` is not needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradopt._typing import FloatArray
from gradopt.gradients._schemes import Scheme

__all__ = ["RichardsonScheme", "richardson_scheme"]

_EPS = float(np.finfo(np.float64).eps)


def richardson_scheme(
    levels: int = 5, ratio: float = 2.0, rel_step: float = 0.0625
) -> RichardsonScheme:
    """Build the scheme: offsets ``±ratio**-i`` for ``i < levels``, top-entry weights."""
    top = _table_weights(ratio, levels)[levels - 1, levels - 1]
    offsets, weights = [], []
    for i in range(levels):
        scale = ratio**-i
        offsets += [scale, -scale]
        # a_i (f(x + s h) - f(x - s h)) / (2 s h), written in units of 1/h
        weights += [top[i] / (2 * scale), -top[i] / (2 * scale)]
    return RichardsonScheme(
        "richardson",
        rel_step,
        offsets=tuple(offsets),
        weights=tuple(weights),
        ratio=ratio,
        levels=levels,
    )


def _table_weights(ratio: float, levels: int) -> dict[tuple[int, int], FloatArray]:
    """Weights of every Richardson entry ``T[i, k]`` over the differences ``D_0..D_{n-1}``."""
    unit = np.eye(levels)
    weights: dict[tuple[int, int], FloatArray] = {(i, 0): unit[i] for i in range(levels)}
    for k in range(1, levels):
        factor = ratio ** (2 * k) - 1.0
        for i in range(k, levels):
            prev, lower = weights[i, k - 1], weights[i - 1, k - 1]
            weights[i, k] = prev + (prev - lower) / factor
    return weights


@dataclass(frozen=True)
class RichardsonScheme(Scheme):
    """Central differences at ``levels`` steps ``h / ratio**i``, Richardson-extrapolated.

    A :class:`~gradopt.gradients._schemes.Scheme` whose offsets are ``±ratio**-i``, so the
    points are laid out (and may be evaluated) like any other scheme's; its `weights` are
    those of the top entry of the table. Use :func:`richardson_scheme` to build one. The
    step ``h_j`` given to the methods is the largest step of the sequence.
    """

    ratio: float = 2.0
    levels: int = 5
    _table: dict[tuple[int, int], FloatArray] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_table", _table_weights(self.ratio, self.levels))

    def default_step(self, x: FloatArray) -> FloatArray:
        """The largest step: a power of two near ``rel_step * max(1, |x_j|)``.

        With a power of two and ``ratio = 2`` every step of the sequence is a power of two
        of at least 16 ulp of ``x_j``, so ``x_j ± h_i`` is exact (short of crossing a power
        of two upwards) and the differences use the steps actually taken.
        """
        scale = self.rel_step * np.maximum(1.0, np.abs(x))
        h: FloatArray = np.exp2(np.round(np.log2(scale)))
        return h

    def ladder(self, h: FloatArray) -> FloatArray:
        """The steps ``h / ratio**i``, shape ``(levels, d)``."""
        powers = self.ratio ** -np.arange(self.levels, dtype=np.float64)
        steps: FloatArray = powers[:, None] * h[None, :]
        return steps

    def combine(self, values: np.ndarray[Any, Any], f0: float | None, h: FloatArray) -> FloatArray:
        """Gradient from the values at :meth:`points`."""
        return self.combine_with_error(values, f0, h)[0]

    def combine_with_error(
        self,
        values: np.ndarray[Any, Any],
        f0: float | None,
        h: FloatArray,
        x: FloatArray | None = None,
    ) -> tuple[FloatArray, FloatArray]:
        """Gradient and a per-component estimate of its absolute error.

        Give the point `x` when known: the round-off of an evaluation of f is modelled as
        ``eps * (|f| + |x_j| |df/dx_j|)``, the second term being what rounding ``x_j``
        (or ``c * x_j`` inside f) costs; without `x` only ``eps * |f|`` is counted.
        """
        d = h.size
        vals = np.asarray(values, dtype=np.float64).reshape(d, self.levels, 2)
        steps = self.ladder(h)  # (levels, d)
        diffs = (vals[:, :, 0] - vals[:, :, 1]).T / (2.0 * steps)  # D_i, shape (levels, d)
        noise = np.max(np.abs(vals), axis=(1, 2))
        if x is not None:
            noise = noise + np.abs(x) * np.max(np.abs(diffs), axis=0)
        inv_steps = 1.0 / steps
        top = self.levels - 1
        grad = np.full(d, np.nan)
        best = np.full(d, np.inf)
        # The top entry first: when values are not finite, NaN propagates from it.
        keys = sorted((key for key in self._table if key[1] > 0), key=lambda ik: ik != (top, top))
        for i, k in keys:
            w = self._table[i, k]
            entry = w @ diffs
            truncation = np.abs(entry - self._table[i, k - 1] @ diffs)
            roundoff = _EPS * noise * (np.abs(w) @ inv_steps)
            err = truncation + roundoff
            better = (err < best) | ((i, k) == (top, top))
            grad = np.where(better, entry, grad)
            best = np.where(better, err, best)
        return grad, best
