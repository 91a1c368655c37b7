"""Checking a solver's claim of success against the gradient gradopt has in hand.

scipy's methods stop on their own tests (a small step, a small change of f, a small
trust region), which a point far from any minimum can pass: Newton-CG on a linear
function stops at ``x0`` after one iteration with the gradient unchanged, COBYQA on an
unbounded one "converges" at ``f = -1.8e30``. A claim is questioned when the gradient is
large on the scale of the problem,

    ``max|g_j| * max(1, max|x_j|) > 0.1 * max(1, |f|)``

(components that point out of the box at an active bound do not count), and refuted when
a short step along ``-g`` (length ``1e-4 * max(1, max|x_j|)``) lowers f by at least half
of what the gradient predicts and by more than the rounding error of f. The step is what
makes the test safe for functions with kinks or noise, where a gradient can be large at
a true minimizer but no step downhill exists. It costs one evaluation of f, and only for
claims that are questioned. A questioned claim whose step meets a NaN or infinity is
left to the caller, who knows whether the run met such values too (then the solver
stopped at the edge of where f is defined, not at a minimum).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from gradopt._typing import FloatArray

__all__ = ["Verdict", "refute_success"]

_SLOPE = 0.1  # relative slope above which a claimed minimum is questioned
_STEP = 1e-4  # relative length of the probing step
_ROUNDING = math.sqrt(np.finfo(np.float64).eps)


class Verdict(NamedTuple):
    """Whether a claimed minimum was questioned (large or non-finite gradient), and why
    it is refuted (None if it was not)."""

    questioned: bool
    refuted: str | None = None


def refute_success(
    x: FloatArray,
    f: float,
    g: FloatArray,
    low: FloatArray,
    high: FloatArray,
    value: Callable[[FloatArray], float],
) -> Verdict:
    """Judge the claim that `x` is a (local) minimizer.

    `value` evaluates f at the probing point (``inf`` where f is not finite).

    Examples
    --------
    >>> import numpy as np
    >>> line = lambda x: float(x[0] + 2 * x[1])
    >>> x, inf = np.zeros(2), np.full(2, np.inf)
    >>> refute_success(x, 0.0, np.array([1.0, 2.0]), -inf, inf, line).refuted
    'the gradient is not small there (max |g_j| = 2) and a step of 0.0001 along -g lowers f ...'
    >>> refute_success(x, 0.0, np.array([1.0, 2.0]), np.zeros(2), inf, line)
    Verdict(questioned=False, refuted=None)
    """
    if not np.isfinite(g).all():
        return Verdict(questioned=True)
    blocked = ((x <= low) & (g > 0)) | ((x >= high) & (g < 0))
    pg = np.where(blocked, 0.0, g)
    gmax = float(np.max(np.abs(pg)))
    xscale = max(1.0, float(np.max(np.abs(x))))
    fscale = max(1.0, abs(f))
    if not gmax * xscale > _SLOPE * fscale:
        return Verdict(questioned=False)
    norm = float(np.linalg.norm(pg))
    step = _STEP * xscale
    trial = np.clip(x - (step / norm) * pg, low, high)
    moved = float(np.linalg.norm(trial - x))
    f_trial = value(trial)
    drop = f - f_trial
    if drop >= 0.5 * moved * norm and drop > _ROUNDING * fscale:
        return Verdict(
            True,
            f"the gradient is not small there (max |g_j| = {gmax:.3g}) and a step of "
            f"{moved:.3g} along -g lowers f from {f:.6g} to {f_trial:.6g}",
        )
    return Verdict(questioned=True)
