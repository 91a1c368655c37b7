"""``gradopt.minimize``: one front for gradopt's own optimizers and scipy's methods."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import scipy
from scipy.optimize import OptimizeResult

from gradopt._typing import ArrayLike
from gradopt.exceptions import InvalidInputError
from gradopt.gradients import GradientProvider
from gradopt.optimizers._constraints import check_constraints
from gradopt.optimizers._monitor import interruptible
from gradopt.optimizers._scipy_methods import SCIPY_METHODS, UNAVAILABLE, ScipyMethod
from gradopt.optimizers._scipy_runner import run_scipy
from gradopt.optimizers._spec import Runner, RunSpec, make_spec
from gradopt.optimizers.gradient_descent import run_gradient_descent

__all__ = ["available_methods", "minimize"]


def _scipy_runner(method: ScipyMethod) -> Runner:
    def run(provider: GradientProvider, spec: RunSpec) -> OptimizeResult:
        return run_scipy(method, provider, spec)

    return run


_RUNNERS: dict[str, tuple[str, Runner]] = {
    "gradient-descent": ("gradient-descent", run_gradient_descent),
    **{key: (m.name, _scipy_runner(m)) for key, m in SCIPY_METHODS.items()},
}


def available_methods() -> list[str]:
    """The names :func:`gradopt.minimize` accepts (case-insensitive).

    Examples
    --------
    >>> "gradient-descent" in available_methods() and "L-BFGS-B" in available_methods()
    True
    """
    return [name for name, _ in _RUNNERS.values()]


def minimize(
    provider: GradientProvider,
    x0: ArrayLike,
    method: str | Runner = "L-BFGS-B",
    bounds: Any = None,
    tol: float | None = None,
    options: Mapping[str, Any] | None = None,
    callback: Callable[..., Any] | None = None,
    progress: bool = False,
    *,
    constraints: Any = (),
) -> OptimizeResult:
    """Minimize the function behind `provider`, starting at `x0`.

    Parameters
    ----------
    provider : GradientProvider
        Where values and gradients come from (:class:`~gradopt.Analytic`,
        :class:`~gradopt.FiniteDifference`, :class:`~gradopt.Autograd`, ...).
    x0 : array_like
        Starting point, a scalar or 1-D array of finite numbers.
    method : str or callable, default "L-BFGS-B"
        ``"gradient-descent"`` (gradopt's own) or a method of
        :func:`scipy.optimize.minimize`: "L-BFGS-B", "BFGS", "CG", "TNC", "SLSQP",
        "Newton-CG", "trust-constr", "trust-ncg", "trust-krylov", "dogleg", "trust-exact"
        and the derivative-free "Nelder-Mead", "Powell", "COBYLA", "COBYQA". scipy
        methods get value and gradient from one call (``jac=True``) and the provider's
        ``hessp`` when they use it; "trust-ncg" and "trust-krylov" need it, "dogleg" and
        "trust-exact" need a full Hessian, built from d products. Or an optimizer of
        your own: a callable ``runner(provider, spec) -> OptimizeResult`` that gets
        the checked :class:`~gradopt.optimizers.RunSpec` (``x0``, ``bounds``,
        ``constraints``, ``tol``, ``options``, ``callback``, ``progress``).
    bounds : sequence of (low, high) or scipy.optimize.Bounds, optional
        For the methods that take bounds; None, -inf or inf leaves a side open, NaN is
        refused (as by :class:`~gradopt.FiniteDifference`), `x0` must lie inside. A
        variable with ``low == high`` is fixed (its gradient from a bounded
        :class:`~gradopt.FiniteDifference` is 0 and costs no call of f).
    tol : float, optional
        Passed to scipy as ``tol``; for gradient descent, ``gtol``.
    options : dict, optional
        Method options. For gradient descent see
        :class:`~gradopt.optimizers.options.GradientDescentOptions`; for a scipy method,
        its scipy options. A name the method does not accept, or a value of the wrong
        type or range, is an error.
    callback : callable, optional
        Called after each iteration with ``intermediate_result`` (an ``OptimizeResult``
        with ``x, fun, jac, nit``) if that is its only parameter's name, else with ``x``.
        Raising ``StopIteration`` or returning True stops the run.
    progress : bool, default False
        Show a tqdm progress bar (iteration, f, ||g||) on stderr.
    constraints : Constraint, scipy constraint, dict, or a sequence of them, optional
        For "SLSQP", "trust-constr", "COBYLA" and "COBYQA":
        :class:`~gradopt.Constraint` (``lb <= fun(x) <= ub``, its Jacobian from a gradopt
        provider), scipy's ``NonlinearConstraint`` and ``LinearConstraint``, or scipy's
        dicts. Bounds no point satisfies (``lb > ub``) are an error. A constrained run's
        claimed success is not checked against the gradient (it need not vanish there).

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x, fun, jac, nit, nfev, njev, nhev, success, status, message, method``. `status`
        is a :class:`~gradopt.Status` member; the counts are the provider's calls
        made during this run, finite-difference evaluations included. A NaN or infinity
        at a trial point shrinks the step; at an accepted iterate (or when the search
        cannot get away from such values) it stops the run with ``success=False``,
        status ``NON_FINITE`` and the last finite iterate. A success scipy claims at a
        point that is not a minimum is reported as ``NOT_STATIONARY``.

    Raises
    ------
    InvalidInputError
        Unknown method, option or option value, bad `x0`, `tol`, `bounds` or
        `callback`.
    MissingCapabilityError
        The method needs Hessian-vector products the provider does not have.
    KeyboardInterrupt
        Re-raised when the run is interrupted (Ctrl-C), carrying the last completed
        iteration as ``exc.intermediate_result`` (an ``OptimizeResult`` with ``x, fun,
        jac, nit``; None before the first iteration ended). The worker processes of a
        ``FiniteDifference(workers=N)`` provider are stopped first.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import rosen, rosen_der
    >>> from gradopt import Analytic, minimize
    >>> res = minimize(Analytic(rosen, rosen_der), [-1.2, 1.0])
    >>> res.success, np.round(res.x, 4)
    (True, array([1., 1.]))
    """
    if not isinstance(provider, GradientProvider):
        raise InvalidInputError(
            "provider must be a GradientProvider (e.g. Analytic, FiniteDifference, "
            f"Autograd); got {type(provider).__name__}."
        )
    run = _runner(method)
    spec = make_spec(x0, bounds, check_constraints(constraints), tol, options, callback, progress)
    with interruptible(provider, "gradopt.minimize"):
        return run(provider, spec)


def _runner(method: Any) -> Runner:
    """The runner `method` names (case-insensitive), or `method` itself if callable."""
    if callable(method) and not isinstance(method, str):
        return method  # type: ignore[no-any-return]
    if isinstance(method, str) and method.lower() in UNAVAILABLE:
        since = ".".join(map(str, UNAVAILABLE[method.lower()].since))
        raise InvalidInputError(
            f"method {method!r} needs scipy >= {since}; this is scipy {scipy.__version__}."
        )
    if not isinstance(method, str) or method.lower() not in _RUNNERS:
        raise InvalidInputError(
            f"unknown method {method!r}; valid methods: {', '.join(available_methods())}, "
            "or a callable runner(provider, spec)."
        )
    return _RUNNERS[method.lower()][1]
