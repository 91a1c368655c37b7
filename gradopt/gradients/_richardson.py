"""Richardson extrapolation of central differences, with an error estimate per component.

A central difference ``D(s) = (f(x + s) - f(x - s)) / 2s`` has the expansion
``f'(x) + c1 s^2 + c2 s^4 + ...``. The scheme evaluates it at a *ladder* of steps
``s_i = h / RATIO^i`` and extrapolates to ``s = 0``
(:mod:`~gradopt.gradients._extrapolation`: Neville's table, an estimate per entry, a gate
against tables that agree with themselves by chance).

The steps do not assume that f varies on the scale of ``|x|``: the first step is
``h = 1/16`` whatever ``x`` (as ``scipy.differentiate`` starts at an absolute 0.5 and
numdifftools at ``2 log(e - 1 + |x|)``). Each round evaluates a window of ``LEVELS`` steps
(``10`` calls per component); a component whose table has not converged takes another
window of smaller steps, continuing the ladder (``f`` varying on a scale of 1e-3 costs a
round or two more), until its estimate is down to round-off, stops improving, or the
steps would be too small to mean anything. All points of a round are laid out up front,
so they can be evaluated in any order or in parallel; ``f(x)`` is not needed.

Two choices guard against aliasing, where a fast oscillation sampled at steps in a fixed
ratio looks like a smooth function: the ratio between steps is 1.9, not 2 (with powers of
two, ``sin(2 pi 2^k x)`` is sampled at whole periods and looks constant), and each step is
rounded to 12 significant bits, so ``x ± s`` is exact and keeps the low bits of ``x``
(rounding inside f cancels in the difference, as it does for powers of two).

The round-off model: each value of ``f`` is right to ``ULPS`` units in the last place of
``max|f| + |x_j| max|D|`` (the second term is what rounding ``x_j``, or ``c x_j`` inside f,
costs). Noisier functions are caught by the disagreement between entries of the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradopt._typing import FloatArray
from gradopt.gradients._extrapolation import LEVELS, Rounds, Window, analyse, short
from gradopt.gradients._schemes import Scheme

__all__ = ["FIRST_STEP", "RATIO", "ULPS", "RichardsonScheme", "ladder", "richardson_scheme"]

_EPS = float(np.finfo(np.float64).eps)
RATIO = 1.9  #: between successive steps of the ladder
FIRST_STEP = 0.0625  #: the largest step, absolute
ULPS = 4.0  #: each value of f is assumed right to this many units in the last place
#: A later round's smallest step must be at least this many units in the last place of x.
_MIN_ULPS = 2.0**10


def richardson_scheme(ratio: float = RATIO, first_step: float = FIRST_STEP) -> RichardsonScheme:
    """Build the scheme: nominal offsets ``±ratio**-i`` for ``i < LEVELS``."""
    offsets: list[float] = []
    for i in range(LEVELS):
        offsets += [ratio**-i, -(ratio**-i)]
    # The nominal weights (of f(x + s_i) - f(x - s_i) over 2 s_i, unextrapolated) only
    # describe the layout; values are combined by Neville's table over the steps taken.
    weights = tuple(0.5 / o for o in offsets)
    return RichardsonScheme(
        "richardson", first_step, offsets=tuple(offsets), weights=weights, ratio=ratio
    )


@dataclass(frozen=True)
class RichardsonScheme(Scheme):
    """Central differences at a ladder of steps, extrapolated, with an error estimate.

    ``rel_step`` is the first (largest) step, absolute: ``1/16`` by default, for every x.
    The step ``h_j`` given to the methods is the largest step of the first round; round
    ``r`` takes the steps ``short(h / ratio**i)`` for ``i = LEVELS r, ..., LEVELS r + 4``.
    """

    ratio: float = RATIO

    def default_step(self, x: FloatArray, eps: float = _EPS) -> FloatArray:
        """The first step, ``1/16`` for every coordinate (f's scale is not |x|'s).

        For f computed in lower precision it grows like ``eps^(1/11)`` (the balance of
        round-off ``eps / h`` and the O(h^10) truncation): 0.38 for float32.
        """
        return np.full(x.shape, float(short(self.rel_step * (eps / _EPS) ** (1 / 11))))

    def taken(self, x: FloatArray, h: FloatArray) -> FloatArray:
        """`h` itself: the ladder's steps are exact, and measured where they are not."""
        return h

    def ladder(self, h: FloatArray, start: int = 0) -> FloatArray:
        """The steps of round ``start / LEVELS``: see :func:`ladder`."""
        return ladder(h, start, self.ratio)

    def iter_points(self, x: FloatArray, h: FloatArray) -> Iterator[np.ndarray[Any, Any]]:
        """The points of the first round, coordinate-major: ``x ± s_i e_j``."""
        return _points(x, self.ladder(h), np.arange(x.size))

    def points(self, x: FloatArray, h: FloatArray) -> np.ndarray[Any, Any]:
        """All points of the first round as one batch, shape ``(2 LEVELS d, d)``."""
        return np.array(list(self.iter_points(x, h))).reshape(-1, x.size)

    def combine(self, values: np.ndarray[Any, Any], f0: float | None, h: FloatArray) -> FloatArray:
        """The gradient from the values of the first round alone (no further rounds)."""
        # Without x the steps are taken as exact (they are, for |x| < 2^40 h).
        return self.window(values, np.zeros(h.size), self.ladder(h)).value

    def window(
        self, values: np.ndarray[Any, Any], x: FloatArray, steps: FloatArray, eps: float = _EPS
    ) -> Window:
        """Analyse one window: values at ``x ± steps`` (coordinate-major) -> per component.

        `eps` is the machine epsilon of f's output (for the round-off model).
        """
        m = x.size
        vals = np.asarray(values, dtype=np.float64).reshape(m, LEVELS, 2)
        taken = ((x + steps) - (x - steps)) / 2.0  # the steps actually taken, (LEVELS, m)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = (vals[:, :, 0] - vals[:, :, 1]).T / (2.0 * taken)
            scale = np.max(np.abs(vals), axis=(1, 2)) + np.abs(x) * np.max(np.abs(d), axis=0)
            noise = ULPS * eps * scale / taken
        return analyse(d, taken, noise)

    def extrapolate(
        self,
        x: FloatArray,
        h: FloatArray,
        first: np.ndarray[Any, Any],
        evaluate: Callable[[Any], np.ndarray[Any, Any]],
        eps: float = _EPS,
    ) -> tuple[FloatArray, FloatArray]:
        """Gradient and error estimate: the first round's values `first`, then more rounds.

        `evaluate(scheme)` returns f at the points of a scheme-like object (its
        ``iter_points(x, h)``/``points(x, h)``), as the provider evaluates any scheme.
        """

        def more(coords: np.ndarray[Any, Any], round_: int) -> Window:
            steps = self.ladder(h[coords], LEVELS * round_)
            values = evaluate(_Round(self.name, coords, steps))
            return self.window(values, x[coords], steps, eps)

        def allowed(coords: np.ndarray[Any, Any], round_: int) -> np.ndarray[Any, Any]:
            smallest = self.ladder(h[coords], LEVELS * round_)[-1]
            ok: np.ndarray[Any, Any] = smallest >= _MIN_ULPS * np.spacing(np.abs(x[coords]))
            return ok

        grad, err = Rounds(x.size).run(self.window(first, x, self.ladder(h), eps), more, allowed)
        # No component is known better than a few ulps of the largest: each value of f
        # carries the rounding of all its terms (in sum(sin(x)) at points where f nearly
        # cancels, a component near 0 comes out exactly 0 for a true 2e-16).
        largest = np.max(np.abs(grad), where=np.isfinite(grad), initial=0.0)
        return grad, np.maximum(err, ULPS * eps * largest)


def ladder(h: FloatArray, start: int = 0, ratio: float = RATIO) -> FloatArray:
    """The steps ``short(h / ratio**i)``, ``i = start .. start + LEVELS - 1``: ``(LEVELS, d)``."""
    powers = ratio ** -np.arange(start, start + LEVELS, dtype=np.float64)
    return short(powers[:, None] * np.abs(h)[None, :])


@dataclass(frozen=True)
class _Round:
    """The points of a later round: only some coordinates, at their own steps.

    Scheme-like for the evaluators (``iter_points``/``points`` take the provider's ``x``
    and ``h``; the steps are fixed here).
    """

    name: str
    coords: np.ndarray[Any, Any]
    steps: FloatArray  # (LEVELS, len(coords))
    imaginary: bool = False

    def iter_points(self, x: FloatArray, h: FloatArray) -> Iterator[np.ndarray[Any, Any]]:
        return _points(x, self.steps, self.coords)

    def points(self, x: FloatArray, h: FloatArray) -> np.ndarray[Any, Any]:
        return np.array(list(self.iter_points(x, h))).reshape(-1, x.size)


def _points(
    x: FloatArray, steps: FloatArray, coords: np.ndarray[Any, Any]
) -> Iterator[np.ndarray[Any, Any]]:
    for n, j in enumerate(coords.tolist()):
        for s in steps[:, n].tolist():
            for signed in (s, -s):
                point = x.copy()
                point[j] += signed
                yield point
