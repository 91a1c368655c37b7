"""``gradopt.least_squares``: scipy's nonlinear least squares with the Jacobian from a provider.

A calibration problem, one residual per observation, is a least-squares problem: scipy's
trust-region reflective and Levenberg-Marquardt methods use the Jacobian of the residuals
(a Gauss-Newton model), and need far fewer evaluations than a quasi-Newton method on the
sum of squares. The provider says where the Jacobian comes from: finite differences
(parallel, sparse, bounded), automatic differentiation, a hand-written one. The run is
specified once (:class:`~gradopt.optimizers.RunSpec`), followed by
:class:`~gradopt.optimizers._residuals.Residuals`, and reported with gradopt's
:class:`~gradopt.Status`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from scipy.optimize import OptimizeResult

from gradopt._typing import ArrayLike, FloatArray
from gradopt.exceptions import InvalidInputError, MissingCapabilityError
from gradopt.gradients import SupportsJacobian
from gradopt.optimizers._box import check_inside
from gradopt.optimizers._constraints import has_jacobian
from gradopt.optimizers._guard import Abort
from gradopt.optimizers._lsq_options import (
    LeastSquaresOptions,
    check_lsq_options,
    cost_and_gradient,
)
from gradopt.optimizers._monitor import Monitor, interruptible
from gradopt.optimizers._residuals import Residuals
from gradopt.optimizers._results import Status
from gradopt.optimizers._spec import RunSpec, make_spec

__all__ = ["least_squares", "run_least_squares"]


def least_squares(
    provider: SupportsJacobian,
    x0: ArrayLike,
    *,
    method: str = "trf",
    loss: str = "linear",
    f_scale: float = 1.0,
    bounds: Any = None,
    x_scale: Any = None,
    max_nfev: int | None = None,
    options: Mapping[str, Any] | None = None,
    callback: Callable[..., Any] | None = None,
    progress: bool = False,
) -> OptimizeResult:
    """Minimize ``0.5 * sum(rho(r_i(x)^2))`` for the residuals ``r`` behind `provider`.

    Runs :func:`scipy.optimize.least_squares` with the provider's ``vector_value`` as
    the residuals and its ``jacobian`` as the Jacobian.

    Parameters
    ----------
    provider : provider with ``vector_value`` and ``jacobian``
        The residuals, ``fun(x) -> array (m,)``, and where their Jacobian comes from
        (:class:`~gradopt.FiniteDifference` with any method, workers, sparsity, ...).
    x0 : array_like
        Starting point, inside `bounds`.
    method : {"trf", "dogbox", "lm"}, default "trf"
        As scipy's. ``"lm"`` takes no bounds, only ``loss="linear"``, at least as many
        residuals as variables, and a dense Jacobian.
    loss : {"linear", "soft_l1", "huber", "cauchy", "arctan"}, default "linear"
        Robust losses discount residuals larger than `f_scale`.
    f_scale : float, default 1.0
        Where robust losses set in.
    bounds : sequence of (low, high) or scipy.optimize.Bounds, optional
        As for :func:`~gradopt.minimize` and :class:`~gradopt.FiniteDifference` (one
        bounds type). A variable with ``low == high`` is fixed: it is removed from the
        problem (scipy's ``least_squares`` refuses such bounds).
    x_scale : float, array_like or "jac", optional
        Characteristic scale of the variables (None: scipy's default).
    max_nfev : int, optional
        Limit on evaluations of the residuals by the solver (scipy's count, which leaves
        out those the Jacobian makes; ``res.nfev`` counts every call of f).
    options : dict, optional
        ``ftol``, ``xtol``, ``gtol`` (default 1e-8), ``tr_solver``, ``tr_options``,
        ``verbose`` (see :class:`~gradopt.optimizers.LeastSquaresOptions`).
        An unknown name or a bad value is an error.
    callback : callable, optional
        Called after each iteration as by :func:`~gradopt.minimize` (``x``, ``fun``
        the cost, ``jac`` its gradient, ``nit``); True or ``StopIteration`` stops.
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    scipy.optimize.OptimizeResult
        scipy's fields, ``x, cost, fun`` (the residuals), ``jac`` (``(m, d)``, sparse if
        the provider's is), ``grad, optimality, active_mask, nfev, njev, status,
        message, success``, plus ``nit`` and ``method``. ``nfev`` and ``njev`` are the
        provider's counts during the run (every call of f, finite differences
        included); ``status`` is a :class:`~gradopt.Status`. Non-finite residuals at a
        trial point shrink the step; at an accepted iterate (or when the solver stops
        against them) the run ends with ``NON_FINITE`` and the last finite iterate.

    Examples
    --------
    >>> import numpy as np
    >>> from gradopt import FiniteDifference, least_squares
    >>> def residuals(x):  # Rosenbrock's
    ...     return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])
    >>> p = FiniteDifference(residuals, "forward")
    >>> res = least_squares(p, [-1.2, 1.0])
    >>> res.success, np.round(res.x, 6), res.cost < 1e-20
    (True, array([1., 1.]), True)
    >>> res.nfev == p.nfev  # every call of residuals, those of the Jacobians included
    True
    """
    if not has_jacobian(provider):
        raise MissingCapabilityError(
            "least_squares needs a provider with vector_value() and jacobian() (e.g. "
            f"FiniteDifference(residuals)); got {type(provider).__name__}."
        )
    given = {"method": method, "loss": loss, "f_scale": f_scale, "x_scale": x_scale}
    given["max_nfev"] = max_nfev
    if options is not None and not isinstance(options, Mapping):
        raise InvalidInputError(
            f"options must be a dict of option names to values; got {type(options).__name__}."
        )
    clash = sorted(set(given) & set(options or {}))
    if clash:
        raise InvalidInputError(
            f"least_squares: give {', '.join(map(repr, clash))} as argument(s), not in options."
        )
    opts = check_lsq_options({**given, **(options or {})})
    spec = make_spec(x0, bounds, options=opts.model_dump(), callback=callback, progress=progress)
    with interruptible(provider, "gradopt.least_squares"):
        return run_least_squares(provider, spec)


def run_least_squares(provider: Any, spec: RunSpec) -> OptimizeResult:
    """Run scipy's ``least_squares`` on `provider` (a runner; ``spec.options`` as
    :class:`~gradopt.optimizers.LeastSquaresOptions` takes them)."""
    opts = LeastSquaresOptions(**spec.options)
    if opts.method == "lm" and spec.bounds is not None:
        raise InvalidInputError("method 'lm' does not accept bounds; use 'trf' or 'dogbox'.")
    low, high = spec.limits()
    check_inside(spec.x0, low, high)
    free = low < high
    monitor = Monitor(spec.callback, spec.progress, total=None)
    try:
        res = Residuals(provider, spec.x0, free, opts, monitor)
        try:
            r0, jac0 = res.at_iterate(spec.x0)
        except Abort as stop:
            return _stopped(res, stop, opts, spec.x0)
        _check_method(opts, r0.size, int(free.sum()), jac0)
        if not free.any():
            return _result(res, spec.x0, r0, jac0, Status.SUCCESS, "every variable is fixed", opts)
        try:
            out = scipy.optimize.least_squares(
                res.fun,
                spec.x0[free],
                jac=res.jac,
                bounds=(low[free], high[free]),
                **_scaled(opts.scipy_kwargs(), free),
            )
        except Abort as stop:
            return _stopped(res, stop, opts, spec.x0)
        except Exception as exc:
            if exc is res.escaped or isinstance(exc, Warning):
                raise  # the user's function raised, or the user made warnings errors
            what = f"scipy least_squares raised {type(exc).__name__}: {exc}"
            if res.nit <= 0 and isinstance(exc, ValueError | TypeError):
                raise InvalidInputError(f"{what} (before its first iteration)") from exc
            assert res.last is not None
            x, r, jac = res.last
            return _result(res, x, r, jac, Status.SOLVER_FAILED, what, opts)
    finally:
        monitor.close()
    return _translate(res, out, opts)


def _check_method(opts: LeastSquaresOptions, m: int, n: int, jac: Any) -> None:
    if opts.method != "lm":
        return
    if m < n:
        raise InvalidInputError(
            f"method 'lm' needs at least as many residuals as variables; got {m} residuals "
            f"for {n} variables. Use method='trf'."
        )
    if sp.issparse(jac):
        raise InvalidInputError("method 'lm' needs a dense Jacobian; use method='trf'.")


def _scaled(kwargs: dict[str, Any], free: np.ndarray[Any, Any]) -> dict[str, Any]:
    """scipy's keyword arguments, with a per-variable `x_scale` over the free variables."""
    scale = kwargs.get("x_scale")
    if isinstance(scale, tuple):
        if len(scale) != free.size:
            raise InvalidInputError(
                f"x_scale has {len(scale)} entries but x0 has {free.size} coordinates."
            )
        kwargs["x_scale"] = np.asarray(scale)[free]
    if kwargs["max_nfev"] is None:
        del kwargs["max_nfev"]
    return kwargs


def _translate(res: Residuals, out: OptimizeResult, opts: LeastSquaresOptions) -> OptimizeResult:
    x = res.expand(np.asarray(out.x, dtype=np.float64))
    if res.last is not None and np.array_equal(res.last[0], x):
        r, jac = res.last[1], res.last[2]
    else:  # the solver's last point was not an iterate we saw: take its own
        r, jac = np.asarray(out.fun), _expand_columns(out.jac, res.free)
    says = f"scipy least_squares says {str(out.message)!r} (its status {out.status})"
    if out.status > 0:
        status = Status.SUCCESS
        cost_grad = np.max(np.abs(np.asarray(out.grad))) * max(1.0, float(np.max(np.abs(x))))
        trouble = res.trouble or res.lately
        if trouble is not None and cost_grad > 0.1 * max(1.0, float(out.cost)):
            # Stopped against non-finite residuals with a gradient far from zero: at the
            # edge of where f is defined, not at a minimum.
            status = Status.NON_FINITE
            says = f"{trouble} at a trial point, and the solver stopped there ({says})"
    elif out.status == 0:
        status = Status.MAX_ITER
    else:
        status = Status.SOLVER_FAILED
    return _result(res, x, r, jac, status, says, opts, out)


def _stopped(
    res: Residuals, stop: Abort, opts: LeastSquaresOptions, x0: FloatArray
) -> OptimizeResult:
    """The result of a run ended early: at the last accepted iterate (x0 if none)."""
    if res.last is None:
        nan = np.full(1, np.nan)
        return _result(res, x0, nan, None, stop.status, stop.detail, opts)
    x, r, jac = res.last
    return _result(res, x, r, jac, stop.status, stop.detail, opts)


def _result(
    res: Residuals,
    x: FloatArray,
    r: FloatArray,
    jac: Any,
    status: Status,
    detail: str,
    opts: LeastSquaresOptions,
    out: OptimizeResult | None = None,
) -> OptimizeResult:
    nfev, njev = res.counts()
    if jac is None:
        cost, grad = float("nan"), np.full(x.shape, np.nan)
    else:
        cost, grad = cost_and_gradient(r, jac, opts.loss, opts.f_scale)
    grad = np.where(res.free, grad, 0.0)  # fixed variables are not in the problem
    active = np.zeros(x.size, dtype=int)
    if out is not None:
        active[res.free] = np.asarray(out.active_mask, dtype=int)
    return OptimizeResult(
        x=x,
        cost=cost,
        fun=r,
        jac=jac,
        grad=grad,
        optimality=float(np.max(np.abs(grad))) if out is None else float(out.optimality),
        active_mask=active,
        nit=max(res.nit, 0),
        nfev=nfev,
        njev=njev,
        status=status,
        message=status.message + (f": {detail}" if detail else ""),
        success=status.success,
        method=opts.method,
    )


def _expand_columns(jac: Any, free: np.ndarray[Any, Any]) -> Any:
    """A Jacobian over the free variables as one over all (zeros for fixed ones)."""
    if free.all():
        return jac
    full = np.zeros((jac.shape[0], free.size))
    full[:, free] = jac.toarray() if sp.issparse(jac) else jac
    return full
