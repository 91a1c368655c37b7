"""Validation of points: every route into ``as_point`` gives a fresh, finite 1-D float64."""

from __future__ import annotations

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


def test_scalar_values() -> None:
    assert as_scalar_value(np.array([[2.0]])) == 2.0
    with pytest.raises(ObjectiveError, match=r"returned an array of shape \(2,\)"):
        as_scalar_value(np.ones(2))
    with pytest.raises(ObjectiveError, match=r"must return a real number.*str"):
        as_scalar_value("1.0")
