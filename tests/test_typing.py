"""Validation of points: every route into ``as_point`` gives a fresh, finite 1-D float64."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from gradopt._typing import as_point, as_scalar_value
from gradopt.exceptions import InvalidInputError, ObjectiveError


@pytest.mark.parametrize(
    "x",
    [
        np.array([1.0, 2.0, 3.0]),  # the fast path
        np.arange(6.0)[::2] * 0 + [1.0, 2.0, 3.0],  # computed, contiguous
        np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])[1::2] - [0.0, 1.0, 2.0],  # strided view
        np.array([1.0, 2.0, 3.0], dtype=">f8"),  # big-endian
        np.array([1, 2, 3], dtype=np.int32),
        [1, 2, 3.0],
        (1.0, 2.0, 3.0),
    ],
)
def test_points_become_fresh_float64_vectors(x: Any) -> None:
    point = as_point(x)
    assert point.dtype == np.float64 and point.shape == (3,) and point.flags.c_contiguous
    np.testing.assert_array_equal(point, [1.0, 2.0, 3.0])
    assert not np.shares_memory(point, np.asarray(x))


def test_scalars_become_length_one() -> None:
    assert as_point(2.5).shape == (1,) and as_point(np.float32(2.5))[0] == 2.5


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 4])
def test_non_finite_float64_arrays_are_refused(bad: float, where: int) -> None:
    x = np.ones(5)
    x[where] = bad
    with pytest.raises(InvalidInputError, match=f"finite; it holds {bad} at index {where}"):
        as_point(x)


def test_huge_finite_points_are_accepted() -> None:
    """x @ x overflows to inf here, but every entry is finite: the point is fine."""
    x = np.array([1e300, -1e300, 3.0])
    np.testing.assert_array_equal(as_point(x), x)


@pytest.mark.parametrize(
    "value",
    [2, 2.5, np.float32(2.5), np.int64(2), np.array(2.5), np.array([[2.5]]), Fraction(5, 2)],
    ids=repr,
)
def test_real_scalars_are_values(value: Any) -> None:
    out = as_scalar_value(value)
    assert type(out) is float and out in (2.0, 2.5)


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (None, r"returned None at x = \[1.0, 2.0\]\. Is a return statement missing\?"),
        ("5.0", r"returned a str \('5.0'\) at x = \[1.0, 2.0\]"),
        ([1.0], r"returned a list of 1 item at x"),
        ((1.0, 2.0), r"returned a tuple of 2 items at x"),
        ({"f": 1.0}, r"returned a dict of 1 item at x"),
        (np.ones(2), r"returned an array of shape \(2,\) at x"),
        (np.ones((1, 2)), r"returned an array of shape \(1, 2\) at x"),
        (1 + 2j, r"returned a complex number \(\(1\+2j\)\) at x"),
        (np.complex128(1.0), r"returned a complex number"),
        (np.array([1j]), r"returned an array of dtype complex128 at x"),
        (True, r"returned a bool \(True\) at x"),
        (np.bool_(False), r"returned a bool \(False\) at x"),
        (np.array(["a"]), r"returned an array of dtype <U1 at x"),
        (object(), r"returned an object of type builtins.object at x"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) or len(v) > 8 else v,
)
def test_unusable_values_are_named_with_the_point(value: Any, named: str) -> None:
    with pytest.raises(ObjectiveError, match=r"^f must return a scalar \(a real number\); "):
        as_scalar_value(value, "f", x=np.array([1.0, 2.0]))
    with pytest.raises(ObjectiveError, match=named):
        as_scalar_value(value, x=np.array([1.0, 2.0]))


def test_long_points_are_shortened_exactly() -> None:
    x = np.arange(100.0) + 0.1
    with pytest.raises(ObjectiveError, match=r"x = \[0.1, 1.1, 2.1, \.\.\., 97.1, 98.1, 99.1\]"):
        as_scalar_value(None, x=x)
    with pytest.raises(ObjectiveError, match=r"returned None at x = 0.5\."):
        as_scalar_value(None, x=np.array(0.5))
