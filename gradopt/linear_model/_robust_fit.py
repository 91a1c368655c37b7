"""The M-fit: solve the estimating equations at a fixed scale, re-estimate it, repeat.

``fit_m`` alternates a fixed-scale solve (:func:`~gradopt.linear_model._robust_solvers.solve`)
with the scale rule (``mad``, ``huber``) until the scale no longer moves: the fixed point
``Σ sᵢ·ψ(rᵢ/σ)·xᵢ = α·coef/σ``, ``σ = scale(r)`` is what statsmodels' RLM and MASS::rlm
iterate towards one IRLS step at a time. Converged means the equations hold to ``tol``
(the scaled-gradient test) at a scale that moved by at most ``tol / 100`` relative in the
last round; anything short of that is reported, never silent.

``start_m`` gives the start: least squares (RLM's and rlm's), then, for redescending
losses, the Huber fit with the same scale rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradopt._typing import FloatArray
from gradopt.linear_model._huber_objective import GRADIENT_MARGIN
from gradopt.linear_model._robust_losses import Huber, LeastSquares
from gradopt.linear_model._robust_objective import RobustObjective
from gradopt.linear_model._robust_scale import ScaleRule
from gradopt.linear_model._robust_solvers import solve

__all__ = ["MFit", "fit_m", "least_squares_start", "start_m"]


@dataclass
class MFit:
    """Where an M-fit ended: internal point, scale, counts and the verdict."""

    v: FloatArray
    scale: float
    nit: int = 0
    nfev: int = 0
    converged: bool = True
    message: str = "converged"
    history: list[float] = field(default_factory=list)


def least_squares_start(objective: RobustObjective) -> FloatArray:
    """The (ridge) least-squares fit: one exact Newton step on the least-squares objective."""
    ls = objective.with_loss(LeastSquares())
    ls.set_scale(objective.y_scale)
    v0 = np.zeros(objective.n_params)
    _, grad = ls.value_and_grad(v0)
    # lstsq: the minimum-norm fit when there are no more samples than parameters
    step = np.linalg.lstsq(ls.hessian_from(ls.design_gram), grad, rcond=None)[0]
    return np.asarray(v0 - step, dtype=np.float64)


def fit_m(
    objective: RobustObjective,
    v0: FloatArray,
    scale_rule: ScaleRule | float,
    *,
    solver: str,
    gradient: str | Callable[..., Any],
    tol: float,
    max_iter: int,
) -> MFit:
    """Alternate fixed-scale solves and scale updates from `v0` (see the module doc)."""
    fixed = not callable(scale_rule)

    def rescale(v: FloatArray, start: float | None) -> float:
        if callable(scale_rule):
            return objective.residual_scale(v, scale_rule, start)
        return float(scale_rule)

    v, scale = np.array(v0, dtype=np.float64), rescale(v0, None)
    fit = MFit(v, scale)
    tried: list[tuple[float, float]] = []  # (σ, scale(r(β(σ)))) of every round
    while True:
        if not scale > objective.zero_scale:
            fit.v, fit.scale, fit.message = v, 0.0, "zero scale: half the rows are fitted exactly"
            return fit
        objective.set_scale(scale)
        inner = solve(
            objective,
            v,
            solver=solver,
            gradient=gradient,
            tol=tol,
            max_iter=max(max_iter - fit.nit, 0),
        )
        v = inner.v
        fit.nit += inner.nit
        fit.nfev += inner.nfev
        new_scale = scale if fixed else rescale(v, scale)
        fit.history.append(new_scale)
        settled = abs(new_scale - scale) <= tol / GRADIENT_MARGIN * scale
        fit.v, fit.scale = v, new_scale
        if inner.converged and settled:
            fit.converged, fit.message = True, inner.message
            return fit
        if not inner.converged or fit.nit >= max_iter or len(fit.history) > max_iter:
            fit.converged = False
            fit.message = (
                inner.message
                if not inner.converged
                else (
                    f"the scale still moved by {abs(new_scale / scale - 1):.1e} (relative) "
                    f"after max_iter = {max_iter} iterations"
                )
            )
            return fit
        tried.append((scale, new_scale))
        scale = _next_scale(tried)


def _next_scale(tried: list[tuple[float, float]]) -> float:
    """The next scale to try: the root of ``T(σ) - σ`` by the secant through the last two
    rounds (``T``: a round's solve and scale rule), or ``T(σ)`` itself at first.

    Plain iteration ``σ ← T(σ)`` converges linearly, slowly where ``|T'|`` is near 1
    (many rounds on small samples, oscillating for redescending losses); the secant step
    is used where the slope estimate ``T' < 1`` and kept within a factor 2 of ``T(σ)``.
    """
    scale, image = tried[-1]
    if len(tried) < 2:
        return image
    previous, previous_image = tried[-2]
    if scale == previous:
        return image
    slope = (image - previous_image) / (scale - previous)
    if not slope < 1:
        return image
    secant = scale + (image - scale) / (1 - slope)
    return min(max(secant, image / 2), 2 * image)


def start_m(
    objective: RobustObjective,
    scale_rule: ScaleRule | float,
    *,
    solver: str,
    gradient: str | Callable[..., Any],
    tol: float,
    max_iter: int,
) -> FloatArray:
    """Least squares; for a redescending loss then the Huber fit with the same scale rule."""
    v = least_squares_start(objective)
    if not objective.loss.redescending:
        return v
    huber = objective.with_loss(Huber())
    return fit_m(
        huber, v, scale_rule, solver=solver, gradient=gradient, tol=tol, max_iter=max_iter
    ).v
