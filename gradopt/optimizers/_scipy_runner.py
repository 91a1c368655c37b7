"""Run a :class:`~gradopt.optimizers._scipy_methods.ScipyMethod` on a provider.

One call of ``provider.value_and_grad`` per point (``jac=True``), Hessian-vector products
when the method uses them, the whole run behind an :class:`EvaluationGuard`: a NaN or
infinity at a trial point is handed to scipy as ``inf`` (its searches back off), one at
an accepted iterate stops the run with the last finite iterate. The result is rebuilt
with gradopt's :class:`Status`; a claimed success is checked against the gradient
(:func:`~gradopt.optimizers._verdict.refute_success`), and an exception scipy raises
itself (not one from the user's function) becomes ``success=False`` with its message.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.optimize
from scipy.optimize import OptimizeResult

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError, MissingCapabilityError
from gradopt.gradients import FiniteDifference, GradientProvider
from gradopt.optimizers._box import Limits, check_bounds
from gradopt.optimizers._constraints import CONSTRAINED, as_scipy
from gradopt.optimizers._guard import Abort, EvaluationGuard
from gradopt.optimizers._monitor import Monitor
from gradopt.optimizers._results import Status, make_result
from gradopt.optimizers._scipy_methods import HessianUse, ScipyMethod, callback_gets_result
from gradopt.optimizers._scipy_options import check_options
from gradopt.optimizers._spec import RunSpec
from gradopt.optimizers._verdict import Verdict, refute_success

__all__ = ["run_scipy"]


def _check_capability(method: ScipyMethod, guard: EvaluationGuard) -> None:
    needs = method.hessian in (HessianUse.REQUIRED_HESSP, HessianUse.REQUIRED_DENSE)
    if needs and not guard.has_hessp:
        raise MissingCapabilityError(
            f"method {method.name!r} {method.hessian.value}, and this provider "
            f"({type(guard.provider).__name__}) has no hessp. Use Autograd, or "
            "Analytic(..., hessp=...), or a method that needs only gradients "
            "(e.g. 'L-BFGS-B', or 'Newton-CG', which differences gradients)."
        )


def _warn_differences_of_differences(method: ScipyMethod, guard: EvaluationGuard) -> None:
    if method.differences_gradients and isinstance(guard.provider, FiniteDifference):
        warnings.warn(
            f"method {method.name!r} on a FiniteDifference provider differences gradients "
            "that are themselves finite differences: its Hessian-vector products are "
            "mostly rounding noise, and it can report success well above the minimum. "
            "Use 'L-BFGS-B' or 'BFGS' with finite differences, or a provider with hessp "
            "(Autograd, Analytic(..., hessp=...)) for Newton-CG.",
            UserWarning,
            stacklevel=5,
        )


def _dense_hessian(guard: EvaluationGuard) -> Callable[[FloatArray], FloatArray]:
    def hess(x: FloatArray) -> FloatArray:
        h = np.column_stack([guard.hessp(x, e) for e in np.eye(x.size)])
        sym: FloatArray = 0.5 * (h + h.T)
        return sym

    return hess


def _derivatives(method: ScipyMethod, guard: EvaluationGuard) -> dict[str, Any]:
    """What scipy gets: every evaluation it asks for may be a trial point."""
    if not method.uses_gradient:
        return {"fun": guard.trial_value}
    if method.differences_gradients and not guard.has_hessp:  # each difference: a gradient
        return {"fun": guard.trial_value, "jac": guard.trial_grad}
    kwargs: dict[str, Any] = {"fun": guard.trial_value_and_grad, "jac": True}
    if method.hessian is HessianUse.REQUIRED_DENSE:
        kwargs["hess"] = _dense_hessian(guard)
    elif method.hessian is not HessianUse.NONE and guard.has_hessp:
        kwargs["hessp"] = guard.hessp
    return kwargs


class _Iterates:
    """Follows the solver's accepted iterates through its callback."""

    def __init__(
        self, guard: EvaluationGuard, monitor: Monitor, x0: FloatArray, with_grad: bool
    ) -> None:
        self.guard, self.monitor, self.with_grad = guard, monitor, with_grad
        self.nit = 0
        self.x = x0
        self.fun, self.jac = self._evaluate(x0)
        guard.iteration = 1

    def _evaluate(self, x: FloatArray) -> tuple[float, FloatArray | None]:
        """f (and g) at an accepted iterate: remembered if finite, else evaluated, which
        stops the run if it is not finite."""
        known = self.guard.recall(x)
        if known is not None and (known[1] is not None or not self.with_grad):
            return known
        if self.with_grad:
            return self.guard.value_and_grad(x)
        return self.guard.value(x), None

    def __call__(self, intermediate_result: Any) -> None:
        """The callback. scipy passes an ``OptimizeResult`` to a callback with this
        parameter name, except to the methods that pass ``x`` (TNC, COBYLA, COBYQA,
        and SLSQP before scipy 1.16); for TNC scipy also puts back variables that
        bounds fix, which it removes. SLSQP reports a point whose f was not finite when
        its merit-function search takes it, and then backs off: such a point is not an
        iterate (the run goes on; the callback does not see it)."""
        fun = None
        if isinstance(intermediate_result, OptimizeResult):
            x = intermediate_result.x
            # A derivative-free method's iterate may be older than the points
            # remembered: take its value from scipy rather than calling f again.
            fun = None if self.with_grad else intermediate_result.get("fun")
        else:
            x = intermediate_result
        x = np.array(x, dtype=np.float64)
        if self.guard.rejected(x) is not None:
            return
        self.nit += 1
        known = (float(fun), None) if fun is not None and np.isfinite(fun) else None
        if not np.array_equal(x, self.x):  # trust regions report rejected steps too
            self.guard.accepted()
        self.x, (self.fun, self.jac) = x, known or self._evaluate(x)
        self.guard.iteration = self.nit + 1
        if self.monitor.step(self.nit, x, self.fun, self.jac):
            raise Abort(Status.CALLBACK_STOP, f"at iteration {self.nit}")

    def of_x(self, x: FloatArray) -> None:
        """The callback for methods that scipy calls with ``x``."""
        self(x)

    def result(self, status: Status, detail: str, method: ScipyMethod) -> OptimizeResult:
        """The last accepted iterate as the run's result."""
        return make_result(
            status,
            self.x,
            self.fun,
            self.jac,
            self.nit,
            self.guard.counts(),
            detail,
            method=method.name,
        )


def run_scipy(method: ScipyMethod, provider: GradientProvider, spec: RunSpec) -> OptimizeResult:
    """Minimize with scipy's `method`; see :func:`gradopt.minimize`."""
    x0 = spec.x0
    guard = EvaluationGuard(provider)
    opts = check_options(method, spec.options, guard.has_hessp)
    limits = check_bounds(method, spec)
    constraints = _constraints(method, spec)
    _check_capability(method, guard)
    _warn_differences_of_differences(method, guard)
    monitor = Monitor(spec.callback, spec.progress, total=opts.get("maxiter"))
    try:
        try:
            track = _Iterates(guard, monitor, x0, method.uses_gradient)
        except Abort as stop:
            return make_result(
                stop.status, x0, stop.fun, None, 0, guard.counts(), stop.detail, method=method.name
            )
        try:
            res = scipy.optimize.minimize(
                x0=x0,
                method=method.name,
                bounds=limits.scipy,
                tol=spec.tol,
                options=opts,
                **constraints,
                callback=track if callback_gets_result(method) else track.of_x,
                **_derivatives(method, guard),
            )
        except Abort as stop:
            return track.result(stop.status, stop.detail, method)
        except Exception as exc:
            if exc is guard.escaped or isinstance(exc, Warning):
                raise  # the user's function raised, or the user made warnings errors
            what = f"scipy {method.name} raised {type(exc).__name__}: {exc}"
            if guard.trouble is not None:
                return track.result(
                    Status.NON_FINITE, _and(guard.could_not_recover(), what), method
                )
            if track.nit == 0 and _about_the_input(exc):
                raise InvalidInputError(f"{what} (before its first iteration)") from exc
            return track.result(Status.SOLVER_FAILED, what, method)
    finally:
        monitor.close()
    return _translate(res, method, track, guard, limits, bool(constraints))


def _constraints(method: ScipyMethod, spec: RunSpec) -> dict[str, Any]:
    """``{"constraints": [...]}`` for scipy, or nothing when the run has none."""
    if not spec.constraints:
        return {}
    if not method.constraints:
        raise InvalidInputError(
            f"method {method.name!r} does not accept constraints; use one of "
            f"{', '.join(CONSTRAINED)}."
        )
    dense = method.key == "slsqp"  # SLSQP cannot take a sparse Jacobian
    return {"constraints": as_scipy(spec.constraints, dense)}


def _about_the_input(exc: Exception) -> bool:
    """A ValueError or TypeError from scipy before its first iteration is its check of an
    option (``initial_simplex``'s shape, ``c1 < c2``), not a failure of the run."""
    return isinstance(exc, ValueError | TypeError) and not isinstance(exc, np.linalg.LinAlgError)


def _and(detail: str, scipy_says: str) -> str:
    return f"{detail} ({scipy_says})"


def _translate(
    res: OptimizeResult,
    method: ScipyMethod,
    track: _Iterates,
    guard: EvaluationGuard,
    limits: Limits,
    constrained: bool,
) -> OptimizeResult:
    x = np.asarray(res.x, dtype=np.float64)
    code = res.get("status")  # absent when bounds fix every variable
    says = f"scipy {method.name} says {str(res.message)!r} (its status {code})"
    if not (np.isfinite(x).all() and math.isfinite(res.fun)):
        if guard.trouble is None:
            detail = f"scipy returned f = {res.fun}; returning the last finite iterate"
        else:
            detail = guard.could_not_recover()
        return track.result(Status.NON_FINITE, _and(detail, says), method)
    jac = _gradient_at(res, x, guard) if method.uses_gradient else None
    if res.success and constrained:  # the gradient need not vanish: no verdict from it
        status, detail = Status.SUCCESS, says
    elif res.success:
        status, detail = Status.SUCCESS, says
        verdict = _verdict(x, float(res.fun), jac, guard, limits)
        if verdict.refuted is not None:
            status, detail = Status.NOT_STATIONARY, _and(verdict.refuted, says)
        elif verdict.questioned and guard.trouble is not None:
            # Stopped against non-finite values with a gradient far from zero: at the
            # edge of where f is defined, not at a minimum.
            status, detail = Status.NON_FINITE, _and(guard.could_not_recover(), says)
    elif guard.trouble is not None:  # non-finite values since the last iterate
        status, detail = Status.NON_FINITE, _and(guard.could_not_recover(), says)
    elif code in method.limit_statuses:
        status, detail = Status.MAX_ITER, says
    else:
        status, detail = Status.SOLVER_FAILED, says
    extra = {k: res[k] for k in ("hess_inv", "allvecs") if k in res}
    nit = int(res.get("nit", track.nit))
    return make_result(
        status, x, float(res.fun), jac, nit, guard.counts(), detail, method=method.name, **extra
    )


def _verdict(
    x: FloatArray, f: float, jac: FloatArray | None, guard: EvaluationGuard, limits: Limits
) -> Verdict:
    """The claimed minimum judged by the gradient (computed here, as a trial, for a
    derivative-free method: a NaN in it counts as trouble)."""
    g = jac
    if g is None:
        try:
            g = guard.trial_grad(x)
        except Exception:  # e.g. autograd cannot trace f: the claim stands unchecked
            return Verdict(questioned=False)
    return refute_success(x, f, g, limits.low, limits.high, guard.trial_value)


def _gradient_at(res: OptimizeResult, x: FloatArray, guard: EvaluationGuard) -> FloatArray | None:
    """The gradient at the solution: remembered, else scipy's (``grad`` for trust-constr,
    whose ``jac`` holds the constraints' Jacobians)."""
    known = guard.recall(x)
    if known is not None and known[1] is not None:
        return known[1]
    for key in ("grad", "jac"):
        value = res.get(key)
        if isinstance(value, np.ndarray) and value.shape == x.shape:
            return np.asarray(value, dtype=np.float64)
    return None
