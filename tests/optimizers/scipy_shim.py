"""scipy's calling convention on top of gradopt: ``fun, x0, args, jac, hess, hessp, ...``
become a provider and a call of :func:`gradopt.minimize`.

So that scipy's own tests of ``scipy.optimize.minimize`` can be run through gradopt:

- ``jac`` callable: :class:`~gradopt.Analytic` with that gradient; ``jac=True``: ``fun``
  returns ``(f, g)``; ``None``, ``False``, ``"2-point"``, ``"3-point"``, ``"cs"``:
  :class:`~gradopt.FiniteDifference` (central, forward, central, complex step);
- ``hessp``, or ``hess`` as a callable (turned into a product), is the provider's hessp;
- scipy's default method (BFGS, or L-BFGS-B with bounds) when none is named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from gradopt import Analytic, FiniteDifference, GradientProvider, minimize
from gradopt.optimizers import available_methods
from gradopt.optimizers._scipy_methods import SCIPY_METHODS, accepted_options

_SCHEMES = {None: "central", False: "central", "2-point": "forward", "3-point": "central"}
_SCHEMES_COMPLEX = {"cs": "complex"}


def provider_from_scipy_arguments(
    fun: Callable[..., Any],
    args: tuple[Any, ...] = (),
    jac: Any = None,
    hess: Any = None,
    hessp: Any = None,
) -> GradientProvider:
    """The provider that stands for scipy's ``fun, args, jac, hess, hessp``."""
    if not isinstance(args, tuple):
        args = (args,)

    def f(x: Any) -> Any:
        return fun(x, *args)

    product = None
    if callable(hessp):
        product = lambda x, v: hessp(x, v, *args)  # noqa: E731
    elif callable(hess):
        product = lambda x, v: np.asarray(hess(x, *args)) @ v  # noqa: E731
    if jac is True:
        return Analytic(lambda x: f(x)[0], hessp=product, value_and_grad=f)
    if callable(jac):
        return Analytic(f, lambda x: jac(x, *args), hessp=product)
    method = {**_SCHEMES, **_SCHEMES_COMPLEX}[jac]
    return FiniteDifference(f, method=method)  # type: ignore[arg-type]


def gradopt_minimize(
    fun: Callable[..., Any],
    x0: Any,
    args: tuple[Any, ...] = (),
    method: str | None = None,
    jac: Any = None,
    hess: Any = None,
    hessp: Any = None,
    bounds: Any = None,
    tol: float | None = None,
    callback: Callable[..., Any] | None = None,
    options: dict[str, Any] | None = None,
) -> OptimizeResult:
    """``scipy.optimize.minimize``'s signature, answered by :func:`gradopt.minimize`."""
    provider = provider_from_scipy_arguments(fun, args, jac, hess, hessp)
    if method is None:
        method = "L-BFGS-B" if bounds is not None else "BFGS"
    return minimize(
        provider, x0, method, bounds=bounds, tol=tol, options=options, callback=callback
    )


HAS_COBYQA = "COBYQA" in available_methods()


def scipy_methods_but(*excluded: str) -> list[str]:
    """The scipy methods the installed scipy has, less `excluded`."""
    return [m for m in available_methods() if m not in ("gradient-descent", *excluded)]


def has_option(method: str, option: str) -> bool:
    return option in accepted_options(SCIPY_METHODS[method.lower()])


class Entropy:
    """The constrained entropy maximization of Berger et al. (1996) that scipy's
    ``CheckOptimize`` uses, counting calls of f and of its gradient."""

    F = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 1], [1, 0, 0], [1, 0, 0]], dtype=float)
    K = np.array([1.0, 0.3, 0.5])
    start = np.zeros(3)
    solution = np.array([0.0, -0.524869316, 0.487525860])

    def __init__(self) -> None:
        self.funccalls = self.gradcalls = 0

    def func(self, x: np.ndarray) -> float:
        self.funccalls += 1
        log_pdot = self.F @ x
        return float(np.log(np.sum(np.exp(log_pdot))) - self.K @ x)

    def grad(self, x: np.ndarray) -> np.ndarray:
        self.gradcalls += 1
        log_pdot = self.F @ x
        p = np.exp(log_pdot - np.log(np.sum(np.exp(log_pdot))))
        return self.F.T @ p - self.K

    def hess(self, x: np.ndarray) -> np.ndarray:
        log_pdot = self.F @ x
        p = np.exp(log_pdot - np.log(np.sum(np.exp(log_pdot))))
        return self.F.T @ (np.diag(p) @ (self.F - self.F.T @ p))

    def f_star(self) -> float:
        return float(np.log(np.sum(np.exp(self.F @ self.solution))) - self.K @ self.solution)
