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
so they can be evaluated in any order or in parallel; ``f(x)`` is not needed. For a
Jacobian, each entry ``(i, j)`` is extrapolated on its own (output i along coordinate
j's group), and a coordinate takes another round while any of its entries needs one.

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

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError
from gradopt.gradients._bounds import inside, shrink_into
from gradopt.gradients._extrapolation import LEVELS, Rounds, Window, analyse, short
from gradopt.gradients._groups import Groups, IntArray
from gradopt.gradients._schemes import Estimate, Scheme, Stencil

__all__ = ["FIRST_STEP", "RATIO", "ULPS", "Richardson", "ladder"]

_EPS = float(np.finfo(np.float64).eps)
RATIO = 1.9  #: between successive steps of the ladder
FIRST_STEP = 0.0625  #: the largest step, absolute
ULPS = 4.0  #: each value of f is assumed right to this many units in the last place
#: A later round's smallest step must be at least this many units in the last place of x.
_MIN_ULPS = 2.0**10
_SYMMETRIC = (1.0, -1.0)  # every point of a round lies within x ± h


@dataclass(frozen=True)
class Richardson(Scheme):
    """Central differences at a ladder of steps, extrapolated, with an error estimate.

    The step ``h_j`` given to the methods is the largest step of the first round; round
    ``r`` (this scheme with ``start = LEVELS r``, :meth:`at_round`) takes the steps
    ``short(h / ratio**i)`` for ``i = start, ..., start + LEVELS - 1``.
    """

    name: str = "richardson"
    first_step: float = FIRST_STEP
    ratio: float = RATIO
    start: int = 0
    uses_f0: bool = False
    imaginary: bool = False
    estimates_error: ClassVar[bool] = True

    def default_step(self, x: FloatArray, eps: float = _EPS) -> FloatArray:
        """The first step, ``1/16`` for every coordinate (f's scale is not |x|'s).

        For f computed in lower precision it grows like ``eps^(1/11)`` (the balance of
        round-off ``eps / h`` and the O(h^10) truncation): 0.38 for float32.
        """
        return np.full(x.shape, float(short(self.first_step * (eps / _EPS) ** (1 / 11))))

    def taken(self, x: FloatArray, h: FloatArray) -> FloatArray:
        """`h` itself: the ladder's steps are exact, and measured where they are not."""
        return h

    def fit(
        self, x: FloatArray, h: FloatArray, lo: FloatArray, hi: FloatArray
    ) -> tuple[Scheme, FloatArray]:
        """Shorten steps that leave the box to a power of two that fits on both sides.

        Richardson extrapolation combines symmetric differences only, so there is no
        one-sided fallback: the step shrinks (powers of two keep the points exact) and
        its error estimate accounts for the larger round-off of the smaller step.
        """
        mask = ~inside(_SYMMETRIC, x, h, lo, hi)
        if not mask.any():
            return self, h
        room = np.minimum(hi - x, x - lo)
        on_bound = mask & (room <= 0)
        if on_bound.any():
            j = int(np.argmax(on_bound))
            raise InvalidInputError(
                f"method={self.name!r} needs room on both sides of x, but x[{j}] = "
                f"{x[j].item()!r} lies on a bound [{lo[j].item()!r}, {hi[j].item()!r}]; "
                "use method='central', which turns one-sided at a bound."
            )
        with np.errstate(divide="ignore"):
            fitting = np.exp2(np.floor(np.log2(np.where(mask, room, 1.0))))
        shorter = np.where(mask, np.minimum(h, fitting), h)
        return self, shrink_into(_SYMMETRIC, x, shorter, lo, hi, mask)

    def at_round(self, round_: int) -> Richardson:
        """The scheme of round `round_`: the next window of the ladder."""
        return replace(self, start=LEVELS * round_)

    def ladder(self, h: FloatArray) -> FloatArray:
        """This round's steps: see :func:`ladder`."""
        return ladder(h, self.start, self.ratio)

    def count(self, groups: Groups) -> int:
        return 2 * LEVELS * groups.count

    def iter_points(
        self, x: FloatArray, h: FloatArray, groups: Groups
    ) -> Iterator[np.ndarray[Any, Any]]:
        """``x ± s_i`` over each group's coordinates, group by group, step by step."""
        steps = self.ladder(h)
        for cols in groups.members():
            for level in steps:
                for sign in (1.0, -1.0):
                    point = x.copy()
                    point[cols] += sign * level[cols]
                    yield point

    def combine(self, values: np.ndarray[Any, Any], at: Stencil) -> Estimate:
        """Extrapolate every entry; with `evaluate`, go on with the entries that need it.

        No entry is known better than a few ulps of the largest in its row: each value
        of f carries the rounding of all its terms (in ``sum(sin(x))`` at points where f
        nearly cancels, a component near 0 comes out exactly 0 for a true 2e-16).
        """
        x, h, groups, eps, evaluate = at.x, at.h, at.groups, at.eps, at.evaluate
        m, d = values.shape[1], h.size
        if at.entries is None:
            rows, cols = np.repeat(np.arange(m), d), np.tile(np.arange(d), m)
        else:
            rows, cols = at.entries
        live = groups.of[cols] >= 0
        r, c = rows[live], cols[live]
        first = self._window(values, x, h, groups, r, c, eps)
        if evaluate is None:
            value, error = first.value, first.estimate
        else:

            def more(idx: IntArray, round_: int) -> Window:
                keep = np.zeros(d, dtype=bool)
                keep[c[idx]] = True
                sub, stage = groups.restricted(keep), self.at_round(round_)
                return stage._window(evaluate(stage, sub), x, h, sub, r[idx], c[idx], eps)

            def allowed(idx: IntArray, round_: int) -> np.ndarray[Any, Any]:
                smallest = ladder(h[c[idx]], LEVELS * round_, self.ratio)[-1]
                ok: np.ndarray[Any, Any] = smallest >= _MIN_ULPS * np.spacing(np.abs(x[c[idx]]))
                return ok

            value, error = Rounds(r.size).run(first, more, allowed)
        largest = np.zeros(m)
        np.maximum.at(largest, r, np.where(np.isfinite(value), np.abs(value), 0.0))
        error = np.maximum(error, ULPS * eps * largest[r])
        out, err = np.zeros(rows.size), np.zeros(rows.size)
        out[live], err[live] = value, error
        if at.entries is None:
            return Estimate(out.reshape(m, d), err.reshape(m, d))
        return Estimate(out, err)

    def _window(
        self,
        values: np.ndarray[Any, Any],
        x: FloatArray,
        h: FloatArray,
        groups: Groups,
        rows: IntArray,
        cols: IntArray,
        eps: float,
    ) -> Window:
        """Analyse this round's values at the entries ``(rows, cols)``.

        `eps` is the machine epsilon of f's output (for the round-off model): each value
        is right to ``ULPS`` units in the last place of ``max|f| + |x_j| max|D|`` (the
        second term is what rounding ``x_j``, or ``c x_j`` inside f, costs).
        """
        grid = np.asarray(values, dtype=np.float64).reshape(
            groups.count, LEVELS, 2, values.shape[1]
        )
        vals = grid[groups.of[cols], :, :, rows]  # (entries, LEVELS, 2)
        xc = x[cols]
        steps = ladder(h[cols], self.start, self.ratio)
        taken = ((xc + steps) - (xc - steps)) / 2.0  # the steps actually taken, (LEVELS, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            diff = (vals[:, :, 0] - vals[:, :, 1]).T / (2.0 * taken)
            scale = np.max(np.abs(vals), axis=(1, 2)) + np.abs(xc) * np.max(np.abs(diff), axis=0)
            noise = ULPS * eps * scale / taken
        return analyse(diff, taken, noise)


def ladder(h: FloatArray, start: int = 0, ratio: float = RATIO) -> FloatArray:
    """The steps ``short(h / ratio**i)``, ``i = start .. start + LEVELS - 1``: ``(LEVELS, d)``."""
    powers = ratio ** -np.arange(start, start + LEVELS, dtype=np.float64)
    return short(powers[:, None] * np.abs(h)[None, :])
