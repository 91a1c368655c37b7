"""Armijo backtracking along a descent direction."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from gradopt._typing import FloatArray

__all__ = ["Step", "armijo_backtracking"]

_ROUNDING = 64 * float(np.finfo(np.float64).eps)  # relative rounding error assumed in f


class Step(NamedTuple):
    """An accepted step: its length, the new point, f and the gradient there."""

    t: float
    x: FloatArray
    f: float
    g: FloatArray
    trials: int


def armijo_backtracking(
    value_and_grad: Callable[[FloatArray], tuple[float, FloatArray]],
    x: FloatArray,
    f: float,
    slope: float,
    d: FloatArray,
    t0: float,
    *,
    c1: float,
    shrink: float,
    max_trials: int,
) -> Step | None:
    """First ``t = t0 * shrink**k`` with ``f(x + t d) <= f + c1 * t * slope``, or None.

    `slope` is the directional derivative ``g·d`` at `x` and must be negative. Each trial
    evaluates value and gradient together (as scipy's line searches do with ``jac=True``),
    so the accepted point's gradient costs nothing more.

    A trial where f is ``inf`` (the optimizer's guard turns a NaN or infinity at a trial
    point into ``inf``) fails both tests, so the step shrinks. The search gives up when
    the step no longer changes x.

    Near a minimizer the decrease ``c1 * t * slope`` falls below the rounding error of
    f, and the plain test either accepts ever smaller steps that do not move x or rejects
    everything. There the approximate Armijo condition of Hager and Zhang (2005) decides
    instead: accept when f did not rise by more than its rounding error and the slope at
    the new point, ``g_new·d``, is at most ``(1 - 2 c1) |slope|`` (the step did not
    overshoot the minimum along d).

    Examples
    --------
    >>> import numpy as np
    >>> vg = lambda x: (float(x @ x), 2 * x)
    >>> x = np.array([1.0]); d = -vg(x)[1]
    >>> armijo_backtracking(vg, x, 1.0, float(-d @ d), d, 1.0, c1=1e-4, shrink=0.5, max_trials=5).t
    0.5
    """
    noise = _ROUNDING * abs(f)
    t = t0
    for trial in range(1, max_trials + 1):
        x_new = x + t * d
        if np.array_equal(x_new, x):
            return None
        f_new, g_new = value_and_grad(x_new)
        if f_new <= f + c1 * t * slope:
            if f - f_new > noise or float(g_new @ d) <= (2 * c1 - 1) * slope:
                return Step(t, x_new, f_new, g_new, trial)
        elif f_new <= f + noise and float(g_new @ d) <= (2 * c1 - 1) * slope:
            return Step(t, x_new, f_new, g_new, trial)
        t *= shrink
    return None
