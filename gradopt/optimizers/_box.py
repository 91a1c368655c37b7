"""Bounds for scipy's methods: the run's :class:`~gradopt.gradients._bounds.Box`, checked.

One type and one parser serve :class:`~gradopt.FiniteDifference`, ``minimize`` and
``least_squares``, so a bound means the same to all: ``None`` (or ``-inf``/``inf``) leaves
a side open, NaN is an error, ``low > high`` is "the upper bound is below the lower
bound", one pair per coordinate (a :class:`scipy.optimize.Bounds` of scalars covers every
coordinate). On top of it, ``x0`` must lie inside: scipy's methods disagree on whether to
clip it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.optimize

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError
from gradopt.optimizers._scipy_methods import ScipyMethod
from gradopt.optimizers._spec import RunSpec

__all__ = ["Limits", "check_bounds", "check_inside"]


class Limits(NamedTuple):
    """What scipy gets (None when unbounded) and the bounds as arrays (±inf if open)."""

    scipy: scipy.optimize.Bounds | None
    low: FloatArray
    high: FloatArray


def check_bounds(method: ScipyMethod, spec: RunSpec) -> Limits:
    """Validate the run's bounds for `method` and its start.

    Examples
    --------
    >>> import numpy as np
    >>> from gradopt.optimizers._scipy_methods import SCIPY_METHODS
    >>> from gradopt.optimizers._spec import make_spec
    >>> check_bounds(SCIPY_METHODS["l-bfgs-b"], make_spec([1.0], [(0, None)])).low
    array([0.])
    >>> make_spec([0.5], [(1, 0)])
    Traceback (most recent call last):
    ...
    gradopt.exceptions.InvalidInputError: bounds[0] = (1, 0) must satisfy lo <= hi: the ...
    """
    x0, box = spec.x0, spec.bounds
    low, high = spec.limits()
    if box is None:
        return Limits(None, low, high)
    if not method.bounds:
        raise InvalidInputError(f"method {method.name!r} does not accept bounds.")
    check_inside(x0, low, high)
    keep = np.broadcast_to(np.asarray(box.keep_feasible), low.shape)
    return Limits(scipy.optimize.Bounds(low, high, keep_feasible=keep), low.copy(), high.copy())


def check_inside(x0: FloatArray, low: FloatArray, high: FloatArray) -> None:
    """Refuse an `x0` outside ``[low, high]``, naming the first coordinate outside."""
    outside = np.flatnonzero((x0 < low) | (x0 > high))
    if outside.size:
        i = int(outside[0])
        raise InvalidInputError(
            f"x0[{i}] = {x0[i]} is not within its bounds [{low[i]}, {high[i]}]; scipy's methods "
            "disagree on whether to clip it, so start inside (e.g. np.clip(x0, low, high))."
        )
