"""The inputs of a step-size study (:func:`gradopt.analysis.step_error`), checked.

f is reduced to a checked scalar function of one real variable, ``phi(t)``, along the
direction when one is given; the derivative and the grid of steps are validated.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gradopt._typing import ArrayLike, FloatArray, as_point, as_scalar_value
from gradopt.exceptions import InvalidInputError, NonFiniteEvaluationError

__all__ = ["checked_steps", "scalar_derivative", "scalar_problem"]


def scalar_problem(
    fun: Callable[..., Any], x0: ArrayLike, direction: ArrayLike | None
) -> tuple[Callable[[Any], float], float]:
    """f along `direction` from `x0` as ``(phi, t0)``, f finite at x0 (a scalar x0 alone
    needs no direction)."""
    if not callable(fun):
        raise InvalidInputError(f"fun must be callable; got {type(fun).__name__}.")
    point = as_point(x0, name="x0")
    if direction is None:
        if point.size != 1 or np.ndim(x0) > 1:
            raise InvalidInputError(
                f"x0 must be a scalar, or give a direction; got x0 of shape {np.shape(x0)}."
            )
        phi, t0 = _checked(fun), float(point[0])
    else:
        v = as_point(direction, name="direction")
        if v.shape != point.shape:
            raise InvalidInputError(
                f"direction must have the shape of x0 {np.shape(x0)}; got {np.shape(direction)}."
            )
        shape = np.shape(x0)
        phi, t0 = _checked(lambda t: fun((point + np.asarray(t) * v).reshape(shape))), 0.0
    f0 = phi(t0)
    if not math.isfinite(f0):
        raise NonFiniteEvaluationError(
            f"fun returned {f0} at x0 = {x0!r}: a study of the step needs f finite at x0."
        )
    return phi, t0


def _checked(fun: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`fun` with its output checked as every provider checks it: one real number (one
    complex number at the complex points of the complex step)."""

    def phi(t: Any) -> Any:
        value = fun(t)
        if np.iscomplexobj(t):
            arr = np.asarray(value)
            if arr.size == 1 and arr.dtype.kind in "biufc":
                return arr.reshape(())[()]
        return as_scalar_value(value, "fun")

    return phi


def scalar_derivative(derivative: ArrayLike) -> float:
    """The known derivative: one finite real number."""
    arr = np.asarray(derivative)
    if arr.size != 1 or arr.dtype.kind not in "biuf":
        raise InvalidInputError(
            "derivative must be one real number (the derivative of f at x0, along the "
            f"direction if one is given); got {type(derivative).__name__} of shape "
            f"{arr.shape}."
        )
    value = float(arr.reshape(()))
    if not np.isfinite(value):
        raise InvalidInputError(f"derivative must be finite; got {value}.")
    return value


def checked_steps(steps: ArrayLike | None) -> FloatArray:
    """The steps, sorted: positive and finite (default 1e-16 .. 1, 161 steps)."""
    if steps is None:
        grid: FloatArray = np.logspace(-16.0, 0.0, 161)
        return grid
    arr = np.asarray(steps)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"steps must be a non-empty 1-D array of positive numbers; got shape {arr.shape} "
            f"and dtype {arr.dtype}."
        )
    grid = np.asarray(arr, dtype=np.float64)
    bad = np.flatnonzero(~(np.isfinite(grid) & (grid > 0)))
    if bad.size:
        raise InvalidInputError(
            f"steps must be positive and finite; steps[{bad[0]}] = {grid[bad[0]]}."
        )
    sorted_grid: FloatArray = np.sort(grid)
    return sorted_grid
