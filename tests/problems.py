"""A small shared set of test problems with exactly known gradients.

Every ``fun`` is written with ``autograd.numpy`` and without assignment into arrays, so
every provider can use it: autograd traces it, and it carries complex numbers through for
the complex step (that is why the Huber loss below takes ``|r|`` as ``where(r >= 0, r, -r)``
rather than ``abs(r)``: the modulus of a complex number drops the imaginary part that holds
the derivative). ``grad`` (and ``hessp`` where given) is the exact truth, written by hand
or taken from scipy.

>>> [p.name for p in PROBLEMS][:3]
['sin@1', 'rosen-d2-start', 'rosen-d2-random']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import autograd.numpy as anp
import numpy as np
from scipy.optimize import rosen_der, rosen_hess_prod

__all__ = ["PROBLEMS", "Problem", "problem"]


@dataclass(frozen=True)
class Problem:
    """A function, its exact gradient and a point to test at."""

    name: str
    fun: Callable[[Any], Any]
    grad: Callable[[Any], Any]
    x: Any  # a float (scalar problems) or a 1-D float64 array
    hessp: Callable[[Any, Any], Any] | None = None

    def __repr__(self) -> str:  # short ids in pytest output
        return self.name


def _rosen(x: Any) -> Any:
    return anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def _sum(x: Any) -> Any:
    return anp.sum(x)


def _sin_of_one(x: Any) -> Any:
    return anp.sin(x[1])


def _sin_of_one_grad(x: Any) -> Any:
    return np.where(np.arange(x.size) == 1, np.cos(x[1]), 0.0)


def _powers_loop(x: Any) -> Any:
    total = 0.0
    for i in range(len(x)):  # a Python loop: sum of x_i ** i, i = 1..d
        total = total + x[i] ** (i + 1)
    return total


def _powers_grad(x: Any) -> Any:
    i = np.arange(1, x.size + 1)
    return i * x ** (i - 1)


def _branch(x: Any) -> Any:
    if anp.abs(x[0]) > 2:  # a Python `if` on the value of the first coordinate
        return anp.sum(x**2)
    return anp.sum(anp.sin(x))


def _branch_grad(x: Any) -> Any:
    return 2 * x if abs(x[0]) > 2 else np.cos(x)


def _exp_sin(x: Any) -> Any:
    return anp.sum(anp.exp(x) * anp.sin(x))


def _exp_sin_grad(x: Any) -> Any:
    return np.exp(x) * (np.sin(x) + np.cos(x))


_HUBER_RNG = np.random.default_rng(20240611)
_HUBER_X = _HUBER_RNG.standard_normal((12, 4))
_HUBER_Y = _HUBER_RNG.standard_normal(12) * 2.0
_HUBER_DELTA = 1.0


def _huber(w: Any) -> Any:
    r = anp.dot(_HUBER_X, w) - _HUBER_Y
    abs_r = anp.where(r >= 0, r, -r)  # not abs(): see the module docstring
    quad = 0.5 * r**2
    lin = _HUBER_DELTA * (abs_r - 0.5 * _HUBER_DELTA)
    return anp.sum(anp.where(abs_r <= _HUBER_DELTA, quad, lin))


def _huber_grad(w: Any) -> Any:
    r = _HUBER_X @ w - _HUBER_Y
    psi = np.clip(r, -_HUBER_DELTA, _HUBER_DELTA)
    return _HUBER_X.T @ psi


def _rosen_problems() -> list[Problem]:
    rng = np.random.default_rng(7)
    out = []
    for d in (2, 10, 100):
        for label, x in (
            ("start", np.tile([-1.2, 1.0], d // 2)),
            ("random", rng.uniform(-2.0, 2.0, d)),
        ):
            out.append(Problem(f"rosen-d{d}-{label}", _rosen, rosen_der, x, rosen_hess_prod))
    return out


def _huber_point() -> np.ndarray[Any, Any]:
    """A point whose residuals are all well away from the kink at |r| = delta."""
    w = np.array([0.3, -0.8, 0.5, 1.1])
    r = _HUBER_X @ w - _HUBER_Y
    margin = np.min(np.abs(np.abs(r) - _HUBER_DELTA))
    assert margin > 1e-3, margin  # finite-difference steps must not cross the kink
    assert np.any(np.abs(r) < _HUBER_DELTA) and np.any(np.abs(r) > _HUBER_DELTA)
    return w


PROBLEMS: list[Problem] = [
    Problem("sin@1", anp.sin, np.cos, 1.0, lambda x, v: -np.sin(x) * v),
    *_rosen_problems(),
    Problem("sum", _sum, np.ones_like, np.array([0.5, -1.5, 2.0, 3.25]), lambda x, v: 0 * v),
    Problem("sin-of-one", _sin_of_one, _sin_of_one_grad, np.array([0.3, 1.2, -0.7])),
    Problem("powers-loop", _powers_loop, _powers_grad, np.array([0.9, 1.1, -0.8, 1.2, 0.7])),
    Problem("branch-outer", _branch, _branch_grad, np.array([2.5, -0.4, 1.0])),
    Problem("branch-inner", _branch, _branch_grad, np.array([-1.5, -0.4, 1.0])),
    Problem("huber", _huber, _huber_grad, _huber_point()),
    Problem("exp-sin", _exp_sin, _exp_sin_grad, np.array([-1.0, 0.0, 0.5, 2.0])),
]


def problem(name: str) -> Problem:
    """The problem called `name`."""
    return next(p for p in PROBLEMS if p.name == name)
