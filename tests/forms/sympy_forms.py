"""The problems of :mod:`tests.problems` as sympy expressions, for the Symbolic provider.

A sympy expression is not array code, so each problem's form is written out here by name.
``provider(problem)`` builds :class:`gradopt.Symbolic` from it; a problem without one
(e.g. ``copysign``, whose -0.0 sympy cannot tell from 0.0) is skipped with that reason.

>>> from tests.problems import VECTOR_PROBLEMS
>>> sorted(set(p.name for p in PROBLEMS + VECTOR_PROBLEMS) - set(FORMS))
[]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy as sp

from gradopt import Symbolic
from tests.problems import HUBER_DELTA, HUBER_X, HUBER_Y, PROBLEMS, Problem

__all__ = ["FORMS", "provider"]


def _symbols(d: int) -> tuple[Any, ...]:
    return tuple(sp.symbols(f"x0:{d}", real=True))


def _rosen(d: int) -> Any:
    x = _symbols(d)
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(d - 1))


def _huber(d: int) -> Any:
    w = _symbols(d)
    total = sp.Integer(0)
    for row, y in zip(HUBER_X, HUBER_Y, strict=True):
        r = sum(sp.Float(a) * wi for a, wi in zip(row, w, strict=True)) - sp.Float(y)
        total += sp.Piecewise(
            (r**2 / 2, sp.Abs(r) <= HUBER_DELTA),
            (HUBER_DELTA * (sp.Abs(r) - HUBER_DELTA / 2), True),
        )
    return total


def _branch(d: int) -> Any:
    x = _symbols(d)
    return sp.Piecewise(
        (sum(xi**2 for xi in x), sp.Abs(x[0]) > 2), (sum(sp.sin(xi) for xi in x), True)
    )


# name -> expression in x0, ..., x{d-1} (real symbols) for a point of d coordinates
FORMS: dict[str, Callable[[int], Any]] = {
    "sin@1": lambda d: sp.sin(_symbols(1)[0]),
    **{p.name: _rosen for p in PROBLEMS if p.name.startswith("rosen-")},
    "sum": lambda d: sum(_symbols(d)),
    "sin-of-one": lambda d: sp.sin(_symbols(d)[1]),
    "powers-loop": lambda d: sum(xi ** (i + 1) for i, xi in enumerate(_symbols(d))),
    "branch-outer": _branch,
    "branch-inner": _branch,
    "huber": _huber,
    "exp-sin": lambda d: sum(sp.exp(xi) * sp.sin(xi) for xi in _symbols(d)),
    # test_contract's own problems
    "doubles": lambda d: _symbols(d)[0] ** 2 + _symbols(d)[-1] ** 2,  # after doubling x
    # vector-valued problems: lists of expressions
    "rosen-residuals-d6": lambda d: [
        *(10 * (_symbols(d)[i + 1] - _symbols(d)[i] ** 2) for i in range(d - 1)),
        *(1 - _symbols(d)[i] for i in range(d - 1)),
    ],
    "exp-sin-each": lambda d: [sp.exp(xi) * sp.sin(xi) for xi in _symbols(d)],
    "two-of-five": lambda d: [
        sum(sp.sin(xi) for xi in _symbols(d)),
        _symbols(d)[0] * _symbols(d)[4],
    ],
    "three-of-scalar": lambda d: [
        sp.sin(_symbols(1)[0]),
        _symbols(1)[0] ** 3,
        sp.exp(-_symbols(1)[0]),
    ],
}


@functools.cache
def _form(name: str, d: int) -> Any:
    return FORMS[name](d)


def provider(problem: Problem) -> Symbolic:
    """A Symbolic provider for `problem` (skips the test when it has no sympy form)."""
    if problem.name not in FORMS:
        pytest.skip(f"no sympy form of the problem {problem.name!r}")
    d = int(np.size(problem.x))
    return Symbolic(_form(problem.name, d), _symbols(d))
