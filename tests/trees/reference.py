"""Each derivative method's theoretical tolerance on a tree, from its error theory.

A finite difference computed in float64 differs from the truth by its truncation error
(the formula's own error at the step taken, with exact arithmetic) plus the rounding of
the values it combines. Both are computed here rather than estimated:

* the truncation error by running the same formula, at the same points, in extended
  precision (``numpy.longdouble`` and ``numpy.clongdouble``, 11 bits more than float64 on
  x86-64): its own rounding is 2**-11 of float64's, so what remains is the formula's;
* the rounding by the running error bound of :mod:`tests.trees.jets` at each point the
  formula evaluates: ``sum_i |w_i| E(x_i) / h`` for values ``f(x_i)`` with error bound
  ``E(x_i)``, plus the rounding of the final division.

Nothing here is a fudge factor: a tolerance is the sum of bounds a textbook derives, so a
method that takes a wrong step, a wrong weight or a wrong point falls outside it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import assume

from tests.trees.hessian import hessian_vector
from tests.trees.jets import Analysis, U, analyse, gamma
from tests.trees.nodes import Tree

__all__ = [
    "EXTENDED",
    "LAMBDA",
    "complex_step_tolerance",
    "difference_tolerance",
    "hessp_tolerance",
    "is_moderate",
    "richardson_tolerance",
]

_LD = np.longdouble
#: Whether longdouble has the 64-bit significand the reference needs (x86-64: yes).
EXTENDED = np.finfo(_LD).nmant >= 63


def _lagrange_amplification(ratio: float, levels: int) -> float:
    """The largest sum of |weights| of an extrapolation to 0 in ``s**2`` over consecutive
    steps of a ladder ``s_i = ratio**-i``: how much a table entry can amplify the
    round-off of the differences it combines (Richardson's table, :mod:`_extrapolation`)."""
    s2 = ratio ** (-2.0 * np.arange(levels))
    worst = 1.0
    for first in range(levels):
        for last in range(first + 1, levels):
            nodes = s2[first : last + 1]
            weights = [
                np.prod([nodes[k] / (nodes[k] - nodes[m]) for k in range(nodes.size) if k != m])
                for m in range(nodes.size)
            ]
            worst = max(worst, float(np.sum(np.abs(weights))))
    return worst


#: Richardson's table amplifies round-off by at most this much (2.17 for ratio 1.9).
LAMBDA = _lagrange_amplification(1.9, 5)


def is_moderate(a: Analysis, limit: float = 1e100) -> bool:
    """Whether every derivative and bound is finite and below `limit` (nested exp can
    overflow; such trees test overflow, not differentiation)."""
    parts = [a.derivatives, a.value_error, a.grad_abs, a.grad_error]
    return all(bool(np.all(np.isfinite(p) & (np.abs(p) < limit))) for p in parts)


def _shifted(tree: Tree, offset: float, h: np.ndarray[Any, Any]) -> Analysis:
    """The tree analysed at ``x + offset h_j e_j``, one base point per axis j."""
    x = np.asarray(tree.x, dtype=np.float64)
    with np.errstate(all="ignore"):
        return analyse(tree, base=x[None, :] + offset * np.diag(h))


def difference_tolerance(
    tree: Tree,
    f: Callable[[Any], Any],
    h: np.ndarray[Any, Any],
    offsets: tuple[float, ...],
    weights: tuple[float, ...],
    uses_f0: bool,
    truth: Analysis,
) -> np.ndarray[Any, Any]:
    """Tolerance of ``sum_i w_i f(x + o_i h_j e_j) / h_j`` (minus ``sum w f(x) / h_j`` when
    `uses_f0`): its truncation error, measured in extended precision, plus rounding."""
    x = np.asarray(tree.x, dtype=np.float64)
    xl = x.astype(_LD)
    exact = np.zeros(x.size, dtype=_LD)
    f0 = f(xl) if uses_f0 else _LD(0)
    for j in range(x.size):
        total = _LD(0)
        for o, w in zip(offsets, weights, strict=True):
            point = xl.copy()
            point[j] += _LD(o) * _LD(h[j])  # the steps are exact in float64 too
            total += _LD(w) * f(point)
        exact[j] = (total - _LD(sum(weights)) * f0) / _LD(h[j])
    truncation = np.abs(np.asarray(exact - truth.exact[1], dtype=np.float64))
    rounding = np.zeros(x.size)
    for o, w in zip(offsets, weights, strict=True):
        rounding += abs(w) * _shifted(tree, o, h).value_error
    if uses_f0:
        rounding += abs(sum(weights)) * truth.value_error
    division = 2 * U * (np.abs(truth.grad) + truncation)
    return truncation + rounding / h + division


def complex_step_tolerance(
    tree: Tree, f: Callable[[Any], Any], h: np.ndarray[Any, Any], truth: Analysis
) -> np.ndarray[Any, Any]:
    """Tolerance of ``Im f(x + i h_j e_j) / h_j``: the truncation error (measured in
    extended complex precision), the rounding of forward-mode differentiation (which the
    imaginary parts carry, scaled by h, so an underflow there costs ``ETA / h``), the
    rounding of the truncation term's own computation and of the division."""
    x = np.asarray(tree.x, dtype=np.float64)
    exact = np.zeros(x.size, dtype=_LD)
    for j in range(x.size):
        point = x.astype(np.clongdouble)
        point[j] += 1j * _LD(h[j])
        exact[j] = np.imag(f(point)) / _LD(h[j])
    truncation = np.abs(np.asarray(exact - truth.exact[1], dtype=np.float64))
    with np.errstate(all="ignore"):
        scaled = analyse(tree, scale=h, order=5)
        if not np.all(scaled.taylor_abs[3] + scaled.taylor_abs[5]):
            scaled = analyse(tree, scale=h, order=17)  # powers of powers at 0: x**9
    assume(bool(np.all(np.isfinite(scaled.taylor_error) & (scaled.taylor_error < 1e100))))
    # The truncation is the imaginary part's orders 3, 5, ...: ``-h**2 t_3 + h**4 t_5 ...``
    # over h. Float64 computes them as it computes any part of the complex values, so
    # their rounding is bounded by the running error analysis of each order (E_k of
    # tests.trees.jets): u (gamma_n for a sum) of each operation's absolute Taylor
    # coefficient M_k, the sum over all paths of |terms|, passed on through absolute
    # partials; not relative to the truncation's value, which can cancel (a sum of cubes
    # at x = 0). The orders are taken up to one beyond the first that is not 0, as the
    # first-order analysis leaves out u**2: each further order is h**2 <= 4e-40 (|x| <= 2)
    # times the one before; beyond 17, h**16 <= 7e-337 puts any order whose absolute
    # coefficient is below 1e300 under ETA, which the exact tolerance counts.
    k = np.arange(3, scaled.taylor_error.shape[0], 2)
    higher = np.sum(h[None, :] ** (k[:, None] - 1) * scaled.taylor_error[k], axis=0)
    division = 2 * U * (np.abs(truth.grad) + truncation)
    return scaled.exact_tolerance() + truncation + higher + division


def richardson_tolerance(
    tree: Tree, estimate: np.ndarray[Any, Any], smallest: np.ndarray[Any, Any], truth: Analysis
) -> np.ndarray[Any, Any]:
    """Tolerance of Richardson extrapolation: its own error estimate (which models f as
    right to a few units in the last place of its magnitude) plus the round-off that
    model leaves out, ``LAMBDA E / s`` for the rounding bound E of f on the ladder
    (taken at x and at both ends of the first step) and the smallest step s taken."""
    first = np.full(truth.grad.size, 0.0625)
    worst = np.maximum.reduce(
        [
            truth.value_error,
            _shifted(tree, 1, first).value_error,
            _shifted(tree, -1, first).value_error,
        ]
    )
    return estimate + LAMBDA * worst / smallest + truth.exact_tolerance()


def hessp_tolerance(
    tree: Tree, v: np.ndarray[Any, Any], h: float, truth: Analysis
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """``(Hv, tolerance)`` for ``|hessp - (g(x + h v) - g(x - h v)) / 2h|``, g an exact
    method's gradient, hessp an exact method's Hessian-vector product.

    ``Hv`` is the true product (:mod:`tests.trees.hessian`). The tolerance is the
    difference's truncation error (the true gradients at the two points actually
    evaluated, differenced in extended precision), the rounding bound of the two gradients
    over ``2h``, the rounding of the subtraction and division, and the product's own
    rounding: ``2 gamma_N`` (twice the roundings of one derivative) times the absolute
    path sum of the second-order chain rule.
    """
    x = np.asarray(tree.x, dtype=np.float64)
    with np.errstate(all="ignore"):
        hv, hv_abs = hessian_vector(tree, v)
        plus, minus = analyse(tree, base=x + h * v), analyse(tree, base=x - h * v)
    exact = (plus.exact[1] - minus.exact[1]) / (2 * _LD(h))
    truncation = np.abs(np.asarray(exact - hv, dtype=np.float64))
    rounding = (plus.exact_tolerance() + minus.exact_tolerance()) / (2 * h)
    hv64 = np.asarray(hv, dtype=np.float64)
    parts = [hv64, hv_abs]
    moderate = all(is_moderate(a) for a in (plus, minus))
    assume(moderate and all(bool(np.all(np.isfinite(p) & (np.abs(p) < 1e100))) for p in parts))
    own = 2 * gamma(truth.rounding_count) * hv_abs * (1 + truth.truth_error / U)
    return hv64, truncation + rounding + own + 2 * U * (np.abs(hv64) + truncation)
