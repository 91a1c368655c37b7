"""Finite-difference schemes: where to evaluate f and how to combine the values.

Each scheme is a small object, found by its method name in ``finite_difference.METHODS``
(which adds Richardson extrapolation, ``_richardson.py``). It chooses the default
step from the method's error theory, lays out the points to evaluate (all independent of
each other, so a caller may evaluate them in any order or in parallel) and combines the
values into a gradient. Evaluating the points is not its business.

Default steps, relative to ``max(1, |x_j|)``: truncation error of a one-sided difference
is O(h) and round-off O(eps/h), balanced at h ~ sqrt(eps); central truncation is O(h^2),
balanced at h ~ eps^(1/3); the complex step has no subtraction, so no round-off to
balance, and h can be tiny. ``eps`` is that of f's output: float64 unless f computes in
lower precision (``FiniteDifference`` detects float32 and float16 output).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradopt._typing import FloatArray

__all__ = ["SCHEMES", "Scheme", "exact_step"]

_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Scheme:
    """A finite-difference formula.

    Attributes
    ----------
    name : str
        The method name users pass.
    rel_step : float
        Default step relative to ``max(1, |x_j|)``, for float64 output.
    eps_power : float
        The default step is ``eps**eps_power`` relative (0: `rel_step` whatever eps).
    offsets : tuple of float
        Multiples of ``h_j`` (times ``e_j``) at which f is evaluated, per coordinate.
    weights : tuple of float
        Weights of those values; the estimate is ``sum(w * f(x + o h e_j)) / h_j``
        (plus ``-sum(weights) * f(x) / h_j`` when `uses_f0`).
    uses_f0 : bool
        Whether ``f(x)`` itself enters the formula (one-sided differences).
    imaginary : bool
        Whether steps are taken along the imaginary axis (complex step).
    """

    name: str
    rel_step: float
    offsets: tuple[float, ...]
    weights: tuple[float, ...]
    uses_f0: bool = False
    imaginary: bool = False
    eps_power: float = 0.0

    def evaluations_per_gradient(self, d: int) -> int:
        """Calls of f for one gradient in `d` dimensions, not counting ``f(x)``."""
        return len(self.offsets) * d

    def default_step(self, x: FloatArray, eps: float = _EPS) -> FloatArray:
        """The step ``h_j`` the method's error theory recommends at `x` for f's `eps`."""
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

    def iter_points(self, x: FloatArray, h: FloatArray) -> Iterator[np.ndarray[Any, Any]]:
        """Yield the points to evaluate one by one, each a fresh array, coordinate-major.

        The same points, in the same order, as :meth:`points`, without holding all of them
        in memory at once (a dense batch is ``len(offsets) * d**2`` numbers).
        """
        base = x.astype(np.complex128) if self.imaginary else x
        unit = 1j if self.imaginary else 1.0
        for j in range(x.size):
            for offset in self.offsets:
                point = base.copy()
                point[j] += unit * offset * h[j]
                yield point

    def points(self, x: FloatArray, h: FloatArray) -> np.ndarray[Any, Any]:
        """All points to evaluate as one batch, shape ``(len(offsets) * d, d)``."""
        d = x.size
        dtype = np.complex128 if self.imaginary else np.float64
        pts: np.ndarray[Any, Any] = np.empty((len(self.offsets) * d, d), dtype=dtype)
        pts[:] = x
        rows = np.arange(d)
        unit = 1j if self.imaginary else 1.0
        for k, offset in enumerate(self.offsets):
            pts[rows * len(self.offsets) + k, rows] += unit * offset * h
        return pts

    def combine(self, values: np.ndarray[Any, Any], f0: float | None, h: FloatArray) -> FloatArray:
        """Gradient from the values at :meth:`points` (and ``f(x)`` when `uses_f0`)."""
        vals = values.reshape(h.size, len(self.offsets))
        if self.imaginary:
            vals = vals.imag
        total = vals @ np.asarray(self.weights)
        if self.uses_f0:
            assert f0 is not None
            total = total - sum(self.weights) * f0
        return np.asarray(total / h, dtype=np.float64)


def exact_step(x: FloatArray, h: FloatArray) -> FloatArray:
    """`h` rounded towards 0 to a multiple of the spacing at ``|x| + 2|h|``."""
    unit = np.spacing(np.abs(x) + 2 * np.abs(h))
    step: FloatArray = np.trunc(h / unit) * unit
    return step


SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme("forward", _EPS**0.5, (1.0,), (1.0,), uses_f0=True, eps_power=1 / 2),
        Scheme("backward", _EPS**0.5, (-1.0,), (-1.0,), uses_f0=True, eps_power=1 / 2),
        Scheme("central", _EPS ** (1 / 3), (1.0, -1.0), (0.5, -0.5), eps_power=1 / 3),
        Scheme("complex", 1e-20, offsets=(1.0,), weights=(1.0,), imaginary=True),
    )
}
