"""``gradopt.minimize``: one front for gradopt's own optimizers and scipy's methods."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np
import scipy
from scipy.optimize import OptimizeResult

from gradopt._typing import ArrayLike, FloatArray, as_point
from gradopt.exceptions import InvalidInputError
from gradopt.gradients import FiniteDifference, GradientProvider
from gradopt.optimizers._monitor import LAST_ITERATE
from gradopt.optimizers._scipy_methods import SCIPY_METHODS, UNAVAILABLE, ScipyMethod
from gradopt.optimizers._scipy_runner import run_scipy
from gradopt.optimizers.gradient_descent import run_gradient_descent

__all__ = ["available_methods", "minimize"]


class _Runner(Protocol):
    def __call__(
        self,
        provider: GradientProvider,
        x0: FloatArray,
        *,
        bounds: Any,
        tol: float | None,
        options: Mapping[str, Any] | None,
        callback: Callable[..., Any] | None,
        progress: bool,
    ) -> OptimizeResult: ...


def _scipy_runner(method: ScipyMethod) -> _Runner:
    def run(provider: GradientProvider, x0: FloatArray, **kwargs: Any) -> OptimizeResult:
        return run_scipy(method, provider, x0, **kwargs)

    return run


_RUNNERS: dict[str, tuple[str, _Runner]] = {
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
    method: str = "L-BFGS-B",
    bounds: Any = None,
    tol: float | None = None,
    options: Mapping[str, Any] | None = None,
    callback: Callable[..., Any] | None = None,
    progress: bool = False,
) -> OptimizeResult:
    """Minimize the function behind `provider`, starting at `x0`.

    Parameters
    ----------
    provider : GradientProvider
        Where values and gradients come from (:class:`~gradopt.Analytic`,
        :class:`~gradopt.FiniteDifference`, :class:`~gradopt.Autograd`, ...).
    x0 : array_like
        Starting point, a scalar or 1-D array of finite numbers.
    method : str, default "L-BFGS-B"
        ``"gradient-descent"`` (gradopt's own) or a method of
        :func:`scipy.optimize.minimize`: "L-BFGS-B", "BFGS", "CG", "TNC", "SLSQP",
        "Newton-CG", "trust-constr", "trust-ncg", "trust-krylov", "dogleg", "trust-exact"
        and the derivative-free "Nelder-Mead", "Powell", "COBYLA", "COBYQA". scipy
        methods get value and gradient from one call (``jac=True``) and the provider's
        ``hessp`` when they use it; "trust-ncg" and "trust-krylov" need it, "dogleg" and
        "trust-exact" need a full Hessian, built from d products.
    bounds : sequence of (low, high) or scipy.optimize.Bounds, optional
        For the methods that take bounds; None, -inf or inf leaves a side open, NaN is
        refused (as by :class:`~gradopt.FiniteDifference`), `x0` must lie inside.
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
    if isinstance(method, str) and method.lower() in UNAVAILABLE:
        since = ".".join(map(str, UNAVAILABLE[method.lower()].since))
        raise InvalidInputError(
            f"method {method!r} needs scipy >= {since}; this is scipy {scipy.__version__}."
        )
    if not isinstance(method, str) or method.lower() not in _RUNNERS:
        raise InvalidInputError(
            f"unknown method {method!r}; valid methods: {', '.join(available_methods())}."
        )
    if tol is not None and not (
        isinstance(tol, int | float | np.floating)
        and not isinstance(tol, bool)
        and math.isfinite(tol)
        and tol > 0
    ):
        raise InvalidInputError(f"tol must be a positive number or None; got {tol!r}.")
    _, run = _RUNNERS[method.lower()]
    last: list[OptimizeResult] = []
    token = LAST_ITERATE.set(last)
    try:
        return run(
            provider,
            as_point(x0, "x0"),
            bounds=bounds,
            tol=tol,
            options=options,
            callback=callback,
            progress=progress,
        )
    except KeyboardInterrupt as exc:
        _interrupted(exc, provider, last[0] if last else None)
        raise
    finally:
        LAST_ITERATE.reset(token)


def _interrupted(
    exc: KeyboardInterrupt, provider: GradientProvider, last: OptimizeResult | None
) -> None:
    """Stop the provider's worker processes; hand the last iterate back on `exc`."""
    if isinstance(provider, FiniteDifference):
        provider.close()
    exc.intermediate_result = last  # type: ignore[attr-defined]
    if sys.version_info >= (3, 11):
        exc.add_note(
            "gradopt.minimize was interrupted before its first iteration ended"
            if last is None
            else f"gradopt.minimize was interrupted after iteration {last.nit}; the last "
            "iterate is in this exception's intermediate_result"
        )
