"""Finite-difference schemes: where to evaluate f and how to combine the values.

Every scheme has the same typed interface, :class:`Scheme`, so that gradients,
Jacobians, sparse groups, bounds and every evaluator compose with every scheme without
special cases:

- :meth:`~Scheme.default_step` and :meth:`~Scheme.taken`: the step the method's error
  theory recommends, and the step actually taken once rounded;
- :meth:`~Scheme.fit`: the scheme and steps that keep every point inside a box;
- :meth:`~Scheme.count`, :meth:`~Scheme.points`, :meth:`~Scheme.iter_points`: the points
  to evaluate over :class:`~gradopt.gradients._groups.Groups` (one coordinate per group
  for a dense difference, structurally independent columns together for a sparse one),
  all independent, so a caller may evaluate them in any order or in parallel;
- :meth:`~Scheme.combine`: the Jacobian ``(m, d)`` (or its structural entries) from the
  values, shape ``(points, m)``, with an error estimate when the scheme has one;
- :attr:`~Scheme.uses_f0`, :attr:`~Scheme.imaginary`, :attr:`~Scheme.estimates_error`.

A gradient is the Jacobian of one output. Evaluating the points is not a scheme's
business. :class:`Difference` is a fixed formula (forward, backward, central, complex,
and the second-order one-sided formula near bounds); Richardson extrapolation is in
:mod:`~gradopt.gradients._richardson`; :class:`Mixed` is a formula at some coordinates
and a fallback at the others.

Default steps, relative to ``max(1, |x_j|)``: truncation error of a one-sided difference
is O(h) and round-off O(eps/h), balanced at h ~ sqrt(eps); central truncation is O(h^2),
balanced at h ~ eps^(1/3); the complex step has no subtraction, so no round-off to
balance, and h can be tiny. ``eps`` is that of f's output: float64 unless f computes in
lower precision (``FiniteDifference`` detects float32 and float16 output).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from typing import Any, ClassVar, NamedTuple

import numpy as np

from gradopt._typing import FloatArray
from gradopt.gradients._bounds import inside, shrink_into
from gradopt.gradients._groups import Groups, IntArray

__all__ = [
    "ONE_SIDED_SECOND_ORDER",
    "SCHEMES",
    "Difference",
    "Entries",
    "Estimate",
    "Evaluate",
    "Mixed",
    "Scheme",
    "Stencil",
    "exact_step",
    "spread",
]

_EPS = float(np.finfo(np.float64).eps)

#: Rows and columns of the Jacobian entries wanted (sparse), or None for all of them.
Entries = tuple[IntArray, IntArray] | None


#: Values of f at the points of a scheme over some groups (for more rounds), ``(k, m)``.
Evaluate = Callable[["Scheme", Groups], np.ndarray[Any, Any]]


class Stencil(NamedTuple):
    """A difference at one point, as :meth:`Scheme.combine` needs it besides the values."""

    x: FloatArray  #: the point (1-D)
    h: FloatArray  #: the steps actually taken
    groups: Groups  #: coordinates moved together
    f0: FloatArray | None = None  #: f(x), shape (m,), when the scheme uses it
    entries: Entries = None  #: the Jacobian entries wanted (sparse), or all
    eps: float = _EPS  #: machine epsilon of f's output
    evaluate: Evaluate | None = None  #: values at more points, for schemes that refine


class Estimate(NamedTuple):
    """What :meth:`Scheme.combine` returns: the derivatives and, if known, their error."""

    value: FloatArray  # (m, d), or one number per entry
    error: FloatArray | None


class Scheme(ABC):
    """A finite-difference method: steps, points, and how values become derivatives."""

    name: str
    #: Whether ``f(x)`` itself enters the formula (one-sided differences).
    uses_f0: bool
    #: Whether steps are taken along the imaginary axis (complex step).
    imaginary: bool
    #: Whether :meth:`combine` estimates its error.
    estimates_error: ClassVar[bool] = False

    @abstractmethod
    def default_step(self, x: FloatArray, eps: float = _EPS) -> FloatArray:
        """The step ``h_j`` the method's error theory recommends at `x` for f's `eps`."""

    @abstractmethod
    def taken(self, x: FloatArray, h: FloatArray) -> FloatArray:
        """The steps actually taken from `h` (rounded so every point is exact)."""

    @abstractmethod
    def fit(
        self, x: FloatArray, h: FloatArray, lo: FloatArray, hi: FloatArray
    ) -> tuple[Scheme, FloatArray]:
        """The scheme and steps that keep every point in ``[lo, hi]`` (x lies inside)."""

    @abstractmethod
    def count(self, groups: Groups) -> int:
        """Calls of f for the points over `groups`, not counting ``f(x)``."""

    @abstractmethod
    def iter_points(
        self, x: FloatArray, h: FloatArray, groups: Groups
    ) -> Iterator[np.ndarray[Any, Any]]:
        """Yield the points one by one, each a fresh array, group by group.

        The same points, in the same order, as :meth:`points`, without holding all of
        them in memory at once (a dense batch is ``count * d`` numbers).
        """

    def points(self, x: FloatArray, h: FloatArray, groups: Groups) -> np.ndarray[Any, Any]:
        """All points as one batch, shape ``(count, d)``."""
        return np.array(list(self.iter_points(x, h, groups))).reshape(-1, x.size)

    @abstractmethod
    def combine(self, values: np.ndarray[Any, Any], at: Stencil) -> Estimate:
        """The Jacobian from the values at the points of `at`, shape ``(count, m)``.

        Returns the Jacobian ``(m, d)``, or its ``at.entries`` only; coordinates that do
        not move get 0. A scheme that refines its answer asks for more values through
        ``at.evaluate`` (without it, it uses these values only).
        """


@dataclass(frozen=True)
class Difference(Scheme):
    """A fixed formula: ``sum(w * f(x + o h e_j)) / h_j`` (``- sum(w) f(x) / h_j`` when
    `uses_f0`), with `offsets` o and `weights` w per coordinate (or per group of
    coordinates moved together).

    Attributes
    ----------
    name : str
        The method name users pass.
    rel_step : float
        Default step relative to ``max(1, |x_j|)``, for float64 output.
    offsets, weights : tuple of float
        Multiples of ``h_j`` at which f is evaluated, and the weights of those values.
    uses_f0 : bool
        Whether ``f(x)`` itself enters the formula (one-sided differences).
    imaginary : bool
        Whether steps are taken along the imaginary axis (complex step).
    eps_power : float
        The default step is ``eps**eps_power`` relative (0: `rel_step` whatever eps).
    """

    name: str
    rel_step: float
    offsets: tuple[float, ...]
    weights: tuple[float, ...]
    uses_f0: bool = False
    imaginary: bool = False
    eps_power: float = 0.0

    def default_step(self, x: FloatArray, eps: float = _EPS) -> FloatArray:
        rel = eps**self.eps_power if self.eps_power else self.rel_step
        h = rel * np.maximum(1.0, np.abs(x))
        return self.taken(x, h)

    def taken(self, x: FloatArray, h: FloatArray) -> FloatArray:
        """`h` rounded towards 0 to a whole number of units in the last place of the
        points, so that every point ``x + o h`` (``|o| <= 2``) is exact and the
        difference is divided by the distance actually between the points.

        The points only move towards ``x``, so they stay inside a box. Imaginary steps
        are exact as they are.
        """
        return h if self.imaginary else exact_step(x, h)

    def count(self, groups: Groups) -> int:
        return len(self.offsets) * groups.count

    def iter_points(
        self, x: FloatArray, h: FloatArray, groups: Groups
    ) -> Iterator[np.ndarray[Any, Any]]:
        base = x.astype(np.complex128) if self.imaginary else x
        unit = 1j if self.imaginary else 1.0
        if groups.dense:  # the hot path for cheap functions
            for j in range(x.size):
                for offset in self.offsets:
                    point = base.copy()
                    point[j] += unit * offset * h[j]
                    yield point
            return
        for cols in groups.members():
            for offset in self.offsets:
                point = base.copy()
                point[cols] += unit * offset * h[cols]
                yield point

    def points(self, x: FloatArray, h: FloatArray, groups: Groups) -> np.ndarray[Any, Any]:
        n = len(self.offsets)
        dtype = np.complex128 if self.imaginary else np.float64
        pts: np.ndarray[Any, Any] = np.empty((n * groups.count, x.size), dtype=dtype)
        pts[:] = x
        cols = np.flatnonzero(groups.moving)
        rows = groups.of[cols] * n
        unit = 1j if self.imaginary else 1.0
        for k, offset in enumerate(self.offsets):
            pts[rows + k, cols] += unit * offset * h[cols]
        return pts

    def combine(self, values: np.ndarray[Any, Any], at: Stencil) -> Estimate:
        m, groups = values.shape[1], at.groups
        vals = (values.imag if self.imaginary else values).reshape(
            groups.count, len(self.offsets), m
        )
        if m == 1:  # a gradient: one matrix-vector product
            per_group = (vals[:, :, 0] @ self._weights)[:, np.newaxis]
        elif len(self.offsets) == 1:  # one point per group: one pass over the values
            per_group = self.weights[0] * vals[:, 0]
        else:  # einsum: 3x faster than a broadcast matmul over the groups at m = d = 1000
            per_group = np.einsum("k,gkm->gm", self._weights, vals)
        if self.uses_f0:
            assert at.f0 is not None
            per_group -= self._weight_sum * at.f0
        return Estimate(spread(per_group, at.h, groups, at.entries), None)

    @cached_property
    def _weights(self) -> FloatArray:
        return np.asarray(self.weights, dtype=np.float64)

    @cached_property
    def _weight_sum(self) -> float:
        return float(sum(self.weights))

    def fit(
        self, x: FloatArray, h: FloatArray, lo: FloatArray, hi: FloatArray
    ) -> tuple[Scheme, FloatArray]:
        """Turn or shorten the steps that would leave the box.

        One-sided: the step turns to the side with more room, shortened to the room left
        if even that is too short. Otherwise (central): while there is room on both
        sides, the step shortens to the smaller room, as scipy's ``approx_derivative``
        does; when that room is too small (less than ``1/sqrt(2)`` of the step the other
        side allows: the one-sided formula then has less truncation error,
        ``|f'''| h^2 / 3`` against ``|f'''| h^2 / 6``), the coordinate uses
        :data:`ONE_SIDED_SECOND_ORDER` towards the side with more room, with ``h`` at
        most half of it (:class:`Mixed`). The complex step never moves x.
        """
        if self.imaginary:
            return self, h
        ok = inside(self.offsets, x, h, lo, hi)
        if ok.all():
            return self, h
        up, down = hi - x, x - lo
        toward_up = up >= down
        room = np.where(toward_up, up, down)
        if all(o > 0 for o in self.offsets) or all(o < 0 for o in self.offsets):
            sign = np.sign(self.offsets[0])
            new_h = np.where(toward_up, sign, -sign) * np.minimum(h, room)
            h = np.where(ok, h, new_h)
            return self, shrink_into(self.offsets, x, h, lo, hi, ~ok)
        central = np.minimum(h, np.minimum(up, down))
        half_room = np.minimum(h, room / 2)
        shorter = ~ok & (central > 0) & (central >= half_room / np.sqrt(2.0))
        h = np.where(shorter, central, h)
        h = shrink_into(self.offsets, x, h, lo, hi, shorter)
        fallback = ~ok & ~shorter
        if not fallback.any():
            return self, h
        h = np.where(fallback, np.where(toward_up, 1.0, -1.0) * half_room, h)
        h = shrink_into(ONE_SIDED_SECOND_ORDER.offsets, x, h, lo, hi, fallback)
        return Mixed(self, ONE_SIDED_SECOND_ORDER, fallback), h


@dataclass(frozen=True, eq=False)
class Mixed(Scheme):
    """A formula at most coordinates and a fallback at those in `mask`.

    Points come in two parts: the primary formula over the groups restricted to the
    coordinates outside `mask`, then the fallback over those inside it.
    """

    primary: Difference
    fallback: Difference
    mask: np.ndarray[Any, np.dtype[np.bool_]]
    imaginary: bool = False

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.primary.name

    @property
    def uses_f0(self) -> bool:  # type: ignore[override]
        return self.primary.uses_f0 or self.fallback.uses_f0

    def _parts(self, groups: Groups) -> tuple[tuple[Difference, Groups], ...]:
        return (
            (self.primary, groups.restricted(~self.mask)),
            (self.fallback, groups.restricted(self.mask)),
        )

    def default_step(self, x: FloatArray, eps: float = _EPS) -> FloatArray:
        return self.primary.default_step(x, eps)

    def taken(self, x: FloatArray, h: FloatArray) -> FloatArray:
        return exact_step(x, h)

    def fit(
        self, x: FloatArray, h: FloatArray, lo: FloatArray, hi: FloatArray
    ) -> tuple[Scheme, FloatArray]:
        return self, h  # made by fitting

    def count(self, groups: Groups) -> int:
        return sum(s.count(g) for s, g in self._parts(groups))

    def iter_points(
        self, x: FloatArray, h: FloatArray, groups: Groups
    ) -> Iterator[np.ndarray[Any, Any]]:
        return chain.from_iterable(s.iter_points(x, h, g) for s, g in self._parts(groups))

    def points(self, x: FloatArray, h: FloatArray, groups: Groups) -> np.ndarray[Any, Any]:
        return np.concatenate([s.points(x, h, g) for s, g in self._parts(groups)])

    def combine(self, values: np.ndarray[Any, Any], at: Stencil) -> Estimate:
        total: FloatArray | None = None
        start = 0
        for scheme, part in self._parts(at.groups):
            stop = start + scheme.count(part)
            est = scheme.combine(values[start:stop], at._replace(groups=part)).value
            total = est if total is None else total + est  # 0 outside each part
            start = stop
        assert total is not None
        return Estimate(total, None)


def spread(
    per_group: np.ndarray[Any, Any], h: FloatArray, groups: Groups, entries: Entries
) -> FloatArray:
    """Jacobian entries from differences per group, ``(groups, m)``: ``J[i, j]`` is the
    difference of output i along j's group over ``h_j``; 0 where j does not move."""
    if entries is None:
        if groups.dense:
            dense: FloatArray = (per_group / h[:, None]).T
            return dense
        moving = groups.moving
        full = np.zeros((h.size, per_group.shape[1]))
        full[moving] = per_group[groups.of[moving]] / h[moving, None]
        spread_out: FloatArray = full.T
        return spread_out
    rows, cols = entries
    of = groups.of[cols]
    live = of >= 0
    data = np.zeros(rows.size)
    data[live] = per_group[of[live], rows[live]] / h[cols[live]]
    return data


def exact_step(x: FloatArray, h: FloatArray) -> FloatArray:
    """`h` rounded towards 0 to a multiple of the spacing at ``|x| + 2|h|``."""
    unit = np.spacing(np.abs(x) + 2 * np.abs(h))
    step: FloatArray = np.trunc(h / unit) * unit
    return step


#: ``(-3 f0 + 4 f(x+h) - f(x+2h)) / 2h``, written as ``sum(w f(x + o h)) - sum(w) f0``.
ONE_SIDED_SECOND_ORDER = Difference(
    "one-sided second-order", 0.0, offsets=(1.0, 2.0), weights=(2.0, -0.5), uses_f0=True
)

SCHEMES: dict[str, Difference] = {
    s.name: s
    for s in (
        Difference("forward", _EPS**0.5, (1.0,), (1.0,), uses_f0=True, eps_power=1 / 2),
        Difference("backward", _EPS**0.5, (-1.0,), (-1.0,), uses_f0=True, eps_power=1 / 2),
        Difference("central", _EPS ** (1 / 3), (1.0, -1.0), (0.5, -0.5), eps_power=1 / 3),
        Difference("complex", 1e-20, offsets=(1.0,), weights=(1.0,), imaginary=True),
    )
}
