"""A small shared set of test problems with exactly known gradients, backend-neutral.

Each function is written once against an array namespace ``xp`` (``generic(xp, x)``) and
without assignment into arrays, so that every backend gets its form from it:
``problem.form(numpy)`` for the black-box providers, ``autograd.numpy`` for autograd,
``jax.numpy`` for JAX (see :mod:`tests.forms`, where a backend's forms file may replace
the form of a problem it cannot run as written, such as a Python ``if`` under ``jax.jit``).
The numpy form carries complex numbers through for the complex step (that is why the
Huber loss below takes ``|r|`` as ``where(r >= 0, r, -r)`` rather than ``abs(r)``: the
modulus of a complex number drops the imaginary part that holds the derivative).
``grad`` (and ``hessp`` where given) is the exact truth, written by hand with numpy or
taken from scipy.

>>> [p.name for p in PROBLEMS][:3]
['sin@1', 'rosen-d2-start', 'rosen-d2-random']
>>> float(problem("exp-sin").fun(np.zeros(4)))
0.0
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import rosen_der, rosen_hess_prod

__all__ = ["PROBLEMS", "VECTOR_PROBLEMS", "Problem", "problem"]


@dataclass(frozen=True)
class Problem:
    """A function (in any array namespace), its exact gradient and a point to test at.

    With `vector`, the function returns m outputs and `grad` is its exact Jacobian,
    shape ``(m, d)``.
    """

    name: str
    generic: Callable[[Any, Any], Any]  # generic(xp, x): the function in namespace xp
    grad: Callable[[Any], Any]
    x: Any  # a float (scalar problems) or a 1-D float64 array
    hessp: Callable[[Any, Any], Any] | None = None
    vector: bool = False

    def form(self, xp: Any) -> Callable[[Any], Any]:
        """The function written with the namespace `xp`.

        The same object for every problem of the same generic function, so compiled
        backends (JAX) compile it once per shape for the whole test session.
        """
        return _form(self.generic, xp)

    @property
    def fun(self) -> Callable[[Any], Any]:
        """The numpy form: what black-box providers (and the truth) evaluate."""
        return self.form(np)

    def __repr__(self) -> str:  # short ids in pytest output
        return self.name


@functools.cache
def _form(generic: Callable[[Any, Any], Any], xp: Any) -> Callable[[Any], Any]:
    fun = functools.partial(generic, xp)
    functools.update_wrapper(fun, generic)  # its name, in messages
    return fun


def rosen(xp: Any, x: Any) -> Any:
    return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def sin(xp: Any, x: Any) -> Any:
    return xp.sin(x)


def total(xp: Any, x: Any) -> Any:
    return xp.sum(x)


def sin_of_one(xp: Any, x: Any) -> Any:
    return xp.sin(x[1])


def _sin_of_one_grad(x: Any) -> Any:
    return np.where(np.arange(x.size) == 1, np.cos(x[1]), 0.0)


def powers_loop(xp: Any, x: Any) -> Any:
    total = 0.0
    for i in range(len(x)):  # a Python loop: sum of x_i ** i, i = 1..d
        total = total + x[i] ** (i + 1)
    return total


def _powers_grad(x: Any) -> Any:
    i = np.arange(1, x.size + 1)
    return i * x ** (i - 1)


def branch(xp: Any, x: Any) -> Any:
    if xp.abs(x[0]) > 2:  # a Python `if` on the value of the first coordinate
        return xp.sum(x**2)
    return xp.sum(xp.sin(x))


def _branch_grad(x: Any) -> Any:
    return 2 * x if abs(x[0]) > 2 else np.cos(x)


def exp_sin(xp: Any, x: Any) -> Any:
    return xp.sum(xp.exp(x) * xp.sin(x))


def _exp_sin_grad(x: Any) -> Any:
    return np.exp(x) * (np.sin(x) + np.cos(x))


_HUBER_RNG = np.random.default_rng(20240611)
HUBER_X = _HUBER_RNG.standard_normal((12, 4))
HUBER_Y = _HUBER_RNG.standard_normal(12) * 2.0
HUBER_DELTA = 1.0


def huber(xp: Any, w: Any) -> Any:
    r = xp.dot(HUBER_X, w) - HUBER_Y
    abs_r = xp.where(r >= 0, r, -r)  # not abs(): see the module docstring
    quad = 0.5 * r**2
    lin = HUBER_DELTA * (abs_r - 0.5 * HUBER_DELTA)
    return xp.sum(xp.where(abs_r <= HUBER_DELTA, quad, lin))


def _huber_grad(w: Any) -> Any:
    r = HUBER_X @ w - HUBER_Y
    psi = np.clip(r, -HUBER_DELTA, HUBER_DELTA)
    return HUBER_X.T @ psi


def _rosen_problems() -> list[Problem]:
    rng = np.random.default_rng(7)
    out = []
    for d in (2, 10, 100):
        for label, x in (
            ("start", np.tile([-1.2, 1.0], d // 2)),
            ("random", rng.uniform(-2.0, 2.0, d)),
        ):
            out.append(Problem(f"rosen-d{d}-{label}", rosen, rosen_der, x, rosen_hess_prod))
    return out


def _huber_point() -> np.ndarray[Any, Any]:
    """A point whose residuals are all well away from the kink at |r| = delta."""
    w = np.array([0.3, -0.8, 0.5, 1.1])
    r = HUBER_X @ w - HUBER_Y
    margin = np.min(np.abs(np.abs(r) - HUBER_DELTA))
    assert margin > 1e-3, margin  # finite-difference steps must not cross the kink
    assert np.any(np.abs(r) < HUBER_DELTA) and np.any(np.abs(r) > HUBER_DELTA)
    return w


PROBLEMS: list[Problem] = [
    Problem("sin@1", sin, np.cos, 1.0, lambda x, v: -np.sin(x) * v),
    *_rosen_problems(),
    Problem("sum", total, np.ones_like, np.array([0.5, -1.5, 2.0, 3.25]), lambda x, v: 0 * v),
    Problem("sin-of-one", sin_of_one, _sin_of_one_grad, np.array([0.3, 1.2, -0.7])),
    Problem("powers-loop", powers_loop, _powers_grad, np.array([0.9, 1.1, -0.8, 1.2, 0.7])),
    Problem("branch-outer", branch, _branch_grad, np.array([2.5, -0.4, 1.0])),
    Problem("branch-inner", branch, _branch_grad, np.array([-1.5, -0.4, 1.0])),
    Problem("huber", huber, _huber_grad, _huber_point()),
    Problem("exp-sin", exp_sin, _exp_sin_grad, np.array([-1.0, 0.0, 0.5, 2.0])),
]


def rosen_residuals(xp: Any, x: Any) -> Any:
    """Rosenbrock's residuals: m = 2(d - 1) outputs."""
    return xp.concatenate([10.0 * (x[1:] - x[:-1] ** 2), 1.0 - x[:-1]])


def _rosen_residuals_jac(x: Any) -> Any:
    d = x.size
    top = 10.0 * (np.eye(d - 1, d, k=1) - 2.0 * np.eye(d - 1, d) * x[:-1, None])
    return np.vstack([top, -np.eye(d - 1, d)])


def exp_sin_each(xp: Any, x: Any) -> Any:
    """One output per coordinate: a diagonal Jacobian."""
    return xp.exp(x) * xp.sin(x)


def two_of_five(xp: Any, x: Any) -> Any:
    """Fewer outputs than coordinates."""
    return xp.stack([xp.sum(xp.sin(x)), x[0] * x[4]])


def _two_of_five_jac(x: Any) -> Any:
    second = np.zeros(5)
    second[0], second[4] = x[4], x[0]
    return np.vstack([np.cos(x), second])


def three_of_scalar(xp: Any, x: Any) -> Any:
    """Three outputs of a scalar x: a (3, 1) Jacobian."""
    return xp.stack([xp.sin(x), x**3, xp.exp(-x)])


VECTOR_PROBLEMS: list[Problem] = [
    Problem(
        "rosen-residuals-d6",
        rosen_residuals,
        _rosen_residuals_jac,
        np.tile([-1.2, 1.0], 3),
        vector=True,
    ),
    Problem(
        "exp-sin-each",
        exp_sin_each,
        lambda x: np.diag(np.exp(x) * (np.sin(x) + np.cos(x))),
        np.array([-1.0, 0.0, 0.5, 2.0]),
        vector=True,
    ),
    Problem(
        "two-of-five",
        two_of_five,
        _two_of_five_jac,
        np.array([0.3, -0.7, 1.1, 0.2, -1.4]),
        vector=True,
    ),
    Problem(
        "three-of-scalar",
        three_of_scalar,
        lambda x: np.array([[np.cos(x)], [3 * x**2], [-np.exp(-x)]]),
        0.7,
        vector=True,
    ),
]
VECTOR_PROBLEMS = [Problem(p.name, p.generic, p.grad, p.x, vector=True) for p in VECTOR_PROBLEMS]


def problem(name: str) -> Problem:
    """The problem called `name`."""
    return next(p for p in PROBLEMS + VECTOR_PROBLEMS if p.name == name)
