"""The truth about a tree at a point, and how far a float64 evaluation can stray from it.

:func:`analyse` walks the tree once along m directions, each from its own base point (by
default: along each coordinate axis, from the tree's point), carrying for every node

* its Taylor coefficients up to a given order, computed in ``numpy.longdouble`` (64-bit
  significand on x86-64, 11 bits more than float64): the true gradient (order 1), and
  second derivatives along ``v ± e_j`` from which the true Hessian-vector product follows
  (order 2);
* a first-order bound on the rounding error of its value computed in float64
  (running error analysis, Wilkinson's model): each ``+ - *`` is exact up to a relative
  ``u = 2**-53``, each of exp, sin, cos, tanh, log, ``**`` up to a relative
  ``ELEMENTARY`` (4 units in the last place), a sum of ``n`` terms up to
  ``gamma_n = n u / (1 - n u)`` of the sum of their absolute values, and any operation
  whose result underflows up to an absolute ``ETA``;
* the absolute directional derivative (the chain rule with the absolute value of every
  local partial derivative: the sum over all paths from x to the node of ``|product of
  partials|``) and a first-order bound on the rounding error of the derivative computed
  by differentiating the evaluation (forward or reverse mode, or a formula for the
  derivative): each local partial is computed from values that carry their own rounding
  error (``|f''(a)| e_a``) plus its own rounding, and the products and sums that combine
  the partials are bounded, in any order, by ``gamma_N |g|`` where ``N`` counts the
  roundings of the tree (:attr:`Analysis.rounding_count`);
* the same two quantities for every Taylor order k up to the given order, as a complex
  evaluation (the complex step ``f(x + i h e_j)``, which carries order k in the real or
  imaginary part scaled by ``h**k``) computes them: the absolute Taylor coefficient
  ``M_k`` (Faa di Bruno's sum over all paths with the absolute value of every term, the
  majorant series; ``M_1`` is the absolute directional derivative) and a first-order bound
  ``E_k`` on the rounding error of the order-k part. Each operation rounds what it
  computes by a relative ``u`` (``gamma_n`` for a sum of n terms, ``4 ELEMENTARY`` for a
  complex elementary function: a product or quotient of two or three real ones, each
  part componentwise) of the absolute size ``M_k`` of that order, and passes on the
  errors of its operands through the absolute values of its Taylor coefficients: a
  product through the Cauchy product, ``op(a)`` through ``sum_m |c_m| m P**(m-1) E``
  (``P`` the operand's non-constant majorant, ``c_m = op^(m)(a_0)/m!``) and through the
  error ``e`` of its argument's value, which moves every ``c_m`` by ``(m + 1) |c_(m+1)| e``.
  Orders of even k live in the real part, odd k in the imaginary part; the parities never
  mix (a product or power of series adds orders), so the bound on each part is the sum of
  its orders' ``E_k h**k``.

Where ``numpy.longdouble`` is float64 itself (some platforms), the truth carries the same
rounding error as what it checks; :attr:`Analysis.truth_error` says how large, and
:meth:`Analysis.exact_tolerance` adds it (the property tests skip such platforms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tests.trees.nodes import Binary, Const, MatVec, Node, Root, Tree, Unary, Var

__all__ = ["ELEMENTARY", "ETA", "Analysis", "U", "analyse", "gamma"]

U = 2.0**-53  #: unit roundoff of float64
ELEMENTARY = 8 * U  #: relative error of exp, sin, cos, tanh, log, ** (4 ulps)
ETA = 2.0**-1074  #: absolute error of an operation whose result underflows (at most half this)
_LD = np.longdouble
_U_TRUTH = float(np.finfo(_LD).eps) / 2


def gamma(n: int) -> float:
    """``gamma_n = n u / (1 - n u)``: the relative error bound of n roundings."""
    return n * U / (1 - n * U)


@dataclass
class _Jet:
    """One node along m directions: Taylor coefficients ``t[k, j, i]`` (order k, along
    direction j from its base point, component i) in longdouble, the value's rounding
    bound ``e[j, i]`` (at direction j's base point), the absolute directional derivative
    ``gabs[j, i]`` and the directional derivative's rounding bound ``eg[j, i]``; per
    Taylor order k of a complex evaluation, the absolute coefficient ``tabs[k, j, i]`` and
    the rounding bound ``terr[k, j, i]`` (``terr[0]`` is ``e``)."""

    t: np.ndarray[Any, Any]
    e: np.ndarray[Any, Any]
    gabs: np.ndarray[Any, Any]
    eg: np.ndarray[Any, Any]
    tabs: np.ndarray[Any, Any]
    terr: np.ndarray[Any, Any]

    @property
    def v(self) -> np.ndarray[Any, Any]:
        """The value at each base point, float64."""
        return np.asarray(self.t[0], dtype=np.float64)


def _cauchy(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any], order: int) -> np.ndarray[Any, Any]:
    """Taylor coefficients of a product."""
    out = np.zeros_like(a)
    for k in range(order + 1):
        for i in range(k + 1):
            out[k] += a[i] * b[k - i]
    return out


def _exp(a: np.ndarray[Any, Any], order: int) -> np.ndarray[Any, Any]:
    out = np.zeros_like(a)
    out[0] = np.exp(a[0])
    for k in range(1, order + 1):
        out[k] = sum(i * a[i] * out[k - i] for i in range(1, k + 1)) / k
    return out


def _sin_cos(
    a: np.ndarray[Any, Any], order: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    s, c = np.zeros_like(a), np.zeros_like(a)
    s[0], c[0] = np.sin(a[0]), np.cos(a[0])
    for k in range(1, order + 1):
        s[k] = sum(i * a[i] * c[k - i] for i in range(1, k + 1)) / k
        c[k] = -sum(i * a[i] * s[k - i] for i in range(1, k + 1)) / k
    return s, c


def _tanh(a: np.ndarray[Any, Any], order: int) -> np.ndarray[Any, Any]:
    t, w = np.zeros_like(a), np.zeros_like(a)  # w = 1 - t**2 = t'
    t[0] = np.tanh(a[0])
    w[0] = 1 - t[0] ** 2
    for k in range(1, order + 1):
        t[k] = sum(i * a[i] * w[k - i] for i in range(1, k + 1)) / k
        w[k] = -sum(t[i] * t[k - i] for i in range(k + 1))
    return t


def _log(p: np.ndarray[Any, Any], order: int) -> np.ndarray[Any, Any]:
    out = np.zeros_like(p)
    out[0] = np.log(p[0])
    for k in range(1, order + 1):
        out[k] = (p[k] - sum(i * out[i] * p[k - i] for i in range(1, k)) / k) / p[0]
    return out


def _unary_taylor(op: str, a: np.ndarray[Any, Any], order: int) -> np.ndarray[Any, Any]:
    if op == "exp":
        return _exp(a, order)
    if op == "sin":
        return _sin_cos(a, order)[0]
    if op == "tanh":
        return _tanh(a, order)
    if op == "log1sq":
        p = _cauchy(a, a, order)
        p[0] += 1
        return _log(p, order)
    if op == "sq":
        return _cauchy(a, a, order)
    assert op == "cube"
    return _cauchy(_cauchy(a, a, order), a, order)


def _partials(op: str, a: np.ndarray[Any, Any], v: np.ndarray[Any, Any]) -> tuple[Any, Any, Any]:
    """For ``v = op(a)``: ``|f'(a)|``, ``|f''(a)|`` and the rounding of computing f'(a)
    from an exact `a` (each backend's formula: exp' = exp, tanh' = 1 - tanh**2 or
    1/cosh**2, ...)."""
    if op == "exp":
        return np.abs(v), np.abs(v), ELEMENTARY * np.abs(v)
    if op == "sin":
        return np.abs(np.cos(a)), np.abs(v), ELEMENTARY * np.abs(np.cos(a))
    if op == "tanh":
        p = 1 - v**2
        # 1 - t**2 from a rounded t: 2|t| (ELEMENTARY |t|) + u (1 + t**2); or 1/cosh**2
        # to a few ELEMENTARY relative: 3 ELEMENTARY (p + t**2) covers both.
        return p, np.abs(2 * v * p), 3 * ELEMENTARY * (p + v**2)
    if op == "log1sq":
        q = 1 + a * a
        p = 2 * a / q
        # 2a / (1 + a*a): a product, a sum, a quotient (or the chain a -> a*a -> 1 + . ->
        # log with partials 2a and 1/q): 4 roundings
        return (
            np.abs(p),
            np.abs(2 * (1 - a * a) / q**2),
            4 * U * np.abs(p) + ELEMENTARY * np.abs(p),
        )
    if op == "sq":
        return np.abs(2 * a), np.full_like(a, 2.0), 2 * U * np.abs(2 * a)
    assert op == "cube"
    return np.abs(3 * a * a), np.abs(6 * a), 2 * ELEMENTARY * np.abs(3 * a * a)


def _unary_series(
    op: str, a: np.ndarray[Any, Any], tabs: np.ndarray[Any, Any], terr: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Absolute Taylor coefficients of ``op(a)`` and the errors its operand passes on:
    ``sum_m |c_m| P**m`` and ``sum_m |c_m| m P**(m-1) E + e sum_m (m+1) |c_(m+1)| P**m``
    (first order in the errors; ``c_m`` at the exact value ``a[0]``)."""
    order = a.shape[0] - 1
    unit = np.zeros_like(a)
    unit[0], unit[1] = a[0], 1
    c = np.abs(np.asarray(_unary_taylor(op, unit, order), dtype=np.float64))
    p, q = tabs.copy(), terr.copy()
    p[0] = q[0] = 0
    power = np.zeros_like(p)  # P**m
    power[0] = 1
    out, passed = c[0] * power, np.zeros_like(p)
    for m in range(1, order + 1):
        passed += c[m] * m * _cauchy(power, q, order) + terr[0] * m * c[m] * power
        power = _cauchy(power, p, order)
        out += c[m] * power
    return out, passed


class _Walker:
    """Evaluates the tree along m directions at once, each from its own base point."""

    def __init__(
        self,
        base: np.ndarray[Any, Any],
        directions: np.ndarray[Any, Any],
        order: int,
        eta: np.ndarray[Any, Any],
    ) -> None:
        self.base, self.directions, self.order = base, directions, order
        self.eta = eta[:, None]  # absolute underflow per operation on a derivative
        self.count = 0  # roundings in the whole tree

    def leaf(self, node: Var | Const) -> _Jet:
        m, d = self.base.shape
        t = np.zeros((self.order + 1, m, d), dtype=_LD)
        zeros = np.zeros((m, d))
        if isinstance(node, Var):
            t[0] = self.base
            t[1] = self.directions
        else:
            t[0] = node.value[None, :]
        tabs = np.abs(np.asarray(t, dtype=np.float64))  # x + i h e_j is exact
        gabs = tabs[1].copy()
        return _Jet(t, zeros, gabs, zeros.copy(), tabs, np.zeros_like(tabs))

    @staticmethod
    def series(
        e: np.ndarray[Any, Any],
        tabs: np.ndarray[Any, Any],
        passed: np.ndarray[Any, Any],
        local: float,
    ) -> np.ndarray[Any, Any]:
        """The rounding bound per order: the errors passed on, the operation's own
        rounding (relative `local` of each order's absolute size) and, at order 0, the
        value's bound ``e`` (which also counts underflow and the real part's
        absolute errors)."""
        terr = passed + local * tabs
        terr[0] = e
        return terr

    def node(self, node: Node) -> _Jet:
        if isinstance(node, Var | Const):
            return self.leaf(node)
        if isinstance(node, Unary):
            return self.unary(node.op, self.node(node.a))
        if isinstance(node, MatVec):
            return self.matvec(node.matrix, self.node(node.a))
        assert isinstance(node, Binary)
        a, b = self.node(node.a), self.node(node.b)
        return self.add(a, b) if node.op == "add" else self.mul(a, b)

    def add(self, a: _Jet, b: _Jet) -> _Jet:
        self.count += 1
        t = a.t + b.t
        gabs = a.gabs + b.gabs
        e = a.e + b.e + U * np.abs(np.asarray(t[0], dtype=np.float64)) + ETA
        eg = a.eg + b.eg + U * gabs + self.eta
        tabs = a.tabs + b.tabs
        return _Jet(t, e, gabs, eg, tabs, self.series(e, tabs, a.terr + b.terr, U))

    def mul(self, a: _Jet, b: _Jet) -> _Jet:
        self.count += 3  # the value; and a g_b + b g_a: two products and a sum
        t = _cauchy(a.t, b.t, self.order)
        va, vb = np.abs(a.v), np.abs(b.v)
        gabs = va * b.gabs + vb * a.gabs
        e = vb * a.e + va * b.e + U * np.abs(np.asarray(t[0], dtype=np.float64)) + ETA
        eg = va * b.eg + vb * a.eg + a.e * b.gabs + b.e * a.gabs + 2 * U * gabs + 3 * self.eta
        tabs = _cauchy(a.tabs, b.tabs, self.order)
        passed = _cauchy(a.tabs, b.terr, self.order) + _cauchy(a.terr, b.tabs, self.order)
        # each part of a complex product is a sum of two products: two roundings per term
        return _Jet(t, e, gabs, eg, tabs, self.series(e, tabs, passed, 2 * U))

    def unary(self, op: str, a: _Jet) -> _Jet:
        self.count += 4  # the value, the partial, its product with the incoming gradient
        t = _unary_taylor(op, a.t, self.order)
        v = np.asarray(t[0], dtype=np.float64)
        p, p2, p_round = _partials(op, a.v, v)
        e = p * a.e + (U if op == "sq" else ELEMENTARY) * np.abs(v) + ETA
        if op == "log1sq":  # the rounding of 1 + a*a, an absolute u (1 + a*a), through log
            e = e + U * (1 + 2 * a.v**2) / (1 + a.v**2)
        e_p = p2 * a.e + p_round + ETA  # error of the computed partial
        gabs = p * a.gabs
        eg = p * a.eg + e_p * a.gabs + U * gabs + self.eta
        tabs, passed = _unary_series(op, a.t, a.tabs, a.terr)
        # a complex square is one complex product, a cube two (numpy multiplies for small
        # integer powers); an elementary function's parts are products or quotients of
        # two or three real elementary values, each part to 4 ELEMENTARY relative
        local = {"sq": 2 * U, "cube": 4 * U}.get(op, 4 * ELEMENTARY)
        return _Jet(t, e, gabs, eg, tabs, self.series(e, tabs, passed, local))

    def matvec(self, matrix: np.ndarray[Any, Any], a: _Jet) -> _Jet:
        n = matrix.shape[1]
        self.count += n
        t = np.asarray(a.t @ matrix.T.astype(_LD))
        m, g = np.abs(matrix).T, gamma(n)
        e = a.e @ m + g * (np.abs(a.v) @ m) + 2 * n * ETA
        gabs = a.gabs @ m
        tabs = a.tabs @ m
        # a real entry times a complex one: a product and its (exact) difference with
        # 0 * the other part, or one fused product; then the sum of n terms: n + 1
        terr = self.series(e, tabs, a.terr @ m, gamma(n + 1))
        return _Jet(t, e, gabs, a.eg @ m + g * gabs + 2 * n * self.eta, tabs, terr)

    def total(self, a: _Jet) -> _Jet:
        n = a.t.shape[-1]
        self.count += n
        g = gamma(n)
        t = a.t.sum(axis=-1, keepdims=True)
        e = a.e.sum(axis=-1, keepdims=True) + g * np.abs(a.v).sum(axis=-1, keepdims=True)
        gabs = a.gabs.sum(axis=-1, keepdims=True)
        eg = a.eg.sum(axis=-1, keepdims=True) + g * gabs + n * self.eta
        e = e + n * ETA
        tabs = a.tabs.sum(axis=-1, keepdims=True)
        terr = self.series(e, tabs, a.terr.sum(axis=-1, keepdims=True), g)
        return _Jet(t, e, gabs, eg, tabs, terr)


@dataclass(frozen=True)
class Analysis:
    """A tree along m directions, each from its own base point.

    Attributes
    ----------
    exact : ndarray of longdouble (order + 1, m)
        ``exact[k, j]``: the k-th derivative of f along direction j at its base point
        (``k!`` times the Taylor coefficient), exact to :attr:`truth_error` relative
        (``exact[0]`` is f at the base points); :attr:`derivatives` in float64.
    value_error : ndarray (m,)
        Bound on the rounding error of f evaluated in float64 at each base point.
    grad_abs : ndarray (m,)
        The absolute directional derivative (see the module docstring).
    grad_error : ndarray (m,)
        Bound on the rounding error of the directional derivative computed in float64
        by differentiating f's evaluation (automatic differentiation, a derivative
        formula, the complex step).
    rounding_count : int
        Roundings in the whole tree, ``N`` of ``gamma_N``.
    truth_error : float
        Relative rounding unit of the extended precision the truth is computed in.
    taylor_abs : ndarray (order + 1, m)
        ``taylor_abs[k, j]``: the absolute Taylor coefficient ``M_k`` of order k along
        direction j (``taylor_abs[1]`` is :attr:`grad_abs`).
    taylor_error : ndarray (order + 1, m)
        ``taylor_error[k, j]``: bound ``E_k`` on the rounding error of the order-k part
        of a complex evaluation (the coefficient of ``h**k``; see the module docstring).
    """

    exact: np.ndarray[Any, Any]
    value_error: np.ndarray[Any, Any]
    grad_abs: np.ndarray[Any, Any]
    grad_error: np.ndarray[Any, Any]
    rounding_count: int
    truth_error: float
    taylor_abs: np.ndarray[Any, Any]
    taylor_error: np.ndarray[Any, Any]

    @property
    def derivatives(self) -> np.ndarray[Any, Any]:
        """:attr:`exact` rounded to float64."""
        return np.asarray(self.exact, dtype=np.float64)

    @property
    def grad(self) -> np.ndarray[Any, Any]:
        """The first derivatives (the gradient, for the default axis directions)."""
        return self.derivatives[1]

    def exact_tolerance(self) -> np.ndarray[Any, Any]:
        """How far a derivative from an exact method (AD, formula, complex step) may be
        from the truth: its rounding bound, a ``gamma_N`` term covering any order of the
        products and sums (reverse mode accumulates at fan-out, forward mode at fan-in, a
        derivative formula in its own order), and the truth's own rounding."""
        bound = self.grad_error + gamma(self.rounding_count) * self.grad_abs
        return bound * (1 + self.truth_error / U)


def analyse(
    tree: Tree,
    base: np.ndarray[Any, Any] | None = None,
    directions: np.ndarray[Any, Any] | None = None,
    order: int = 1,
    scale: np.ndarray[Any, Any] | float = 1.0,
) -> Analysis:
    """Derivatives of `tree` up to `order` along `directions` (rows; default the axes),
    each from its row of `base` (default the tree's point), and rounding bounds.

    `scale` (per direction) is the factor by which the derivative is carried scaled down
    in the computation: the complex step carries ``h f'`` in the imaginary parts, so an
    underflow there costs ``ETA / h`` in the derivative.
    """
    x = np.asarray(tree.x, dtype=np.float64)
    dirs = np.eye(x.size) if directions is None else np.asarray(directions, dtype=np.float64)
    points = np.broadcast_to(x if base is None else base, dirs.shape)
    eta = ETA / np.broadcast_to(np.asarray(scale, dtype=np.float64), dirs.shape[:1])
    walker = _Walker(np.asarray(points, dtype=_LD), dirs, order, eta)
    root: Root = tree.root
    a = walker.node(root.a)
    if root.b is not None:
        a = walker.mul(a, walker.node(root.b))
    out = walker.total(a)
    factorial = np.array([math.factorial(k) for k in range(order + 1)], dtype=_LD)
    return Analysis(
        exact=out.t[:, :, 0] * factorial[:, None],
        value_error=out.e[:, 0],
        grad_abs=out.gabs[:, 0],
        grad_error=out.eg[:, 0],
        rounding_count=walker.count,
        truth_error=_U_TRUTH,
        taylor_abs=out.tabs[:, :, 0],
        taylor_error=out.terr[:, :, 0],
    )
