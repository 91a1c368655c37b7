"""Solving the M-estimating equations at a fixed scale: Newton, IRLS or gradopt.minimize.

Every solver minimises :class:`~gradopt.linear_model._robust_objective.RobustObjective`
from a start and returns an :class:`InnerResult`, judged by the verdict of
:class:`~gradopt.linear_model.HuberRegressor` (``_huber_verdict.judge``): every
component of the scaled gradient at most ``tol``, or, when the solver stopped on its own
short of that, at most the floor rounding allows.

``"newton"`` and ``"irls"`` are one loop with two curvatures: the exact Hessian
``Zᵀ·diag(s·ψ')·Z`` (quadratic convergence; where it is not positive definite, as for
redescending losses far out, the step falls back to IRLS) or the IRLS majoriser
``Zᵀ·diag(s·ψ(u)/u)·Z`` (each full step is a weighted least-squares fit). Both build a
``p × p`` matrix over row blocks, solve it by Cholesky and take a backtracking step on
``F``. The other names run :func:`gradopt.minimize` with a provider from ``GRADIENTS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy.optimize import OptimizeResult

from gradopt._typing import FloatArray
from gradopt.gradients import Analytic, Autograd, FiniteDifference, GradientProvider
from gradopt.linear_model._huber_strategies import SOLVERS as MINIMIZE_SOLVERS
from gradopt.linear_model._huber_strategies import BestSeen
from gradopt.linear_model._huber_verdict import judge
from gradopt.linear_model._robust_jax import jax_provider
from gradopt.linear_model._robust_objective import RobustObjective
from gradopt.optimizers import Status, minimize
from gradopt.optimizers._results import make_result

__all__ = ["GRADIENTS", "SOLVER_NAMES", "InnerResult", "solve"]

_EPS = float(np.finfo(np.float64).eps)
_MAX_HALVINGS = 40
H_STEPS = 10  # H-algorithm steps "auto" tries before Newton


@dataclass
class InnerResult:
    """Where a fixed-scale solve ended and why."""

    v: FloatArray
    nit: int
    nfev: int
    converged: bool
    message: str
    gmax: float = np.inf  # max|∇F| where it ended


def _analytic(objective: RobustObjective) -> GradientProvider:
    return Analytic(
        objective.value, hessp=objective.hessp, value_and_grad=objective.value_and_grad
    )


def _autograd(objective: RobustObjective) -> GradientProvider:
    return Autograd(objective.value)


def _finite_difference(objective: RobustObjective) -> GradientProvider:
    return FiniteDifference(objective.value, method="central")


GRADIENTS: dict[str, Callable[[RobustObjective], GradientProvider]] = {
    "analytic": _analytic,
    "autograd": _autograd,
    "finite-difference": _finite_difference,
    "jax": jax_provider,
}

SOLVER_NAMES = ("auto", "newton", "irls", "h", *MINIMIZE_SOLVERS)


def _step(objective: RobustObjective, v: FloatArray, g: FloatArray, kind: str) -> FloatArray:
    """The Newton (or IRLS) direction ``-H⁻¹·g``; IRLS where the Hessian is not definite."""
    if kind == "h":
        H = objective.hessian_from(objective.mean_curvature(v) * objective.design_gram)
        step_h: FloatArray = -scipy.linalg.cho_solve(
            scipy.linalg.cho_factor(H, check_finite=False), g, check_finite=False
        )
        return step_h
    for curvature in (kind, "irls") if kind == "newton" else ("irls",):
        H = objective.hessian_at(v, curvature)
        try:
            factor = scipy.linalg.cho_factor(H, check_finite=False)
        except np.linalg.LinAlgError:
            continue
        step: FloatArray = -scipy.linalg.cho_solve(factor, g, check_finite=False)
        if np.all(np.isfinite(step)) and float(g @ step) < 0:
            return step
    # Singular even for IRLS (weights zero on too many rows): a small ridge keeps a step.
    H = objective.hessian_at(v, "irls")
    ridge = 1e-10 * max(float(np.trace(H)), 1.0) + _EPS
    regularised = np.linalg.solve(H + ridge * np.eye(H.shape[0]), g)
    return -np.asarray(regularised, dtype=np.float64)


def newton(
    objective: RobustObjective, v0: FloatArray, *, kind: str, tol: float, max_iter: int
) -> InnerResult:
    """Damped Newton (``"newton"``), IRLS (``"irls"``) or H-algorithm (``"h"``) on ``F``."""
    v = np.array(v0, dtype=np.float64)
    f, g = objective.value_and_grad(v)
    nfev, status, detail = 1, Status.MAX_ITER, ""
    for nit in range(max_iter + 1):
        if float(np.max(np.abs(g), initial=0.0)) <= tol:
            status = Status.SUCCESS
            break
        if nit == max_iter:
            break
        step = _step(objective, v, g, kind)
        slope = float(g @ step)
        t = 1.0
        for _ in range(_MAX_HALVINGS):
            trial = v + t * step
            f_new, g_new = objective.value_and_grad(trial)
            nfev += 1
            # Armijo, with the slack rounding in F allows (near the minimum F is flat).
            if f_new <= f + 1e-4 * t * slope + 8 * _EPS * abs(f):
                break
            t *= 0.5
        else:
            status, detail = Status.LINE_SEARCH_FAILED, f"{kind} steps"
            break
        v, f, g = trial, f_new, g_new
    result = make_result(status, v, f, g, nit, (nfev, nfev, 0), detail)
    return _verdict(result, v, g, tol, max_iter)


def _verdict(
    result: OptimizeResult, v: FloatArray, g: FloatArray, tol: float, max_iter: int
) -> InnerResult:
    """HuberRegressor's judgment (:func:`~gradopt.linear_model._huber_verdict.judge`)."""
    gmax = float(np.max(np.abs(g), initial=0.0))
    verdict = judge(result, gmax, tol, max_iter)
    nit, nfev = int(result.nit), int(result.nfev)
    return InnerResult(v, nit, nfev, verdict.converged, verdict.message, gmax)


def run_minimize(
    objective: RobustObjective,
    v0: FloatArray,
    *,
    method: str,
    provider: GradientProvider,
    tol: float,
    max_iter: int,
) -> InnerResult:
    """One :func:`gradopt.minimize` run, kept at the best point any evaluation saw."""
    solver = MINIMIZE_SOLVERS[method]
    seen = BestSeen(provider)
    result = minimize(seen, v0, method=solver.method, options=solver.options(max_iter, tol))
    v = np.asarray(result.x, dtype=np.float64)
    value, grad = objective.value_and_grad(v)
    if seen.best_x is not None and not value <= seen.best_value:
        v = seen.best_x
        value, grad = objective.value_and_grad(v)
    return _verdict(result, v, grad, tol, max_iter)


def _then(first: InnerResult, rest: InnerResult) -> InnerResult:
    """`rest`, continued from where `first` stopped, with both runs' counts."""
    rest.nit += first.nit
    rest.nfev += first.nfev
    return rest


def solve(
    objective: RobustObjective,
    v0: FloatArray,
    *,
    solver: str,
    gradient: str | Callable[..., GradientProvider],
    tol: float,
    max_iter: int,
) -> InnerResult:
    """Minimise `objective` from `v0` with the named solver.

    ``"auto"`` (the fastest measured, see the estimator's docs): up to ``H_STEPS``
    steps of Huber's H-algorithm (the Hessian approximated by ``m·ZᵀZ``, computed once:
    one pass over X each way per step, no ``n·p²`` work), which converges fast for
    monotone ``ψ`` and many rows; where that is not enough (small samples, redescending
    losses rejecting many rows), Newton with the exact Hessian. With another gradient
    than "analytic", L-BFGS-B.
    """
    if solver in ("newton", "irls", "h"):
        return newton(objective, v0, kind=solver, tol=tol, max_iter=max_iter)
    if solver == "auto":
        if gradient != "analytic":
            return solve(
                objective, v0, solver="lbfgs", gradient=gradient, tol=tol, max_iter=max_iter
            )
        first = newton(objective, v0, kind="h", tol=tol, max_iter=min(max_iter, H_STEPS))
        if first.converged or first.nit >= max_iter:
            return first
        rest = newton(objective, first.v, kind="newton", tol=tol, max_iter=max_iter - first.nit)
        return _then(first, rest)
    if isinstance(gradient, str):
        provider = GRADIENTS[gradient](objective)
    else:
        provider = gradient(objective.value)
        if not isinstance(provider, GradientProvider):
            raise TypeError(
                "gradient must return a GradientProvider (value, grad, value_and_grad, "
                f"nfev, ngev); {gradient!r} returned {type(provider).__name__}."
            )
    return run_minimize(
        objective, v0, method=solver, provider=provider, tol=tol, max_iter=max_iter
    )
