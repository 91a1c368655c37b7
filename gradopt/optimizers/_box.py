"""Bounds for scipy's methods, read exactly as :class:`~gradopt.FiniteDifference` reads them.

One parser (:func:`gradopt.gradients._bounds.parse_bounds`) serves both, so a bound means
the same to ``minimize`` and to a bounded finite difference: ``None`` (or ``-inf``/``inf``)
leaves a side open, NaN is an error, ``low > high`` is "the upper bound is below the lower
bound". On top of it, ``minimize`` wants one pair per coordinate of ``x0`` (a
:class:`scipy.optimize.Bounds` of scalars covers every coordinate) and ``x0`` inside them:
scipy's methods disagree on whether to clip it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import scipy.optimize

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError
from gradopt.gradients._bounds import parse_bounds
from gradopt.optimizers._scipy_methods import ScipyMethod

__all__ = ["Limits", "check_bounds"]


class Limits(NamedTuple):
    """What scipy gets (None when unbounded) and the bounds as arrays (±inf if open)."""

    scipy: scipy.optimize.Bounds | None
    low: FloatArray
    high: FloatArray


def check_bounds(method: ScipyMethod, bounds: Any, x0: FloatArray) -> Limits:
    """Validate `bounds` for `method` and `x0`.

    Examples
    --------
    >>> import numpy as np
    >>> from gradopt.optimizers._scipy_methods import SCIPY_METHODS
    >>> check_bounds(SCIPY_METHODS["l-bfgs-b"], [(0, None)], np.array([1.0])).low
    array([0.])
    >>> check_bounds(SCIPY_METHODS["l-bfgs-b"], [(1, 0)], np.array([0.5]))
    Traceback (most recent call last):
    ...
    gradopt.exceptions.InvalidInputError: bounds[0] = (1, 0) must satisfy lo <= hi: the ...
    """
    n = x0.size
    if bounds is None:
        return Limits(None, np.full(n, -np.inf), np.full(n, np.inf))
    if not method.bounds:
        raise InvalidInputError(f"method {method.name!r} does not accept bounds.")
    try:
        box = parse_bounds(bounds)
    except ValueError as exc:
        raise InvalidInputError(f"{exc}.") from None
    assert box is not None
    pairs = len(box.lo)
    if pairs != n and not (pairs == 1 and isinstance(bounds, scipy.optimize.Bounds)):
        raise InvalidInputError(
            f"bounds must hold one (low, high) pair per coordinate of x0 ({n}); "
            f"got {pairs} pair{'s' * (pairs != 1)}."
        )
    low = np.broadcast_to(np.asarray(box.lo, dtype=np.float64), (n,)).copy()
    high = np.broadcast_to(np.asarray(box.hi, dtype=np.float64), (n,)).copy()
    outside = np.flatnonzero((x0 < low) | (x0 > high))
    if outside.size:
        i = int(outside[0])
        raise InvalidInputError(
            f"x0[{i}] = {x0[i]} is not within its bounds [{low[i]}, {high[i]}]; scipy's methods "
            "disagree on whether to clip it, so start inside (e.g. np.clip(x0, low, high))."
        )
    keep = getattr(bounds, "keep_feasible", False)
    return Limits(scipy.optimize.Bounds(low, high, keep_feasible=keep), low, high)
