"""Keeping finite-difference steps inside a box ``lo <= x <= hi``.

Simulations often cannot run outside their valid range, so no point of a finite difference
may leave the box. Each scheme knows how to fit itself (``Scheme.fit``): one-sided steps
turn or shorten, central steps shorten or turn into a second-order one-sided formula,
Richardson's ladder shrinks on both sides, the complex step never moves x. This module
holds the box and the geometry they share: :func:`inside` (every point ``x + o*h`` in
the box, computed as the schemes compute it) and :func:`shrink_into` (shorten steps by
whole ulps until rounding keeps them inside).

A coordinate whose bounds meet (``lo == hi``) is fixed: it is not a variable of the
problem, so it never moves (:meth:`Box.fit` reports it, and its derivative is 0, the
derivative along every direction the box allows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError

if TYPE_CHECKING:
    from gradopt.gradients._schemes import Scheme

__all__ = ["Box", "inside", "parse_bounds", "shrink_into"]


@dataclass(frozen=True)
class Box:
    """Lower and upper bounds (``-inf``/``inf`` where unbounded), one pair per coordinate.

    The one bounds type of gradopt: :class:`~gradopt.FiniteDifference`,
    :func:`~gradopt.minimize` and :func:`~gradopt.least_squares` read ``bounds=`` into it
    (:func:`parse_bounds`) and so give it one meaning. A single pair covers every
    coordinate only when it came from a :class:`scipy.optimize.Bounds` of scalars
    (`every`), as in scipy.
    """

    lo: tuple[float, ...]
    hi: tuple[float, ...]
    every: bool = False
    keep_feasible: tuple[bool, ...] = (False,)

    def limits(self, n: int, what: str = "x") -> tuple[FloatArray, FloatArray]:
        """The bounds as two arrays of length `n` (the coordinates of `what`)."""
        pairs = len(self.lo)
        if pairs != n and not (pairs == 1 and self.every):
            raise InvalidInputError(
                f"bounds must hold one (low, high) pair per coordinate of {what} ({n}); got "
                f"{pairs} pair{'s' * (pairs != 1)} (scipy.optimize.Bounds(low, high) with "
                "scalars covers every coordinate)."
            )
        lo = np.broadcast_to(np.asarray(self.lo, dtype=np.float64), (n,))
        hi = np.broadcast_to(np.asarray(self.hi, dtype=np.float64), (n,))
        return lo, hi

    def arrays(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The bounds broadcast to `x`, after checking length and that x lies inside."""
        lo, hi = self.limits(x.size)
        outside = (x < lo) | (x > hi)
        if outside.any():
            j = int(np.argmax(outside))
            raise InvalidInputError(
                f"x is outside bounds: x[{j}] = {x[j].item()!r} is not in "
                f"[{lo[j].item()!r}, {hi[j].item()!r}]"
                + (
                    f" (and {int(outside.sum()) - 1} more coordinates)."
                    if outside.sum() > 1
                    else "."
                )
            )
        return lo, hi

    def fit(
        self, scheme: Scheme, x: FloatArray, h: FloatArray
    ) -> tuple[Scheme, FloatArray, np.ndarray[Any, np.dtype[np.bool_]]]:
        """The scheme and steps to use at `x` so that every point stays in the box, and
        which coordinates the box fixes (they do not move; their steps are meaningless)."""
        lo, hi = self.arrays(x)
        fixed = lo == hi
        if fixed.any():  # not variables: fit the others
            lo, hi = np.where(fixed, -np.inf, lo), np.where(fixed, np.inf, hi)
        fitted, h = scheme.fit(x, h, lo, hi)
        return fitted, h, fixed


def inside(
    offsets: Sequence[float], x: FloatArray, h: FloatArray, lo: FloatArray, hi: FloatArray
) -> np.ndarray[Any, Any]:
    """Whether every point ``x_j + o*h_j`` (computed as the schemes do) is in the box."""
    ok = np.ones(x.shape, dtype=bool)
    for o in offsets:
        p = x + o * h
        ok &= (p >= lo) & (p <= hi)
    return ok


def shrink_into(
    offsets: Sequence[float],
    x: FloatArray,
    h: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    mask: np.ndarray[Any, Any],
) -> FloatArray:
    """Shorten masked steps by whole ulps of x until rounding keeps every point inside."""
    h = h.copy()
    for _ in range(64):
        bad = mask & ~inside(offsets, x, h, lo, hi)
        if not bad.any():
            return h
        h[bad] -= np.sign(h[bad]) * np.spacing(np.abs(x[bad]) + np.abs(h[bad]))
    raise AssertionError("could not fit the finite-difference step inside the bounds")


def parse_bounds(bounds: Any) -> Box | None:
    """Validate ``[(lo, hi), ...]`` (None for an open side) or ``scipy.optimize.Bounds``."""
    if bounds is None:
        return None
    every, keep = False, (False,)
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):
        lo_raw: Any = np.atleast_1d(np.asarray(bounds.lb, dtype=float))
        hi_raw: Any = np.atleast_1d(np.asarray(bounds.ub, dtype=float))
        lo_raw, hi_raw = np.broadcast_arrays(lo_raw, hi_raw)
        pairs = list(zip(lo_raw.tolist(), hi_raw.tolist(), strict=True))
        every = len(pairs) == 1
        keep = tuple(np.atleast_1d(getattr(bounds, "keep_feasible", False)).astype(bool).tolist())
    else:
        try:
            pairs = [tuple(pair) for pair in bounds]
        except TypeError:
            raise ValueError(
                f"bounds must be a sequence of (lo, hi) pairs or scipy.optimize.Bounds; "
                f"got {type(bounds).__name__}"
            ) from None
    if not pairs:
        raise ValueError("bounds must not be empty")
    lo, hi = [], []
    for j, pair in enumerate(pairs):
        if len(pair) != 2:
            raise ValueError(f"bounds[{j}] must be a (lo, hi) pair; got {pair!r}")
        a = -np.inf if pair[0] is None else float(pair[0])
        b = np.inf if pair[1] is None else float(pair[1])
        if np.isnan(a) or np.isnan(b) or a == np.inf or b == -np.inf:
            raise ValueError(
                f"bounds[{j}] = {pair!r} must satisfy lo <= hi (no NaN; None, -inf or inf "
                "leaves a side open)"
            )
        if a > b:
            raise ValueError(
                f"bounds[{j}] = {pair!r} must satisfy lo <= hi: the upper bound is below "
                "the lower bound"
            )
        lo.append(a)
        hi.append(b)
    return Box(tuple(lo), tuple(hi), every, keep)
