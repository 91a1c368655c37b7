"""Keeping finite-difference steps inside a box ``lo <= x <= hi``.

Simulations often cannot run outside their valid range, so no point of a finite difference
may leave the box. At each coordinate whose steps would leave it:

- forward or backward (one-sided, error O(h)): the step turns to the side with more room,
  shortened to the room left if even that is too short;
- central (error ``|f'''| h^2 / 6``): while there is room on both sides, the central step
  shortens to the smaller room, as scipy's ``approx_derivative`` does. When that room is
  too small (less than ``1/sqrt(2)`` of the step the other side allows), the second-order
  one-sided formula ``f'(x) ~ (-3 f(x) + 4 f(x + h) - f(x + 2h)) / (2h)`` (error
  ``|f'''| h^2 / 3``, round-off four times the central one) goes towards the side with
  more room, with ``h`` at most half of it. It costs two calls, as the central formula
  does, and needs ``f(x)`` (one more call when it is not known already);
- Richardson (symmetric steps only): the ladder shrinks to fit on both sides;
- complex step: the steps are imaginary, x never moves, nothing to do.

Other schemes cannot be adjusted; a step of theirs that leaves the box is an error. The
steps keep the exact floating-point property ``lo <= x + o*h <= hi`` of every point.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError
from gradopt.gradients._schemes import Scheme, exact_step

__all__ = ["Box", "parse_bounds"]

# (-3 f0 + 4 f(x+h) - f(x+2h)) / 2h, written as sum(w * f(x + o h)) - sum(w) f0.
ONE_SIDED_SECOND_ORDER = Scheme(
    "one-sided second-order", 0.0, offsets=(1.0, 2.0), weights=(2.0, -0.5), uses_f0=True
)


@dataclass(frozen=True)
class Box:
    """Lower and upper bounds (``-inf``/``inf`` where unbounded), one pair or one per x_j."""

    lo: tuple[float, ...]
    hi: tuple[float, ...]

    def arrays(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The bounds broadcast to `x`, after checking length and that x lies inside."""
        if len(self.lo) not in (1, x.size):
            raise InvalidInputError(
                f"bounds has {len(self.lo)} pairs but x has {x.size} coordinates; give one "
                "(lo, hi) pair per coordinate."
            )
        lo = np.broadcast_to(np.asarray(self.lo), x.shape)
        hi = np.broadcast_to(np.asarray(self.hi), x.shape)
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

    def fit(self, scheme: Any, x: FloatArray, h: FloatArray) -> tuple[Any, FloatArray]:
        """The scheme and steps to use at `x` so that every point stays in the box."""
        lo, hi = self.arrays(x)
        if getattr(scheme, "imaginary", False):
            return scheme, h
        if not isinstance(scheme, Scheme):
            return _check_unknown(scheme, x, h, lo, hi), h
        ok = _inside(scheme.offsets, x, h, lo, hi)
        if ok.all():
            return scheme, h
        up, down = hi - x, x - lo
        pinned = ~ok & (up == 0) & (down == 0)
        if pinned.any():
            j = int(np.argmax(pinned))
            raise InvalidInputError(
                f"bounds fix coordinate {j} (lo = hi = {x[j].item()!r}): no room for a "
                "finite-difference step; leave that variable out of x."
            )
        if hasattr(scheme, "extrapolate"):  # Richardson: symmetric steps only
            return scheme, _fit_symmetric(scheme, x, h, lo, hi, ~ok)
        toward_up = up >= down
        room = np.where(toward_up, up, down)
        one_sided = all(o > 0 for o in scheme.offsets) or all(o < 0 for o in scheme.offsets)
        if one_sided:  # forward/backward: turn and/or shorten the step
            sign = np.sign(scheme.offsets[0])
            new_h = np.where(toward_up, sign, -sign) * np.minimum(h, room)
            h = np.where(ok, h, new_h)
            return scheme, _shrink_into(scheme.offsets, x, h, lo, hi, ~ok)
        # Central with the step shortened to the smaller room, unless the one-sided formula
        # (half the larger room) has less truncation error: h_c^2 / 6 against h_o^2 / 3.
        central = np.minimum(h, np.minimum(up, down))
        half_room = np.minimum(h, room / 2)
        shorter = ~ok & (central > 0) & (central >= half_room / np.sqrt(2.0))
        h = np.where(shorter, central, h)
        h = _shrink_into(scheme.offsets, x, h, lo, hi, shorter)
        fallback = ~ok & ~shorter
        if not fallback.any():
            return scheme, h
        sign = np.where(toward_up, 1.0, -1.0)
        h = np.where(fallback, sign * half_room, h)
        h = _shrink_into(ONE_SIDED_SECOND_ORDER.offsets, x, h, lo, hi, fallback)
        return _Mixed(scheme, ONE_SIDED_SECOND_ORDER, fallback), h


def _inside(
    offsets: Sequence[float], x: FloatArray, h: FloatArray, lo: FloatArray, hi: FloatArray
) -> np.ndarray[Any, Any]:
    """Whether every point ``x_j + o*h_j`` (computed as the schemes do) is in the box."""
    ok = np.ones(x.shape, dtype=bool)
    for o in offsets:
        p = x + o * h
        ok &= (p >= lo) & (p <= hi)
    return ok


def _fit_symmetric(
    scheme: Scheme,
    x: FloatArray,
    h: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    mask: np.ndarray[Any, Any],
) -> FloatArray:
    """Shorten masked steps to a power of two that fits on both sides of x.

    Richardson extrapolation combines symmetric differences only, so there is no
    one-sided fallback: the step shrinks (powers of two keep the points exact) and its
    error estimate accounts for the larger round-off of the smaller step.
    """
    room = np.minimum(hi - x, x - lo)
    on_bound = mask & (room <= 0)
    if on_bound.any():
        j = int(np.argmax(on_bound))
        raise InvalidInputError(
            f"method={scheme.name!r} needs room on both sides of x, but x[{j}] = "
            f"{x[j].item()!r} lies on a bound [{lo[j].item()!r}, {hi[j].item()!r}]; "
            "use method='central', which turns one-sided at a bound."
        )
    with np.errstate(divide="ignore"):
        fitting = np.exp2(np.floor(np.log2(np.where(mask, room, 1.0))))
    shorter = np.where(mask, np.minimum(h, fitting), h)
    return _shrink_into(scheme.offsets, x, shorter, lo, hi, mask)


def _shrink_into(
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
        bad = mask & ~_inside(offsets, x, h, lo, hi)
        if not bad.any():
            return h
        h[bad] -= np.sign(h[bad]) * np.spacing(np.abs(x[bad]) + np.abs(h[bad]))
    raise AssertionError("could not fit the finite-difference step inside the bounds")


def _check_unknown(
    scheme: Any, x: FloatArray, h: FloatArray, lo: FloatArray, hi: FloatArray
) -> Any:
    pts = scheme.points(x, h)
    outside = ((pts < lo) | (pts > hi)).any(axis=1)
    if outside.any():
        p = pts[int(np.argmax(outside))]
        j = int(np.argmax(p != x))
        raise InvalidInputError(
            f"method={scheme.name!r} would evaluate f outside bounds at coordinate {j} "
            f"(x[{j}] = {x[j].item()!r} stepped to {p[j].item()!r}, "
            f"bounds [{lo[j].item()!r}, {hi[j].item()!r}]); it "
            "cannot be turned one-sided. Use method='central' or 'forward' near bounds."
        )
    return scheme


class _Mixed:
    """A scheme's formula at some coordinates and a one-sided fallback at the others.

    Has the interface evaluators and :class:`FiniteDifference` use (``iter_points``,
    ``points``, ``combine``); points stay coordinate-major, as in :class:`Scheme`.
    """

    imaginary = False

    def __init__(self, primary: Scheme, fallback: Scheme, use_fallback: np.ndarray[Any, Any]):
        self.primary, self.fallback, self.mask = primary, fallback, use_fallback
        self.name = primary.name
        self.uses_f0 = primary.uses_f0 or fallback.uses_f0

    def taken(self, x: FloatArray, h: FloatArray) -> FloatArray:
        """The steps actually taken (see :meth:`Scheme.taken`)."""
        return exact_step(x, h)

    def _offsets(self, j: int) -> tuple[float, ...]:
        return self.fallback.offsets if self.mask[j] else self.primary.offsets

    def evaluations_per_gradient(self, d: int) -> int:
        return sum(len(self._offsets(j)) for j in range(d))

    def iter_points(self, x: FloatArray, h: FloatArray) -> Iterator[np.ndarray[Any, Any]]:
        for j in range(x.size):
            for offset in self._offsets(j):
                point = x.copy()
                point[j] += offset * h[j]
                yield point

    def points(self, x: FloatArray, h: FloatArray) -> np.ndarray[Any, Any]:
        return np.array(list(self.iter_points(x, h))).reshape(-1, x.size)

    def combine(self, values: np.ndarray[Any, Any], f0: float | None, h: FloatArray) -> FloatArray:
        sizes = np.array([len(self._offsets(j)) for j in range(h.size)])
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        grad = np.empty(h.size)
        for scheme, mask in ((self.primary, ~self.mask), (self.fallback, self.mask)):
            if mask.any():
                idx = starts[mask][:, None] + np.arange(len(scheme.offsets))
                grad[mask] = scheme.combine(values[idx].ravel(), f0, h[mask])
        return grad


def parse_bounds(bounds: Any) -> Box | None:
    """Validate ``[(lo, hi), ...]`` (None for an open side) or ``scipy.optimize.Bounds``."""
    if bounds is None:
        return None
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):
        lo_raw: Any = np.atleast_1d(np.asarray(bounds.lb, dtype=float))
        hi_raw: Any = np.atleast_1d(np.asarray(bounds.ub, dtype=float))
        lo_raw, hi_raw = np.broadcast_arrays(lo_raw, hi_raw)
        pairs = list(zip(lo_raw.tolist(), hi_raw.tolist(), strict=True))
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
    return Box(tuple(lo), tuple(hi))
