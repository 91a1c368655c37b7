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
from scipy.optimize import brentq
from scipy.stats import norm

from gradopt._typing import FloatArray
from gradopt.linear_model._huber_objective import _weighted_median

__all__ = ["GAUSSIAN_MAD", "SCALES", "HuberScale", "MScale", "ScaleRule", "mad_scale"]

GAUSSIAN_MAD = float(norm.ppf(0.75))  # 0.6744897501960817: the MAD of N(0, 1)


def mad_scale(residual: FloatArray, sample_weight: FloatArray, n_params: int = 0) -> float:
    """The normalised median absolute residual (centred at 0).

    Examples
    --------
    >>> round(mad_scale(np.array([-2.0, 1.0, 0.5, 3.0]), np.ones(4)), 4)
    2.2239
    """
    keep = sample_weight > 0
    return _weighted_median(np.abs(residual[keep]), sample_weight[keep]) / GAUSSIAN_MAD


def _solve_scale(
    chi: Callable[[FloatArray], FloatArray],
    residual: FloatArray,
    sample_weight: FloatArray,
    target: float,
    start: float,
) -> float:
    """The root ``σ`` of ``Σ sᵢ·χ(rᵢ/σ) = target`` for a bounded, even, rising ``χ``.

    The left side falls from ``(weight of r ≠ 0)·sup χ`` at ``σ → 0`` to 0 at
    ``σ → ∞``; without a root (too much weight on zero residuals) the scale is 0.
    Brent's method on ``log σ`` after bracketing from `start`: about ten evaluations.
    """
    keep = (sample_weight > 0) & (residual != 0)
    r, s = np.abs(residual[keep]), sample_weight[keep]
    if r.size == 0 or target <= 0:
        return 0.0
    top = float(np.max(r))

    def excess(log_sigma: float) -> float:
        return float(s @ chi(r / math.exp(log_sigma))) - target

    if excess(math.log(top) - 40.0) <= 0:  # even σ = max|r|·e⁻⁴⁰ leaves χ below target
        return 0.0
    start = start if np.isfinite(start) and start > 0 else top
    lo = hi = math.log(start)
    while excess(lo) <= 0:
        lo -= 1.0
    while excess(hi) > 0:
        hi += 1.0
    root = brentq(excess, lo, hi, xtol=1e-14, rtol=4 * np.finfo(np.float64).eps, maxiter=200)
    return math.exp(float(root))


@dataclass(frozen=True)
class HuberScale:
    """Huber's proposal 2 with cut-off ``d`` (statsmodels' ``HuberScale``, d = 2.5)."""

    d: float = 2.5

    @property
    def expected_chi(self) -> float:
        """``E_Φ[min(u², d²)/2]``."""
        d = self.d
        inside = 2.0 * norm.cdf(d) - 1.0 - 2.0 * d * norm.pdf(d)
        return float(0.5 * (inside + 2.0 * d * d * norm.sf(d)))

    def __call__(self, residual: FloatArray, sample_weight: FloatArray, n_params: int) -> float:
        target = (float(np.sum(sample_weight)) - n_params) * self.expected_chi
        d = self.d

        def chi(u: FloatArray) -> FloatArray:
            result: FloatArray = 0.5 * np.minimum(u * u, d * d)
            return result

        start = mad_scale(residual, sample_weight)
        return _solve_scale(chi, residual, sample_weight, target, start)


@dataclass(frozen=True)
class MScale:
    """The M-scale of Tukey's bisquare ``ρ`` scaled to ``sup ρ = 1``, at level `b`.

    ``c = 1.54764, b = 0.5`` (robustbase's defaults) is consistent at the normal and
    breaks down at 50%.
    """

    c: float = 1.54764
    b: float = 0.5

    def rho(self, u: FloatArray) -> FloatArray:
        """``min(1, 1 - (1 - (u/c)²)³)``."""
        t = np.minimum((u / self.c) ** 2, 1.0)
        result: FloatArray = 1.0 - (1.0 - t) ** 3
        return result

    def __call__(
        self,
        residual: FloatArray,
        sample_weight: FloatArray,
        n_params: int,
        start: float | None = None,
    ) -> float:
        target = self.b * (float(np.sum(sample_weight)) - n_params)
        if start is None:
            start = mad_scale(residual, sample_weight)
        return _solve_scale(self.rho, residual, sample_weight, target, start)

    def excess(
        self, residual: FloatArray, sample_weight: FloatArray, n_params: int, sigma: float
    ) -> float:
        """``Σ sᵢ·ρ(rᵢ/σ) - b·(S - p)``: positive exactly when the M-scale exceeds `sigma`."""
        target = self.b * (float(np.sum(sample_weight)) - n_params)
        return float(sample_weight @ self.rho(residual / sigma)) - target


ScaleRule = Callable[[FloatArray, FloatArray, int], float]
"""``(residual, sample_weight, n_params) -> σ``: what the M-fit re-estimates each round."""

SCALES: dict[str, ScaleRule] = {
    "mad": mad_scale,
    "huber": HuberScale(),
}
