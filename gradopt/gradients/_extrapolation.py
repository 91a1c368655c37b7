"""Extrapolating a sequence ``D(s) = c0 + c1 s^2 + c2 s^4 + ...`` to ``s = 0``, honestly.

The sequence is a difference quotient at a ladder of shrinking steps ``s_0 > s_1 > ...``
(a central first difference in :mod:`~gradopt.gradients._richardson`, a central n-th
difference in :mod:`gradopt.analysis`). Work proceeds in *rounds*: each round is a window
of ``LEVELS`` new, smaller steps, and a component takes another round only while its
table has not converged. Per window:

- **Neville's table** over the steps actually taken,
  ``T[i, k] = T[i, k-1] + (T[i, k-1] - T[i-1, k-1]) / ((s_{i-k} / s_i)^2 - 1)``, which
  removes ``c1, c2, ...`` one by one without assuming a fixed ratio between steps.
- **An estimate per entry**: ``SAFETY`` times the largest disagreement between the entry
  and its neighbours of the same or one lower order in the same and the previous row (it
  is undamped: where the table is not converged, or where f is noisier than the model,
  successive rows disagree and the estimate says so), plus a worst-case round-off term,
  the noise of each ``D_m`` propagated through the entry's weights. The window offers its
  entry with the smallest estimate.
- **A gate**: the window is *trusted* only if its first column settles as the expansion
  predicts (successive differences shrink by about ``(s_i / s_{i+1})^2``, three times in a
  row) or is already at noise level. A step far larger than the scale on which f varies
  gives a table that can agree with itself by chance; the gate rejects it.

Across rounds, a trusted window that disagrees with a trusted window at smaller steps
(beyond both estimates) has its estimate widened to cover that window's answer: large
steps can alias a fast oscillation into a smooth-looking table, small ones cannot. A
component stops when its best estimate is down to its round-off term (truncation is
resolved), when a round no longer halves it, or after ``MAX_ROUNDS``. If no window was
ever trusted, the estimate is widened to the spread of everything seen and to ``|value|``
itself: the data do not determine the answer, and the estimate says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradopt._typing import FloatArray

__all__ = ["LEVELS", "MAX_ROUNDS", "Rounds", "Window", "analyse", "short"]

_EPS = float(np.finfo(np.float64).eps)
LEVELS = 5  #: steps per round (window)
MAX_ROUNDS = 6  #: rounds at most per component
SAFETY = 2.0  #: multiplies the disagreement between neighbouring entries
CONVERGED = 4.0  #: stop when the estimate is within this factor of its round-off term
_GATE_NOISE = 8.0  #: a first-column difference this many times its noise is not noise


def short(h: FloatArray, bits: int = 12) -> FloatArray:
    """`h` rounded down to `bits` significant bits.

    ``x ± h`` is then exact for any ``|x| < 2^(52 - bits) h`` and shares the low bits of
    ``x``, so rounding inside f (of ``c * x``, say) cancels in ``f(x + h) - f(x - h)``,
    as it does for powers of two.
    """
    mant, expo = np.frexp(np.asarray(h, dtype=np.float64))
    out: FloatArray = np.ldexp(np.floor(mant * 2.0**bits) / 2.0**bits, expo)
    return out


@dataclass(frozen=True)
class Window:
    """What one window offers, per component: its best entry and whether to trust it."""

    value: FloatArray
    estimate: FloatArray
    roundoff: FloatArray
    trusted: np.ndarray[Any, np.dtype[np.bool_]]


def analyse(d: FloatArray, s: FloatArray, noise: FloatArray) -> Window:
    """Extrapolate the columns of `d` (shape ``(levels, m)``) taken at steps `s`.

    `noise` (same shape) bounds the round-off of each ``d[i, j]``.
    """
    levels, m = d.shape
    table: dict[tuple[int, int], FloatArray] = {}
    weights: dict[tuple[int, int], FloatArray] = {}
    eye = np.eye(levels)[:, :, None] * np.ones(m)  # (levels, levels, m)
    for i in range(levels):
        table[i, 0], weights[i, 0] = d[i], eye[i]
    for k in range(1, levels):
        for i in range(k, levels):
            q = (s[i - k] / s[i]) ** 2 - 1.0
            table[i, k] = table[i, k - 1] + (table[i, k - 1] - table[i - 1, k - 1]) / q
            weights[i, k] = weights[i, k - 1] + (weights[i, k - 1] - weights[i - 1, k - 1]) / q
    value = np.full(m, np.nan)
    best = np.full(m, np.inf)
    best_roundoff = np.zeros(m)
    for (i, k), entry in table.items():
        if k == 0:
            continue
        spread = np.maximum(np.abs(entry - table[i, k - 1]), np.abs(entry - table[i - 1, k - 1]))
        for (j, kk), other in table.items():
            if kk >= max(1, k - 1) and j >= i - 1:
                spread = np.maximum(spread, np.abs(entry - other))
        roundoff = np.sum(np.abs(weights[i, k]) * noise, axis=0)
        estimate = SAFETY * spread + roundoff
        # NaN (from non-finite d) never wins, but a component with nothing else keeps it.
        better = (estimate < best) | np.isnan(value)
        value = np.where(better, entry, value)
        best = np.where(better, estimate, best)
        best_roundoff = np.where(better, roundoff, best_roundoff)
    return Window(value, best, best_roundoff, _settles(d, s, noise))


def _settles(d: FloatArray, s: FloatArray, noise: FloatArray) -> np.ndarray[Any, Any]:
    """Whether the first column converges like ``s^2`` (or is at noise level) at the end."""
    diff = np.diff(d, axis=0)  # diff[i] = d[i + 1] - d[i]
    ok = np.ones(d.shape[1], dtype=bool)
    for i in range(max(1, diff.shape[0] - 3), diff.shape[0]):
        expected = (s[i] / s[i + 1]) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = diff[i - 1] / diff[i]
        quiet = np.abs(diff[i]) <= _GATE_NOISE * noise[i + 1]
        ok &= quiet | ((ratio >= expected / 2) & (ratio <= 32 * expected))
    return ok


class Rounds:
    """The windows of every component so far, and which components go on.

    Per round, arrays over the components (NaN/False where a component took no part).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        shape = (MAX_ROUNDS, size)
        self.value = np.full(shape, np.nan)
        self.estimate = np.full(shape, np.inf)
        self.roundoff = np.full(shape, np.nan)
        self.trusted = np.zeros(shape, dtype=bool)
        self.seen = np.zeros(shape, dtype=bool)
        self.rounds = 0

    def add(self, coords: np.ndarray[Any, Any], round_: int, w: Window) -> None:
        self.value[round_, coords] = w.value
        self.estimate[round_, coords] = np.where(np.isnan(w.estimate), np.inf, w.estimate)
        self.roundoff[round_, coords] = w.roundoff
        self.trusted[round_, coords] = w.trusted
        self.seen[round_, coords] = True
        self.rounds = max(self.rounds, round_ + 1)

    def best(self) -> tuple[FloatArray, FloatArray, FloatArray, np.ndarray[Any, Any]]:
        """Per component: ``(value, estimate, roundoff, trusted)`` over its windows."""
        n = self.rounds
        value, trusted = self.value[:n], self.trusted[:n]
        estimate = np.where(trusted, self.estimate[:n], np.inf)
        for a in range(n):
            for b in range(a + 1, n):  # smaller steps disagree: trust them
                gap = np.abs(value[a] - value[b])
                off = trusted[a] & trusted[b] & (gap > estimate[a] + estimate[b])
                widened = np.maximum(estimate[a], gap + estimate[b])
                estimate[a] = np.where(off, widened, estimate[a])
        any_trusted: np.ndarray[Any, Any] = np.asarray(trusted.any(axis=0))
        fallback = np.where(self.seen[:n], self.estimate[:n], np.inf)
        pick = np.where(any_trusted, np.argmin(estimate, axis=0), np.argmin(fallback, axis=0))
        cols = np.arange(self.size)
        best_value = value[pick, cols]
        best_estimate = np.where(any_trusted, estimate[pick, cols], fallback[pick, cols])
        # Never trusted: the data do not determine the answer; say so.
        finite = self.seen[:n] & np.isfinite(value)
        with np.errstate(invalid="ignore"):
            top = np.max(value, axis=0, where=finite, initial=-np.inf)
            spread = top - np.min(value, axis=0, where=finite, initial=np.inf)
        doubt = np.fmax(np.fmax(best_estimate, spread), np.abs(best_value))
        best_estimate = np.where(any_trusted, best_estimate, doubt)
        return best_value, best_estimate, self.roundoff[pick, cols], any_trusted

    def run(
        self,
        first: Window,
        more: Callable[[np.ndarray[Any, Any], int], Window],
        allowed: Callable[[np.ndarray[Any, Any], int], np.ndarray[Any, Any]],
    ) -> tuple[FloatArray, FloatArray]:
        """Go on with every component that needs it; return values and estimates.

        `more(coords, round_)` evaluates the next window of the components `coords`;
        `allowed(coords, round_)` says which of them may take it (its steps still mean
        something).
        """
        going = np.arange(self.size)
        self.add(going, 0, first)
        value, estimate, roundoff, trusted = self.best()
        for round_ in range(1, MAX_ROUNDS):
            # Go on while truncation is not yet below round-off.
            resolved = trusted & np.isfinite(value) & (estimate <= CONVERGED * roundoff)
            going = going[~resolved[going]]
            if going.size:
                going = going[allowed(going, round_)]
            if not going.size:
                break
            self.add(going, round_, more(going, round_))
            before_estimate, before_trusted = estimate, trusted
            value, estimate, roundoff, trusted = self.best()
            # A trusted answer that another round did not halve: steps are now small
            # enough that round-off (or f's own noise) dominates.
            stalled = before_trusted & (estimate > before_estimate / 2)
            going = going[~stalled[going]]
        return value, estimate
