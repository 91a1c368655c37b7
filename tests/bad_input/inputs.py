"""Inputs shared by several entry points: points, and careless objectives.

A *point* input is a value for an argument such as ``x`` or ``x0``; its outcome depends
only on the argument's name. An *objective* input is a function f that misbehaves; the
functions use array methods only and carry complex numbers, so that every provider
(numpy, autograd, JAX) can take them and only the misbehaviour shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from gradopt.exceptions import InvalidInputError, ObjectiveError
from tests.bad_input.outcomes import Outcome, Raises, Returns

__all__ = [
    "GOOD",
    "USERS_ERROR",
    "NanAfter",
    "bowl",
    "bowl_grad",
    "careless",
    "point_inputs",
    "raises",
    "same_as",
]

GOOD = np.array([0.5, 2.0])  #: a good point of dimension 2
#: What :func:`raises` must lead to: its ValueError, of that very type, with its message.
USERS_ERROR = Raises(ValueError, ("boom: the user's own error",), unchanged=True)


def bowl(x: Any) -> Any:
    """``sum((x - 1)**2)``, written with array methods: works with every provider (numpy,
    autograd and JAX arrays), scalars and complex steps (and plain floats, which
    ``step_error`` passes)."""
    squares = (x - 1.0) ** 2
    return squares.sum() if hasattr(squares, "sum") else squares


def bowl_grad(x: Any) -> Any:
    """The gradient of :func:`bowl`."""
    return 2.0 * (np.asarray(x) - 1.0)


def raises(x: Any) -> Any:
    raise ValueError("boom: the user's own error")


def returns_none(x: Any) -> Any:
    return None


def returns_array(x: Any) -> Any:
    return np.ones(2) * bowl(x)


def returns_string(x: Any) -> Any:
    return "5.0"


def returns_complex(x: Any) -> Any:
    return 1.0 + 2.0j


def returns_nan(x: Any) -> Any:
    return bowl(x) * np.nan


class NanAfter:
    """``bowl`` for the first `k` calls, NaN after (a simulation that breaks down)."""

    def __init__(self, k: int) -> None:
        self.k, self.calls = k, 0

    def __call__(self, x: Any) -> Any:
        self.calls += 1
        return bowl(x) * (np.nan if self.calls > self.k else 1.0)


def careless(name: str, nan: Outcome) -> list[tuple[str, Callable[..., Any], Outcome]]:
    """``(input, f, outcome)`` for objectives passed as the argument `name` that misbehave
    at every call; `nan` is what the entry point does with an f that returns NaN."""
    f = f"``{name}``"
    return [
        (f"{f} raises ``ValueError``", raises, USERS_ERROR),
        (f"{f} returns None", returns_none, Raises(ObjectiveError, ("must return", "None"))),
        (f"{f} returns shape (2,)", returns_array, Raises(ObjectiveError, ("shape (2,)",))),
        (f"{f} returns ``'5.0'``", returns_string, Raises(ObjectiveError, ("must return", "str"))),
        (
            f"{f} returns ``1+2j``",
            returns_complex,
            Raises(ObjectiveError, ("must return", "complex")),
        ),
        (f"{f} returns NaN", returns_nan, nan),
    ]


def same_as(reference: Callable[[], Any]) -> Callable[[Any], bool]:
    """A check that a result equals what `reference` returns (values, arrays, tuples)."""

    def holds(result: Any) -> bool:
        expected = reference()
        if isinstance(expected, tuple):
            return all(np.array_equal(a, b) for a, b in zip(result, expected, strict=True))
        return bool(np.array_equal(result, expected))

    return holds


def point_inputs(
    name: str, call: Callable[[Any], Any], good: Any = GOOD, scalar: Any = 0.5
) -> list[tuple[str, Callable[[], Any], Outcome]]:
    """``(input, thunk, outcome)`` for every kind of point given as the argument `name`
    of `call` (which takes the point): `good` is a valid 1-D point, `scalar` a valid
    0-d one (None where a 0-d point is itself wrong for the entry point)."""

    def refused(*says: str) -> Outcome:
        return Raises(InvalidInputError, says)

    def works_like(value: Any) -> Outcome:
        return Returns(f"as with ``np.asarray({name}, float)``", same_as(lambda: call(value)))

    rows: list[tuple[str, Any, Outcome]] = [
        ("NaN", [good[0], np.nan], refused(f"{name} must be finite", "nan at index 1")),
        ("infinity", [np.inf, good[1]], refused(f"{name} must be finite", "inf at index 0")),
        ("empty", [], refused(f"{name} must not be empty")),
        (
            "2-D array, shape (2, 2)",
            np.ones((2, 2)),
            refused(f"{name} must be a scalar or a 1-D array", "shape (2, 2)"),
        ),
        (
            "object array ``[0.5, None]``",
            np.array([good[0], None], dtype=object),
            refused(f"{name} must hold real numbers", "dtype object"),
        ),
        (
            "strings ``['0.5', '2']``",
            ["0.5", "2"],
            refused(f"{name} must hold real numbers", "<U3"),
        ),
        (
            "complex ``[0.5+1j, 2]``",
            [good[0] + 1j, good[1]],
            refused(f"{name} must hold real numbers", "complex128"),
        ),
        ("a list", list(good), works_like(np.asarray(good))),
        ("integers", [int(v) for v in good], works_like(np.asarray(good, dtype=int) * 1.0)),
        ("a pandas Series", pd.Series(good), works_like(np.asarray(good))),
        (
            "a pandas DataFrame, one row",
            pd.DataFrame([good]),
            refused(f"{name} must be a scalar or a 1-D array", "shape (1, 2)"),
        ),
    ]
    if scalar is not None:
        rows.append(("0-d (a float)", np.float64(scalar), works_like(np.array(scalar))))
    return [(label, (lambda v=value: call(v)), outcome) for label, value, outcome in rows]
