"""Type aliases and the validation of points ``x`` shared by the whole package."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gradopt.exceptions import InvalidInputError, ObjectiveError

__all__ = [
    "ArrayLike",
    "FloatArray",
    "as_point",
    "as_point_and_vector",
    "as_scalar_value",
    "as_vector_value",
]

FloatArray: TypeAlias = NDArray[np.float64]


def as_point(x: ArrayLike, name: str = "x") -> FloatArray:
    """Return `x` as a new 1-D float64 array, checking it is a usable point.

    Scalars become arrays of length one; the caller's object is never modified.

    Raises
    ------
    InvalidInputError
        If `x` is not real and numeric, has more than one dimension, is empty, or holds
        NaN or infinity.
    """
    if type(x) is np.ndarray and x.dtype == np.float64 and x.ndim == 1 and x.size:
        point: FloatArray = x.copy()  # fast path: what optimizers pass, call after call
    else:
        point = _as_float_vector(x, name)
    if not np.isfinite(point).all():  # the method: half the cost of np.all(...)
        bad = np.flatnonzero(~np.isfinite(point))
        raise InvalidInputError(
            f"{name} must be finite; it holds {point[bad[0]]} at index {bad[0]}"
            + (f" (and {bad.size - 1} more non-finite entries)." if bad.size > 1 else ".")
        )
    return point


def _as_float_vector(x: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"{name} must hold real numbers; got an array of dtype {arr.dtype} "
            f"(from {type(x).__name__})."
        )
    if arr.ndim > 1:
        raise InvalidInputError(
            f"{name} must be a scalar or a 1-D array; got shape {arr.shape}. "
            "Flatten it (x.ravel()) and reshape inside your function."
        )
    if arr.size == 0:
        raise InvalidInputError(f"{name} must not be empty.")
    return np.array(arr, dtype=np.float64, copy=True).reshape(-1)


def as_point_and_vector(
    x: ArrayLike, v: ArrayLike
) -> tuple[FloatArray, FloatArray, tuple[int, ...]]:
    """Validate a point `x` and a vector `v` of its shape (for Hessian-vector products).

    Returns both as 1-D float64 copies and the shape the user's function expects
    (``()`` for a scalar `x`).
    """
    point, vec = as_point(x), as_point(v, name="v")
    if vec.shape != point.shape:
        raise InvalidInputError(f"v must have the shape of x {point.shape}; got {vec.shape}.")
    return point, vec, (() if np.ndim(x) == 0 else point.shape)


def as_scalar_value(value: Any, what: str = "the function") -> float:
    """Return the output of a user's objective as a Python float.

    Accepts Python and NumPy scalars and arrays holding exactly one number, as
    :func:`scipy.optimize.minimize` does.
    """
    if isinstance(value, float):  # fast path: Python floats and np.float64
        return float(value)
    arr = np.asarray(value)
    if arr.size != 1:
        raise ObjectiveError(
            f"{what} must return a scalar; it returned an array of shape {arr.shape}."
        )
    if arr.dtype.kind not in "biuf":
        raise ObjectiveError(
            f"{what} must return a real number; it returned {type(value).__name__} "
            f"of dtype {arr.dtype}."
        )
    return float(arr.reshape(()))


def as_vector_value(value: Any, what: str = "the function") -> FloatArray:
    """Return the output of a user's vector-valued function as a 1-D float64 array.

    Accepts what :func:`scipy.optimize.least_squares` accepts: an array-like of real
    numbers with at most one dimension (a scalar is one output).

    Raises
    ------
    ObjectiveError
        For anything else (None, text, complex numbers, more than one dimension, no
        outputs at all), naming what was returned.

    Examples
    --------
    >>> as_vector_value([1, 2.5]).tolist()
    [1.0, 2.5]
    >>> as_vector_value(np.ones((2, 2)))
    Traceback (most recent call last):
    ...
    gradopt.exceptions.ObjectiveError: the function must return a 1-D array of real \
numbers (one per output); it returned an array of shape (2, 2).
    """
    if isinstance(value, np.ndarray) and value.dtype == np.float64 and value.ndim == 1:
        arr: Any = value
    elif value is None or isinstance(value, str | bytes | dict | set):
        raise ObjectiveError(
            f"{what} must return a 1-D array of real numbers (one per output); it "
            f"returned {type(value).__name__ if value is not None else 'None'}."
        )
    else:
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):  # ragged
            arr = np.asarray(value, dtype=object)
    if arr.ndim > 1:
        raise ObjectiveError(
            f"{what} must return a 1-D array of real numbers (one per output); it "
            f"returned an array of shape {arr.shape}."
        )
    if arr.dtype.kind not in "iuf":
        raise ObjectiveError(
            f"{what} must return real numbers; it returned an array of dtype {arr.dtype} "
            f"(from {type(value).__name__})."
        )
    if arr.size == 0:
        raise ObjectiveError(
            f"{what} returned no outputs (an empty array); a vector-valued function needs "
            "at least one (m >= 1)."
        )
    out: FloatArray = np.array(arr, dtype=np.float64).reshape(-1)
    return out
