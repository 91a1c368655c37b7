"""Scale estimators of the residuals: the normalised MAD, Huber's proposal 2, M-scales.

Each takes the residuals ``r``, the sample weights ``s`` (integer weights act as repeated
rows) and the number of fitted parameters ``p``, and returns ``σ >= 0``:

``mad``
    ``median(|r|) / Φ⁻¹(3/4)``, centred at 0 as in statsmodels' RLM and MASS::rlm.
``huber``
    Huber's proposal 2, the root of ``Σ sᵢ·χ(rᵢ/σ) = (S - p)·E_Φ[χ]`` with
    ``χ(u) = min(u², d²)/2`` and ``d = 2.5`` (statsmodels' ``HuberScale``).
M-scale (:class:`MScale`)
    The root of ``Σ sᵢ·ρ(rᵢ/σ) = b·(S - p)`` for a bounded ``ρ`` with ``sup ρ = 1``: the
    scale an S-estimator minimises (robustbase's ``lmrob`` divides by ``n - p`` too).

A zero scale means at least half of the weight sits on zero residuals (an exact fit of
that half); callers treat it as a degenerate fit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from gradopt._typing import FloatArray
from gradopt.linear_model._selection import weighted_median as _weighted_median

__all__ = ["GAUSSIAN_MAD", "SCALES", "HuberScale", "MScale", "ScaleRule", "mad_scale"]

GAUSSIAN_MAD = float(norm.ppf(0.75))  # 0.6744897501960817: the MAD of N(0, 1)


def mad_scale(
    residual: FloatArray,
    sample_weight: FloatArray,
    n_params: int = 0,
    start: float | None = None,
) -> float:
    """The normalised median absolute residual (centred at 0).

    Examples
    --------
    >>> round(mad_scale(np.array([-2.0, 1.0, 0.5, 3.0]), np.ones(4)), 4)
    2.2239
    """
    keep = sample_weight > 0
    if keep.all():
        size = np.abs(residual)
        if sample_weight.min() == sample_weight.max():  # the plain median, in place
            half = (size.size - 1) // 2
            size.partition([half, size.size // 2])
            return float(size[half] + size[size.size // 2]) / 2 / GAUSSIAN_MAD
        return _weighted_median(size, sample_weight) / GAUSSIAN_MAD
    return _weighted_median(np.abs(residual[keep]), sample_weight[keep]) / GAUSSIAN_MAD


Chi = Callable[[FloatArray], tuple[FloatArray, FloatArray]]
"""``u -> (χ(u), u·χ'(u))`` for an even ``χ`` rising from 0 to its supremum."""


def _solve_scale(
    chi: Chi,
    supremum: float,
    residual: FloatArray,
    sample_weight: FloatArray,
    target: float,
    start: float | None,
) -> float:
    """The root ``σ`` of ``Σ sᵢ·χ(rᵢ/σ) = target``.

    The left side falls from ``(weight of r ≠ 0)·sup χ`` at ``σ → 0`` to 0 at
    ``σ → ∞``; without a root (too much weight on zero residuals) the scale is 0.
    Newton's method on ``log σ`` inside a bracket that every evaluation narrows
    (bisection when a step leaves it): from a nearby `start`, three or four evaluations.
    """
    keep = (sample_weight > 0) & (residual != 0)
    r, s = np.abs(residual[keep]), sample_weight[keep]
    if r.size == 0 or target <= 0 or float(np.sum(s)) * supremum <= target:
        return 0.0
    if start is None or not (np.isfinite(start) and start > 0):
        start = float(np.median(r))
    t, lo, hi = math.log(start), -math.inf, math.inf
    for _ in range(200):
        value, slope = chi(r / math.exp(t))
        excess = float(s @ value) - target
        derivative = -float(s @ slope)  # d/dlogσ
        if excess == 0:
            return math.exp(t)
        if excess > 0:
            lo = t
        else:
            hi = t
        # Newton, at most a factor e² per step (far out the function is flat)
        new = t - max(-2.0, min(2.0, excess / derivative)) if derivative < 0 else math.nan
        if not lo < new < hi:
            finite = math.isfinite(lo) and math.isfinite(hi)
            new = (lo + hi) / 2 if finite else t + (1.0 if excess > 0 else -1.0)
        if abs(new - t) <= 1e-13:
            return math.exp(new)
        t = new
    return math.exp(t)  # pragma: no cover - the bracket halves at worst: 200 is plenty


class _MScale:
    """The root ``σ`` of ``Σ sᵢ·χ(rᵢ/σ) = level·(S - p)`` for an even, rising ``χ``."""

    supremum: float  # sup χ

    @property
    def level(self) -> float:
        raise NotImplementedError

    def chi(self, u: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``χ(u)`` and ``u·χ'(u)``."""
        raise NotImplementedError

    def __call__(
        self,
        residual: FloatArray,
        sample_weight: FloatArray,
        n_params: int,
        start: float | None = None,
    ) -> float:
        target = self.level * (float(np.sum(sample_weight)) - n_params)
        if start is None:
            start = mad_scale(residual, sample_weight)
        return _solve_scale(self.chi, self.supremum, residual, sample_weight, target, start)


@dataclass(frozen=True)
class HuberScale(_MScale):
    """Huber's proposal 2 with cut-off ``d`` (statsmodels' ``HuberScale``, d = 2.5)."""

    d: float = 2.5

    @property
    def supremum(self) -> float:  # type: ignore[override]
        return self.d * self.d / 2

    @property
    def level(self) -> float:
        """``E_Φ[min(u², d²)/2]``."""
        d = self.d
        inside = 2.0 * norm.cdf(d) - 1.0 - 2.0 * d * norm.pdf(d)
        return float(0.5 * (inside + 2.0 * d * d * norm.sf(d)))

    def chi(self, u: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``χ(u) = min(u², d²)/2`` and ``u·χ'(u)``."""
        square = u * u
        inside = square < self.d * self.d
        return 0.5 * np.where(inside, square, self.d * self.d), np.where(inside, square, 0.0)


@dataclass(frozen=True)
class MScale(_MScale):
    """The M-scale of Tukey's bisquare ``ρ`` scaled to ``sup ρ = 1``, at level `b`.

    ``c = 1.54764, b = 0.5`` (robustbase's defaults) is consistent at the normal and
    breaks down at 50%.
    """

    c: float = 1.54764
    b: float = 0.5
    supremum = 1.0

    @property
    def level(self) -> float:
        return self.b

    def rho(self, u: FloatArray) -> FloatArray:
        """``min(1, 1 - (1 - (u/c)²)³)``."""
        return self.chi(u)[0]

    def chi(self, u: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``ρ(u)`` and ``u·ρ'(u) = 6·t·(1 - t)²`` with ``t = min((u/c)², 1)``."""
        t = np.minimum((u / self.c) ** 2, 1.0)
        complement = 1.0 - t
        squared = complement * complement
        return 1.0 - squared * complement, 6.0 * t * squared


ScaleRule = Callable[..., float]
"""``(residual, sample_weight, n_params, start=None) -> σ``: re-estimated each round of an
M-fit (`start`, the previous scale, only speeds up root finding)."""

SCALES: dict[str, ScaleRule] = {
    "mad": mad_scale,
    "huber": HuberScale(),
}
