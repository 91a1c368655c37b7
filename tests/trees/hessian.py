"""The true Hessian-vector product of a tree, in extended precision, by hyper-dual numbers.

A hyper-dual number ``a + a_v e1 + a_j e2 + a_vj e1 e2`` (``e1**2 = e2**2 = 0``) carries a
value, its derivatives along v and along ``e_j``, and the mixed second derivative
``d^2 / dv de_j``: evaluating the tree on ``x + e1 v + e2 e_j`` gives ``(H v)_j`` exactly
(up to ``numpy.longdouble`` rounding), with no difference of large second derivatives
(polarization, ``(D^2_(v+e_j) - D^2_(v-e_j)) / 4``, loses to cancellation what a large
``H_vv`` beside a small ``(H v)_j`` holds). All j at once: arrays of shape ``(d, n)``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from tests.trees.nodes import Binary, Const, MatVec, Node, Tree, Unary, Var

__all__ = ["hessian_vector"]

_LD = np.longdouble


class _Hyper(NamedTuple):
    a: Any  # value
    av: Any  # along v
    aj: Any  # along e_j (row j)
    avj: Any  # mixed
    mv: Any  # the absolute path sums of av, aj, avj: the chain rule with |partials|
    mj: Any
    mvj: Any


def _add(p: _Hyper, q: _Hyper) -> _Hyper:
    return _Hyper(*(s + t for s, t in zip(p, q, strict=True)))


def _mul(p: _Hyper, q: _Hyper) -> _Hyper:
    pa, qa = np.abs(p.a), np.abs(q.a)
    return _Hyper(
        p.a * q.a,
        p.a * q.av + p.av * q.a,
        p.a * q.aj + p.aj * q.a,
        p.a * q.avj + p.av * q.aj + p.aj * q.av + p.avj * q.a,
        pa * q.mv + p.mv * qa,
        pa * q.mj + p.mj * qa,
        pa * q.mvj + p.mv * q.mj + p.mj * q.mv + p.mvj * qa,
    )


def _chain(p: _Hyper, f0: Any, f1: Any, f2: Any) -> _Hyper:
    """f(p) from f, f' and f'' at p's value."""
    g1, g2 = np.abs(f1), np.abs(f2)
    return _Hyper(
        f0,
        f1 * p.av,
        f1 * p.aj,
        f1 * p.avj + f2 * p.av * p.aj,
        g1 * p.mv,
        g1 * p.mj,
        g1 * p.mvj + g2 * p.mv * p.mj,
    )


def _unary(op: str, p: _Hyper) -> _Hyper:
    a = p.a
    if op == "exp":
        e = np.exp(a)
        return _chain(p, e, e, e)
    if op == "sin":
        return _chain(p, np.sin(a), np.cos(a), -np.sin(a))
    if op == "tanh":
        t = np.tanh(a)
        return _chain(p, t, 1 - t * t, -2 * t * (1 - t * t))
    if op == "log1sq":
        q = _mul(p, p)
        q = q._replace(a=q.a + 1)
        return _chain(q, np.log(q.a), 1 / q.a, -1 / (q.a * q.a))
    if op == "sq":
        return _mul(p, p)
    assert op == "cube"
    return _mul(_mul(p, p), p)


def _node(node: Node, x: Any, v: Any) -> _Hyper:
    d = x.size
    zero = np.zeros((d, d), dtype=_LD)
    if isinstance(node, Var):
        value, along_v, eye = np.broadcast_to(x, (d, d)), np.broadcast_to(v, (d, d)), np.eye(d)
        return _Hyper(value, along_v, eye, zero, np.abs(along_v), eye, zero)
    if isinstance(node, Const):
        return _Hyper(np.broadcast_to(node.value.astype(_LD), (d, d)), *([zero] * 6))
    if isinstance(node, Unary):
        return _unary(node.op, _node(node.a, x, v))
    if isinstance(node, MatVec):
        m = node.matrix.T.astype(_LD)
        p = _node(node.a, x, v)
        return _Hyper(p.a @ m, p.av @ m, p.aj @ m, p.avj @ m, *(t @ np.abs(m) for t in p[4:]))
    assert isinstance(node, Binary)
    p, q = _node(node.a, x, v), _node(node.b, x, v)
    return _add(p, q) if node.op == "add" else _mul(p, q)


def hessian_vector(tree: Tree, v: Any) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """``H(x) v`` at the tree's point in longdouble, and its absolute path sum in float64
    (what the rounding of any evaluation of the second-order chain rule is relative to)."""
    x = np.asarray(tree.x, dtype=_LD)
    vl = np.asarray(v, dtype=_LD)
    a = _node(tree.root.a, x, vl)
    if tree.root.b is not None:
        a = _mul(a, _node(tree.root.b, x, vl))
    hv: np.ndarray[Any, Any] = np.sum(a.avj, axis=-1)
    return hv, np.asarray(np.sum(a.mvj, axis=-1), dtype=np.float64)
