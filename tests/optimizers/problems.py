"""A shared set of test problems for the optimizers, each with its providers.

Every objective is written with ``autograd.numpy`` so that all providers (analytic,
finite differences, autograd) apply to it; complex step works too because nothing
drops imaginary parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import autograd.numpy as anp
import numpy as np
from scipy.optimize import rosen_der

from gradopt import Analytic, Autograd, FiniteDifference, GradientProvider

ProviderFactory = Callable[[], GradientProvider]


@dataclass(frozen=True)
class Problem:
    """An objective with its gradient, a start and the minimizer (when known)."""

    name: str
    fun: Callable[[Any], Any]
    grad: Callable[[Any], Any]
    x0: np.ndarray
    x_star: np.ndarray | None

    def providers(self) -> dict[str, ProviderFactory]:
        """Fresh-provider factories, one per way of getting the gradient."""
        return {
            "analytic": lambda: Analytic(self.fun, self.grad),
            "forward": lambda: FiniteDifference(self.fun, method="forward"),
            "central": lambda: FiniteDifference(self.fun, method="central"),
            "complex": lambda: FiniteDifference(self.fun, method="complex"),
            "autograd": lambda: Autograd(self.fun),
        }


def rosen(x: Any) -> Any:
    """The Rosenbrock function, with ``autograd.numpy``."""
    return anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock(d: int) -> Problem:
    """Rosenbrock in `d` dimensions from the classic start ``tile([-1.2, 1], d // 2)``."""
    return Problem(f"rosenbrock{d}", rosen, rosen_der, np.tile([-1.2, 1.0], d // 2), np.ones(d))


def quadratic(d: int = 6, cond: float = 50.0, seed: int = 0) -> Problem:
    """``0.5 x'Ax - b'x`` with A symmetric positive definite of condition number `cond`."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    a = q @ np.diag(np.geomspace(1.0, cond, d)) @ q.T
    b = rng.standard_normal(d)

    def fun(x: Any) -> Any:
        return 0.5 * anp.dot(x, anp.dot(a, x)) - anp.dot(b, x)

    return Problem("quadratic", fun, lambda x: a @ x - b, np.zeros(d), np.linalg.solve(a, b))


def _beale(x: Any) -> Any:
    u, v = x[0], x[1]
    return (1.5 - u + u * v) ** 2 + (2.25 - u + u * v**2) ** 2 + (2.625 - u + u * v**3) ** 2


def _beale_grad(x: Any) -> Any:
    u, v = x[0], x[1]
    r = [1.5 - u + u * v, 2.25 - u + u * v**2, 2.625 - u + u * v**3]
    du = [v - 1, v**2 - 1, v**3 - 1]
    dv = [u, 2 * u * v, 3 * u * v**2]
    return np.array(
        [
            2 * sum(a * b for a, b in zip(r, du, strict=True)),
            2 * sum(a * b for a, b in zip(r, dv, strict=True)),
        ]
    )


def beale() -> Problem:
    """Beale's function; minimum 0 at (3, 0.5)."""
    return Problem("beale", _beale, _beale_grad, np.array([1.0, 1.0]), np.array([3.0, 0.5]))


@dataclass(frozen=True)
class HuberData:
    """Robust regression data: ``y = X w + 0.1 noise`` with 5% gross outliers."""

    X: np.ndarray
    y: np.ndarray
    w_true: np.ndarray
    delta: float = 1.35


def huber_data(n: int = 1000, d: int = 10, seed: int = 0) -> HuberData:
    """X = randn(n, d); 5% of y shifted by 100 N(0, 1)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    y = X @ w + 0.1 * rng.standard_normal(n)
    out = rng.choice(n, size=n // 20, replace=False)
    y[out] += 100.0 * rng.standard_normal(out.size)
    return HuberData(X, y, w)


def huber_regression(n: int = 1000, d: int = 10, seed: int = 0) -> Problem:
    """Mean Huber loss of the residuals ``y - X w`` (delta 1.35, no scale), from w = 0."""
    data = huber_data(n, d, seed)
    X, y, delta = data.X, data.y, data.delta

    def fun(w: Any) -> Any:
        r = y - anp.dot(X, w)
        a = anp.where(anp.real(r) < 0, -r, r)  # |r|, but complex-step safe (abs is not)
        return anp.mean(anp.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta)))

    def grad(w: Any) -> Any:
        r = y - X @ w
        return -(X.T @ np.clip(r, -delta, delta)) / X.shape[0]

    return Problem("huber", fun, grad, np.zeros(d), None)
