"""Type aliases, the validation of points ``x`` and the check of what a user's f returns.

Shared by the whole package: :func:`as_point` for every point that enters gradopt,
:func:`as_scalar_value` for every value that comes back from the user's function (in
this process or from a worker), so that a careless objective gets the same
:class:`~gradopt.exceptions.ObjectiveError` whichever way it is evaluated.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg.blas import ddot as _ddot

from gradopt.exceptions import InvalidInputError, ObjectiveError

__all__ = [
    "ArrayLike",
    "FloatArray",
    "as_point",
    "as_point_and_vector",
    "as_scalar_value",
    "as_vector_value",
    "check_finite",
    "describe_value",
    "format_point",
    "refusal_message",
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
    check_finite(point, name)
    return point


def check_finite(point: FloatArray, name: str = "x") -> None:
    """Raise InvalidInputError naming the first NaN or infinity in the 1-D `point`.

    The sum of squares screens first (BLAS ``ddot``: 0.16 µs at d = 100, against 1.4 µs
    for ``isfinite().all()``, and without NumPy's floating-point warnings): it is finite
    unless an entry is NaN or infinite, or the squares overflow (entries beyond 1e154),
    and only then is every entry checked. `point` must be contiguous.
    """
    if math.isfinite(_ddot(point, point)) or np.isfinite(point).all():
        return
    bad = np.flatnonzero(~np.isfinite(point))
    raise InvalidInputError(
        f"{name} must be finite; it holds {point[bad[0]]} at index {bad[0]}"
        + (f" (and {bad.size - 1} more non-finite entries)." if bad.size > 1 else ".")
    )


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


def format_point(x: Any) -> str:
    """A point for a message, each entry exact (shortest repr): ``[1.0, 2.5, ..., 7.0]``."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "fc":
        arr = arr.astype(np.float64)
    if arr.ndim == 0:
        return repr(arr.item())
    items = arr.reshape(-1).tolist()
    if len(items) > 8:
        items = [*items[:3], "...", *items[-3:]]
    return "[" + ", ".join(str(v) for v in items) + "]"


def as_scalar_value(value: Any, what: str = "the function", x: Any = None) -> float:
    """Return the output of a user's objective as a Python float.

    Accepts what :func:`scipy.optimize.minimize` accepts from a careful user: Python and
    NumPy real numbers, and arrays (NumPy's or any with ``__array__``, such as JAX's)
    holding exactly one real number. NaN and infinity pass: judging them is the caller's
    business.

    Parameters
    ----------
    value : object
        What the function returned.
    what : str, default "the function"
        Who returned it, for the message.
    x : array_like, optional
        The point it was evaluated at, for the message.

    Raises
    ------
    ObjectiveError
        For anything else, naming the type (None, str, list, dict, bool, complex, ...)
        or the shape that was returned, and the point.

    Examples
    --------
    >>> as_scalar_value(np.array([2.5]))
    2.5
    >>> as_scalar_value(None, x=[1.0, 2.0])
    Traceback (most recent call last):
    ...
    gradopt.exceptions.ObjectiveError: the function must return a scalar (a real number); \
it returned None at x = [1.0, 2.0]. Is a return statement missing?
    """
    if isinstance(value, float):  # fast path: Python floats and np.float64
        return float(value)
    if isinstance(value, bool):  # an int, but a comparison's result, not an objective
        raise ObjectiveError(_refusal(value, what, x))
    if isinstance(value, (int, np.integer, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray) or (
        hasattr(value, "__array__") and not isinstance(value, (str, bytes))
    ):
        arr = np.asarray(value)
        if arr.size == 1 and arr.dtype.kind in "iuf":
            return float(arr.reshape(()))
    elif isinstance(value, numbers.Real):  # fractions.Fraction, sympy.Float, ...
        return float(value)
    raise ObjectiveError(_refusal(value, what, x))


def _refusal(value: Any, what: str, x: Any) -> str:
    """Why `value` is not a usable value of f, and what to do about it."""
    got, hint = describe_value(value)
    return refusal_message(got, hint, what, x)


def refusal_message(got: str, hint: str, what: str, x: Any) -> str:
    """The message of :func:`as_scalar_value` for a returned value described as `got`."""
    at = "" if x is None else f" at x = {format_point(x)}"
    return f"{what} must return a scalar (a real number); it returned {got}{at}.{hint}"


def describe_value(value: Any) -> tuple[str, str]:
    """What `value` is, for a message, and a hint what to return instead.

    Works on traced arrays too (anything with ``shape`` and ``dtype``), without
    converting them.
    """
    if value is None:
        return "None", " Is a return statement missing?"
    if isinstance(value, bool | np.bool_):
        return f"a bool ({value})", " Return a number (float(...) if you mean 0 or 1)."
    if isinstance(value, str | bytes):
        kind = "str" if isinstance(value, str) else "bytes"  # np.str_ too
        return (
            f"a {kind} ({str(value)[:40]!r})",
            " Convert the text with float(...) inside f if it holds a number.",
        )
    if isinstance(value, complex | np.complexfloating):
        return (
            f"a complex number ({value})",
            " Take the real part or the modulus inside f, if that is what you mean.",
        )
    if isinstance(value, list | tuple | dict | set):
        n = len(value)
        return (
            f"a {type(value).__name__} of {n} item{'' if n == 1 else 's'}",
            " Return one number (e.g. the sum, or the item you mean).",
        )
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is None or dtype is None:
        if hasattr(value, "__array__"):
            arr = np.asarray(value)
            shape, dtype = arr.shape, arr.dtype
        else:
            return f"an object of type {type(value).__module__}.{type(value).__qualname__}", ""
    if int(np.prod(shape)) != 1:
        return (
            f"an array of shape {tuple(shape)}",
            " Return one number (e.g. the sum of squares, not the residuals).",
        )
    if np.dtype(dtype).kind == "c":
        return (
            f"an array of dtype {np.dtype(dtype)}",
            " Take the real part or the modulus inside f, if that is what you mean.",
        )
    return f"an array of dtype {np.dtype(dtype)}", ""


def as_vector_value(value: Any, what: str = "the function", x: Any = None) -> FloatArray:
    """Return the output of a user's vector-valued function as a 1-D float64 array.

    Accepts what :func:`scipy.optimize.least_squares` accepts: an array-like of real
    numbers with at most one dimension (a scalar is one output).

    Raises
    ------
    ObjectiveError
        For anything else (None, text, complex numbers, more than one dimension, no
        outputs at all), naming what was returned and the point `x`.

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
    if type(value) is np.ndarray and value.dtype == np.float64 and value.ndim == 1 and value.size:
        fast: FloatArray = value.copy()
        return fast
    at = "" if x is None else f" at x = {format_point(x)}"
    arr = None
    if not isinstance(value, str | bytes | dict | set | bool | complex) and value is not None:
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):  # ragged
            arr = None
    if arr is None or arr.dtype.kind not in "iuf" or arr.ndim > 1:
        got, _ = describe_value(value)
        if arr is not None and arr.ndim > 1:
            got = f"an array of shape {arr.shape}"
        raise ObjectiveError(
            f"{what} must return a 1-D array of real numbers (one per output); it "
            f"returned {got}{at}."
        )
    if arr.size == 0:
        raise ObjectiveError(
            f"{what} returned no outputs (an empty array){at}; a vector-valued function "
            "needs at least one (m >= 1)."
        )
    out: FloatArray = np.array(arr, dtype=np.float64).reshape(-1)
    return out
