"""Whether a Huber fit converged, and one message that says so.

The solver's own verdict is not enough: L-BFGS-B's ``ftol`` test can also stop on a
stalled line search, and a line search can fail at the optimum when rounding hides any
further decrease. The estimator judges by its own measure instead, the largest component
of the gradient in the standardised coordinates of
:class:`~gradopt.linear_model._huber_objective.HuberObjective`:

- at most ``tol``: converged;
- above ``tol`` but within the floor rounding allows value-based line searches
  (``100·sqrt(eps)`` of the mean estimating equations, with margin), after the solver
  stopped on its own (not on ``max_iter``): converged as far as float64 allows;
- otherwise: short of the optimum, with advice that fits why the solver stopped
  (``max_iter`` only when the iteration limit was the reason).

The verdict becomes ``success``, ``status`` and ``message`` of the estimator's
``optimize_result_`` (the solver's own are kept as ``solver_status`` and
``solver_message``), so the result and the ``ConvergenceWarning`` never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeResult

from gradopt._typing import FloatArray
from gradopt.linear_model._huber_objective import GRADIENT_MARGIN, HuberObjective
from gradopt.optimizers import Status

__all__ = ["ROUNDING_FLOOR", "Verdict", "judge", "stationarity"]

# max|∇F| within 100·sqrt(eps) of the mean equations (scaled like tol): the floor that
# value-based line searches reach, with margin.
ROUNDING_FLOOR = GRADIENT_MARGIN * 100 * float(np.sqrt(np.finfo(np.float64).eps))


_STATUSES = {int(status.value): status for status in Status}


@dataclass(frozen=True)
class Verdict:
    """Whether the fit converged, the status it gets and the message that explains it."""

    converged: bool
    status: Status
    message: str


def stationarity(objective: HuberObjective, theta: FloatArray, grad: FloatArray) -> float:
    """``max|∇F|`` from the gradient `grad` of ``L`` in ``theta = [coef, shift, sigma]``,
    projected at the bound on sigma: what `tol` is compared with."""
    internal = objective.internal_grad(theta, grad)
    bounded = not objective.log_sigma  # sigma = s_y·v_sigma with v_sigma bounded below
    if bounded and theta[-1] <= objective.min_sigma * (1 + 1e-9):
        internal[-1] = min(internal[-1], 0.0)  # projected: sigma at its bound
    return float(np.max(np.abs(internal)))


def _solver_said(result: OptimizeResult) -> str:
    """The solver's own words, without gradopt's status phrase in front."""
    status = _STATUSES[int(result.status)]
    detail = str(result.message).removeprefix(status.message).removeprefix(": ")
    if status is Status.SUCCESS:
        return f"its own stopping test passed: {detail}" if detail else "its own test passed"
    return f"{status.message}: {detail}" if detail else status.message


def judge(
    result: OptimizeResult, gradient: float, tol: float, max_iter: int, kinked: bool = False
) -> Verdict:
    """The verdict on a fit that ended where the solver's `result` says.

    Parameters
    ----------
    result : scipy.optimize.OptimizeResult
        From :func:`gradopt.minimize` (its ``status``, ``message`` and ``nit``).
    gradient : float
        :func:`stationarity` at the fit that is kept.
    tol, max_iter : float, int
        The estimator's parameters.
    kinked : bool, default=False
        Whether sigma is near its lower bound, where residuals at zero make the
        objective non-smooth (the gradient there says little about the distance to
        the minimum).

    Examples
    --------
    >>> from scipy.optimize import OptimizeResult
    >>> done = OptimizeResult(status=0, message="optimization terminated successfully", nit=9)
    >>> judge(done, 3e-6, 1e-5, 100).message
    'converged: max|grad F| = 3.0e-06 <= tol = 1e-05 after 9 iterations'
    >>> judge(done, 0.5, 1e-5, 100).converged
    False
    """
    nit = int(result.nit)
    measure = f"max|grad F| = {gradient:.1e}"
    solver = f"the solver stopped ({_solver_said(result)})"
    if gradient <= tol:
        return Verdict(
            True, Status.SUCCESS, f"converged: {measure} <= tol = {tol:g} after {nit} iterations"
        )
    limited = int(result.status) == int(Status.MAX_ITER.value)
    if not limited and gradient <= ROUNDING_FLOOR:
        return Verdict(
            True,
            Status.SUCCESS,
            f"converged as far as rounding allows: {measure} is above tol = {tol:g} but "
            f"within the rounding floor {ROUNDING_FLOOR:.1e} after {nit} iterations, where "
            f"{solver}",
        )
    if limited:
        return Verdict(
            False,
            Status.MAX_ITER,
            f"{measure} > tol = {tol:g} when max_iter = {max_iter} iterations ran out; "
            "increase max_iter",
        )
    if not np.isfinite(gradient):
        return Verdict(
            False,
            Status.NON_FINITE,
            f"the gradient is not finite at the best fit found after {nit} iterations, "
            f"where {solver}; rescale X or y",
        )
    status = _STATUSES[int(result.status)]
    if kinked:
        cause = (
            "sigma is near its lower bound, where samples fitted exactly make the "
            "objective non-smooth and the gradient need not vanish at the minimum"
        )
    else:
        cause = (
            "rounding in the objective (a large offset in X, say) or an inaccurate "
            "gradient (finite differences) limits the fit, and a larger tol accepts it"
        )
    return Verdict(
        False,
        Status.LINE_SEARCH_FAILED if status is Status.SUCCESS else status,
        f"{measure} > tol = {tol:g} after {nit} iterations, where {solver} and could make "
        f"no further progress; more iterations would not help: {cause}",
    )
