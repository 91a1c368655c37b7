"""Run a :class:`~gradopt.optimizers._scipy_methods.ScipyMethod` on a provider.

One call of ``provider.value_and_grad`` per point (``jac=True``), Hessian-vector products
when the method uses them, the whole run behind an :class:`EvaluationGuard` so that a NaN
stops it cleanly with the last finite iterate, and the result rebuilt with gradopt's
:class:`Status`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.optimize
from scipy.optimize import OptimizeResult

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError, MissingCapabilityError
from gradopt.gradients import GradientProvider
from gradopt.optimizers._guard import Abort, EvaluationGuard
from gradopt.optimizers._monitor import Monitor
from gradopt.optimizers._results import Status, make_result
from gradopt.optimizers._scipy_methods import HessianUse, ScipyMethod, accepted_options

__all__ = ["check_options", "run_scipy"]


# Options that steer scipy's own finite differences of f. gradopt hands scipy the
# provider's gradient (jac=True), so they would be accepted and silently do nothing.
_SCIPY_DIFFERENCING = frozenset({"eps", "finite_diff_rel_step", "workers"})


def check_options(
    method: ScipyMethod, options: Mapping[str, Any] | None, has_hessp: bool = False
) -> dict[str, Any]:
    """Return `options` as a dict, rejecting any name `method` does not accept or use.

    Newton-CG without a Hessian-vector product differences gradients with step ``eps``,
    so there ``eps`` is used.
    """
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InvalidInputError(
            f"options must be a dict of option names to values; got {type(options).__name__}."
        )
    accepted = accepted_options(method)
    unused: frozenset[str] = frozenset()
    if method.uses_gradient:
        differences_gradients = method.differences_gradients and not has_hessp
        unused = _SCIPY_DIFFERENCING - ({"eps"} if differences_gradients else set())
    moot = sorted(str(k) for k in options if k in unused)
    if moot:
        raise InvalidInputError(
            f"method {method.name!r}: option(s) {', '.join(map(repr, moot))} set scipy's "
            "own finite differences of f, which gradopt does not use: the gradient comes "
            "from the provider (for a finite-difference gradient, FiniteDifference(fun, "
            "step=...) sets the step)."
        )
    unknown = sorted(str(k) for k in options if k not in accepted)
    if unknown:
        raise InvalidInputError(
            f"method {method.name!r} does not accept the option(s) {', '.join(map(repr, unknown))}"
            f"; it accepts: {', '.join(sorted(accepted - unused))}."
        )
    return dict(options)


def _check_capability(method: ScipyMethod, guard: EvaluationGuard) -> None:
    needs = method.hessian in (HessianUse.REQUIRED_HESSP, HessianUse.REQUIRED_DENSE)
    if needs and not guard.has_hessp:
        raise MissingCapabilityError(
            f"method {method.name!r} {method.hessian.value}, and this provider "
            f"({type(guard.provider).__name__}) has no hessp. Use Autograd, or "
            "Analytic(..., hessp=...), or a method that needs only gradients "
            "(e.g. 'L-BFGS-B', or 'Newton-CG', which differences gradients)."
        )


def _check_bounds(method: ScipyMethod, bounds: Any, x0: FloatArray) -> Any:
    """Check `bounds` against `x0` (one pair per coordinate, low <= x0 <= high)."""
    if bounds is None:
        return None
    if not method.bounds:
        raise InvalidInputError(f"method {method.name!r} does not accept bounds.")
    n = x0.size
    if isinstance(bounds, scipy.optimize.Bounds):
        low, high = bounds.lb, bounds.ub
    else:
        pairs = list(bounds)
        if len(pairs) != n or any(np.size(pair) != 2 for pair in pairs):
            raise InvalidInputError(
                f"bounds must hold one (low, high) pair per coordinate of x0 ({n}); "
                f"got {len(pairs)} entries."
            )
        low = [-np.inf if lo is None else lo for lo, _ in pairs]
        high = [np.inf if hi is None else hi for _, hi in pairs]
    try:
        lb, ub = (np.broadcast_to(np.asarray(b, dtype=np.float64), (n,)) for b in (low, high))
    except ValueError as exc:
        raise InvalidInputError(f"bounds must cover the {n} coordinates of x0: {exc}") from None
    bad = np.flatnonzero((x0 < lb) | (x0 > ub) | (lb > ub))
    if bad.size:
        i = int(bad[0])
        raise InvalidInputError(
            f"x0[{i}] = {x0[i]} is not within its bounds [{lb[i]}, {ub[i]}]; scipy's methods "
            "disagree on whether to clip it, so start inside (e.g. np.clip(x0, low, high))."
        )
    return bounds


def _dense_hessian(guard: EvaluationGuard) -> Callable[[FloatArray], FloatArray]:
    def hess(x: FloatArray) -> FloatArray:
        basis = np.eye(x.size)
        h = np.column_stack([guard.hessp(x, e) for e in basis])
        sym: FloatArray = 0.5 * (h + h.T)
        return sym

    return hess


def _derivatives(method: ScipyMethod, guard: EvaluationGuard) -> dict[str, Any]:
    if not method.uses_gradient:
        return {"fun": guard.value}
    if method.differences_gradients and not guard.has_hessp:
        return {"fun": guard.value, "jac": guard.grad}  # each difference: one gradient
    kwargs: dict[str, Any] = {"fun": guard.value_and_grad, "jac": True}
    if method.hessian is HessianUse.REQUIRED_DENSE:
        kwargs["hess"] = _dense_hessian(guard)
    elif method.hessian is not HessianUse.NONE and guard.has_hessp:
        kwargs["hessp"] = guard.hessp
    return kwargs


class _Iterates:
    """Follows the solver's iterates through its callback."""

    def __init__(
        self, guard: EvaluationGuard, monitor: Monitor, x0: FloatArray, with_grad: bool
    ) -> None:
        self.guard, self.monitor, self.with_grad = guard, monitor, with_grad
        self.nit = 0
        self.x = x0
        self.fun, self.jac = self._evaluate(x0)
        guard.iteration = 1

    def _evaluate(self, x: FloatArray) -> tuple[float, FloatArray | None]:
        known = self.guard.recall(x)
        if known is not None and (known[1] is not None or not self.with_grad):
            return known
        if self.with_grad:
            return self.guard.value_and_grad(x)
        return self.guard.value(x), None

    def __call__(self, intermediate_result: OptimizeResult) -> None:
        """The callback for methods that pass an ``OptimizeResult``."""
        # A derivative-free method's iterate may be older than the points remembered:
        # take its value from scipy rather than calling f again (and exceeding maxfev).
        fun = None if self.with_grad else intermediate_result.get("fun")
        self.of_x(intermediate_result.x, fun)

    def of_x(self, x: FloatArray, fun: float | None = None) -> None:
        """The callback for methods that pass ``x`` (TNC, COBYLA, COBYQA). scipy then
        also puts back variables that bounds fix, which it removes for TNC."""
        x = np.array(x, dtype=np.float64)
        self.nit += 1
        known = (float(fun), None) if fun is not None and np.isfinite(fun) else None
        self.x, (self.fun, self.jac) = x, known or self._evaluate(x)
        self.guard.iteration = self.nit + 1
        if self.monitor.step(self.nit, x, self.fun, self.jac):
            raise Abort(Status.CALLBACK_STOP, f"at iteration {self.nit}")


def run_scipy(
    method: ScipyMethod,
    provider: GradientProvider,
    x0: FloatArray,
    *,
    bounds: Any,
    tol: float | None,
    options: Mapping[str, Any] | None,
    callback: Callable[..., Any] | None,
    progress: bool,
) -> OptimizeResult:
    """Minimize with scipy's `method`; see :func:`gradopt.minimize`."""
    guard = EvaluationGuard(provider)
    opts = check_options(method, options, guard.has_hessp)
    bounds = _check_bounds(method, bounds, x0)
    _check_capability(method, guard)
    monitor = Monitor(callback, progress, total=opts.get("maxiter"))
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
                bounds=bounds,
                tol=tol,
                options=opts,
                callback=track.of_x if method.callback_gets_x else track,
                **_derivatives(method, guard),
            )
        except Abort as stop:
            return make_result(
                stop.status,
                track.x,
                track.fun,
                track.jac,
                track.nit,
                guard.counts(),
                stop.detail,
                method=method.name,
            )
    finally:
        monitor.close()
    return _translate(res, method, track, guard)


def _translate(
    res: OptimizeResult, method: ScipyMethod, track: _Iterates, guard: EvaluationGuard
) -> OptimizeResult:
    x = np.asarray(res.x, dtype=np.float64)
    jac = _gradient_at(res, x, guard) if method.uses_gradient else None
    if res.success:
        status = Status.SUCCESS
    elif res.status in method.limit_statuses:
        status = Status.MAX_ITER
    else:
        status = Status.SOLVER_FAILED
    extra = {k: res[k] for k in ("hess_inv", "allvecs") if k in res}
    return make_result(
        status,
        x,
        float(res.fun),
        jac,
        int(res.get("nit", track.nit)),
        guard.counts(),
        f"scipy {method.name} says {str(res.message)!r} (its status {res.status})",
        method=method.name,
        **extra,
    )


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
