"""The three ways RobustRegressor fits: M, MM (fast-S, then M) and Owen's joint scale.

Each takes the objective and the settings the estimator resolved, and returns an
:class:`~gradopt.linear_model._robust_fit.MFit`; the estimator only chooses among them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from gradopt.gradients import GradientProvider
from gradopt.linear_model._huber import HuberRegressor
from gradopt.linear_model._robust_fit import MFit, fit_m, start_m
from gradopt.linear_model._robust_objective import RobustObjective
from gradopt.linear_model._robust_scale import ScaleRule
from gradopt.linear_model._s_estimator import fast_s

__all__ = ["FitSettings", "fit_joint", "fit_mestimate", "fit_mm"]


@dataclass(frozen=True)
class FitSettings:
    """What every fit takes from the estimator: solver, gradient, tol and max_iter."""

    solver: str
    gradient: str | Callable[..., GradientProvider]
    tol: float
    max_iter: int

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "solver": self.solver,
            "gradient": self.gradient,
            "tol": self.tol,
            "max_iter": self.max_iter,
        }


def fit_mestimate(
    objective: RobustObjective, settings: FitSettings, rule: ScaleRule | float
) -> MFit:
    """Method "M": from a least-squares (or, for a redescending loss, Huber) start."""
    kw = settings.as_kwargs()
    return fit_m(objective, start_m(objective, rule, **kw), rule, **kw)


def fit_mm(
    objective: RobustObjective, settings: FitSettings, rng: np.random.Generator, n_starts: int
) -> MFit:
    """Method "MM": the fast-S estimate, then the M-step at its scale."""
    kw = settings.as_kwargs()
    s = fast_s(objective, rng=rng, n_starts=n_starts, n_keep=2, **kw)
    if not s.converged:
        s.message = f"S-estimate: {s.message}"
        return s
    return fit_m(objective, s.v, s.scale, **kw)


def fit_joint(
    objective: RobustObjective, settings: FitSettings, alpha: float, fit_intercept: bool
) -> MFit:
    """scale="joint": Owen's concomitant scale, which is a HuberRegressor fit."""
    solver = "lbfgs" if settings.solver == "auto" else settings.solver
    if solver in ("h", "newton", "irls"):
        raise ValueError(
            f"scale='joint' is fitted by gradopt.minimize; solver={solver!r} does not "
            "apply (use 'auto', 'lbfgs', 'BFGS', ...)."
        )
    huber = HuberRegressor(
        epsilon=objective.loss.c,
        alpha=alpha,
        fit_intercept=fit_intercept,
        max_iter=settings.max_iter,
        tol=settings.tol,
        gradient=settings.gradient,
        solver=solver,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        blocks = objective.blocks
        huber.fit(blocks.X, blocks.y, sample_weight=blocks.sample_weight)
    messages = []
    for caught_warning in caught:  # HuberRegressor's verdict becomes ours; others pass
        if issubclass(caught_warning.category, ConvergenceWarning):
            messages.append(str(caught_warning.message))
        else:  # to the caller of RobustRegressor.fit (fit -> _fit -> fit_joint)
            warnings.warn(caught_warning.message, caught_warning.category, stacklevel=4)
    v = objective.internal(huber.coef_, huber.intercept_)
    fit = MFit(v, huber.scale_, nit=huber.n_iter_, nfev=int(huber.optimize_result_.nfev))
    if messages:
        fit.converged, fit.message = False, messages[-1]
    return fit
