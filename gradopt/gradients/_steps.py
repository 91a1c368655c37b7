"""Checks on the steps of a finite difference: large enough to mean anything, sized for
f's precision, and (for the complex step) really carrying the derivative.

- A step is divided as taken (:meth:`~gradopt.gradients._schemes.Scheme.taken`); one that
  leaves fewer than :data:`MIN_STEP_ULPS` units in the last place of ``x_j`` between the
  points is refused: with ``k`` such units the difference has a round-off error of about
  ``1/k`` relative even for an exactly computed f, and at 0 it is 0 (``x + h == x``).
- Values of f that all fit float32 exactly (float32 output always does, float64 output
  practically never) make f's output dtype worth reading, so that steps fit its eps.
- The complex step of an f that drops the imaginary part but keeps a complex dtype gives
  exactly 0: :func:`check_imaginary_part` tells that from a true zero gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradopt._typing import FloatArray
from gradopt.exceptions import ComplexStepError, InvalidInputError
from gradopt.gradients._bounds import Box
from gradopt.gradients._groups import Groups, Sparsity, check_sparsity_shape
from gradopt.gradients._schemes import Scheme

__all__ = [
    "MIN_STEP_ULPS",
    "check_imaginary_part",
    "check_resolvable",
    "fits_float32",
    "given_steps",
    "layout",
]

_EPS = float(np.finfo(np.float64).eps)
#: A step must leave at least this many units in the last place of x_j between the points.
MIN_STEP_ULPS = 64


def given_steps(x: FloatArray, scheme: Scheme, step: Any, eps: float) -> FloatArray:
    """The steps before any box: the user's `step` (one, or one per coordinate), else the
    scheme's default for f's `eps`."""
    if step is None:
        return scheme.default_step(x, eps)
    if np.size(step) not in (1, x.size):
        raise InvalidInputError(
            f"step has {np.size(step)} entries but x has {x.size} coordinates."
        )
    h: FloatArray = np.broadcast_to(np.asarray(step, dtype=np.float64), x.shape).copy()
    return h


def layout(
    x: FloatArray,
    scheme: Scheme,
    step: Any,
    eps: float,
    box: Box | None,
    sparsity: Sparsity | None,
) -> tuple[Scheme, FloatArray, Groups]:
    """Where a difference at `x` evaluates: the scheme fitted to the box, the steps
    actually taken, checked, and the groups of coordinates that move together (without
    those the box fixes)."""
    given = given_steps(x, scheme, step, eps)
    h = given
    if sparsity is None:
        groups = Groups.each(x.size)
    else:
        check_sparsity_shape(sparsity, None, x.size)
        groups = sparsity.groups
    moving = None
    if box is not None:
        scheme, h, fixed = box.fit(scheme, x, given)
        if fixed.any():
            moving = ~fixed
            groups = groups.restricted(moving)
    h = scheme.taken(x, h)
    if not scheme.imaginary:  # x never moves
        check_resolvable(x, given, h, box, step, moving)
    return scheme, h, groups


def check_resolvable(
    x: FloatArray,
    given: FloatArray,
    taken: FloatArray,
    box: Box | None,
    step: Any,
    moving: np.ndarray[Any, Any] | None = None,
) -> None:
    """Refuse steps of fewer than ``MIN_STEP_ULPS`` units in the last place of x.

    `given` are the steps before the box shortened them, `taken` after; `step` is the
    user's option (for the message); `moving` the coordinates that move (default all:
    those the box fixes take no step).
    """
    reach = np.abs((x + taken) - x)
    spacing = np.spacing(np.abs(x))
    short = ~(reach >= MIN_STEP_ULPS * spacing)
    if moving is not None:
        short &= moving
    if not short.any():
        return
    j = int(np.argmax(short))
    ulps = reach[j] / spacing[j]
    where = f"x[{j}] = {x[j].item()!r} (spacing {spacing[j]:.2g})"
    need = (
        f"a finite difference needs at least {MIN_STEP_ULPS} "
        f"({MIN_STEP_ULPS * spacing[j]:.2g}) to mean anything"
    )
    if box is not None and abs(taken[j]) < abs(given[j]):
        lo, hi = box.arrays(x)
        raise InvalidInputError(
            f"bounds [{lo[j].item()!r}, {hi[j].item()!r}] leave room for a step of only "
            f"{reach[j]:.2g} at {where}, {ulps:.3g} units in the last place; {need}. "
            "Widen the bounds or leave that variable out of x."
        )
    raise InvalidInputError(
        f"step={step!r} is too small at {where}: the step actually taken, (x + h) - x, is "
        f"{reach[j]:.2g} ({ulps:.3g} units in the last place); {need}."
    )


def fits_float32(values: np.ndarray[Any, Any]) -> bool:
    """Whether every value is exactly a float32."""
    with np.errstate(over="ignore"):
        single = np.asarray(values, dtype=np.float64).astype(np.float32)
    return bool(np.array_equal(single, values))


def check_imaginary_part(
    x: FloatArray,
    values: np.ndarray[Any, Any],
    value: Callable[[FloatArray], Any],
    box: Box | None,
) -> None:
    """Refuse an f whose imaginary parts are all exactly 0 while f changes along x.

    Two real evaluations (``value``, counted by the caller) at ``x ± delta v``, v a fixed
    pseudo-random direction, kept inside the box: an odd change larger than round-off and
    than the even (second-order) one says f changes at first or third order. Only then,
    two more at ``x ± delta v / 2`` tell the two apart (a first-order change halves, a
    third-order one falls eightfold): a first-order change says the gradient is not 0, so
    the imaginary parts were dropped. A true zero gradient (``x^2`` at 0, a constant,
    ``sin(x) - x`` at 0, whose imaginary parts round to exactly 0) passes. For a
    vector-valued f, the largest change over the outputs decides.
    """
    f0 = values.real[0]  # f(x + i h e_j) = f(x) + O(h^2), one value per output
    v = np.random.default_rng(0).uniform(0.5, 1.0, x.size) * (-1.0) ** np.arange(x.size)
    delta = _EPS ** (1 / 3) * np.maximum(1.0, np.abs(x))
    if box is not None:
        lo, hi = box.arrays(x)
        delta = np.minimum(delta, np.minimum(hi - x, x - lo))
    step = delta * v
    if not np.any(step):
        return

    def largest(a: Any) -> float:
        return float(np.max(np.abs(a)))

    plus, minus = np.asarray(value(x + step)), np.asarray(value(x - step))
    odd, even = (plus - minus) / 2, largest(plus + minus - 2 * f0) / 2
    noise = 64 * _EPS * max(largest(plus), largest(minus), largest(f0))
    if not (largest(odd) > noise and largest(odd) > even):
        return
    # odd = a delta + b delta^3 + ...; at delta / 2, a delta / 2 + b delta^3 / 8
    half = (np.asarray(value(x + step / 2)) - np.asarray(value(x - step / 2))) / 2
    first = (8 * half - odd) / 3  # a delta + O(delta^5)
    if largest(first) > noise and largest(first) > largest(odd - first):
        raise ComplexStepError(
            "method='complex': the imaginary part of f is exactly 0 at every point, so "
            f"the derivative would be exactly 0, yet f changes along x (f = {plus.tolist()!r} "
            f"and {minus.tolist()!r} at x ± {float(np.max(np.abs(step))):.1e} along a "
            f"direction, {np.asarray(f0).tolist()!r} at x). f drops the imaginary part "
            "somewhere (np.real, abs, a cast to float, a library function without complex "
            "support). Use method='central' or 'richardson'."
        )
