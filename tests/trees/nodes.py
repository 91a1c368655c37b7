"""Expression trees: hypothesis strategies, and the tree in each backend's form.

A tree maps ``x`` (shape ``(d,)``) to a vector of length ``d`` through sums, products,
``exp``, ``sin``, ``tanh``, ``log`` of a positive value (``log(1 + a*a)``), integer
powers and products with a constant matrix; its root reduces that vector to a scalar
(``sum(a)`` or ``dot(a, b)``). Every function is smooth on the whole real line, so no
finite-difference step can leave its domain.

Constants are multiples of a power of two (``k / 64``; matrix entries ``k / 2**m``):
exact in binary, so that every backend, sympy's printed code included, computes with the
same numbers and no backend's error comes from reading a constant.

The same tree is realised with a numpy-like namespace (``numpy``, ``autograd.numpy``,
``jax.numpy``: :func:`realise`) or as a sympy expression (:func:`to_sympy`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

__all__ = [
    "UNARY",
    "Binary",
    "Const",
    "MatVec",
    "Node",
    "Root",
    "Tree",
    "Unary",
    "Var",
    "points",
    "realise",
    "to_sympy",
    "trees",
]

#: Elementwise functions and how each backend spells them (``ns`` a numpy-like module).
UNARY: dict[str, Callable[[Any, Any], Any]] = {
    "exp": lambda ns, a: ns.exp(a),
    "sin": lambda ns, a: ns.sin(a),
    "tanh": lambda ns, a: ns.tanh(a),
    "log1sq": lambda ns, a: ns.log(1.0 + a * a),  # log of a positive value
    "sq": lambda ns, a: a**2,
    "cube": lambda ns, a: a**3,
}


class Node:
    """A vector-valued node (length d)."""


@dataclass(frozen=True, eq=False)
class Var(Node):
    def __repr__(self) -> str:
        return "x"


@dataclass(frozen=True, eq=False)
class Const(Node):
    numerators: tuple[int, ...]  # the constant is numerators / 64

    @property
    def value(self) -> np.ndarray[Any, Any]:
        return np.array(self.numerators, dtype=np.float64) / 64.0

    def __repr__(self) -> str:
        return f"c{list(self.numerators)}/64"


@dataclass(frozen=True, eq=False)
class Unary(Node):
    op: str
    a: Node

    def __repr__(self) -> str:
        return f"{self.op}({self.a!r})"


@dataclass(frozen=True, eq=False)
class MatVec(Node):
    numerators: tuple[tuple[int, ...], ...]  # the matrix is numerators / 2**shift
    shift: int
    a: Node

    @property
    def matrix(self) -> np.ndarray[Any, Any]:
        return np.array(self.numerators, dtype=np.float64) / 2.0**self.shift

    def __repr__(self) -> str:
        return f"A@{self.a!r}"


@dataclass(frozen=True, eq=False)
class Binary(Node):
    op: str  # "add" or "mul"
    a: Node
    b: Node

    def __repr__(self) -> str:
        return f"({self.a!r} {'+' if self.op == 'add' else '*'} {self.b!r})"


@dataclass(frozen=True, eq=False)
class Root:
    """The scalar output: ``sum(a)`` (``b`` None) or ``dot(a, b)``."""

    a: Node
    b: Node | None = None

    def __repr__(self) -> str:
        return f"sum({self.a!r})" if self.b is None else f"dot({self.a!r}, {self.b!r})"


@dataclass(frozen=True, eq=False)
class Tree:
    """A root, the dimension, and a point to differentiate at."""

    root: Root
    d: int
    x: np.ndarray[Any, Any] = field(repr=False)

    def __repr__(self) -> str:
        return f"Tree(d={self.d}, f={self.root!r}, x={self.x.tolist()})"


def _integers(draw: Any, low: int, high: int, shape: Any) -> np.ndarray[Any, Any]:
    """Integers in [low, high] from a drawn seed: drawing d*d entries one by one costs
    hypothesis more than the whole test (25 ms at d = 30); a seed shrinks to 0 all the
    same, and 0 gives entries of every sign."""
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).integers(low, high, shape, endpoint=True)


def _node(draw: Any, d: int, depth: int) -> Node:
    kinds = ["var", "const"] + (["unary", "matvec", "binary"] if depth > 0 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "var":
        return Var()
    if kind == "const":
        nums = _integers(draw, -128, 128, d)
        return Const(tuple(nums.tolist()))
    if kind == "unary":
        return Unary(draw(st.sampled_from(sorted(UNARY))), _node(draw, d, depth - 1))
    if kind == "matvec":
        # entries up to 1/sqrt(d) in size, so A @ a stays of the size of a
        shift = 5 + math.ceil(math.log2(math.sqrt(d)))
        rows = _integers(draw, -32, 32, (d, d))
        return MatVec(tuple(map(tuple, rows.tolist())), shift, _node(draw, d, depth - 1))
    op = draw(st.sampled_from(["add", "mul"]))
    return Binary(op, _node(draw, d, depth - 1), _node(draw, d, depth - 1))


def _uses_x(node: Node | None) -> bool:
    if node is None or isinstance(node, Const):
        return False
    if isinstance(node, Var):
        return True
    return any(_uses_x(getattr(node, name, None)) for name in ("a", "b"))


#: Coordinates of the point: 0, or a float of magnitude 1e-20 to 2. Smaller non-zero
#: coordinates make products such as ``x**27`` underflow in float64 but not in the
#: extended-precision reference (whose exponent reaches 1e-4951): the two then differ by
#: amounts no relative error model describes, and no user ever sees (below 1e-200).
coordinate = st.one_of(st.just(0.0), st.floats(1e-20, 2.0), st.floats(-2.0, -1e-20))


def points(d: int) -> Any:
    """A strategy for points of dimension `d`."""
    return arrays(np.float64, d, elements=coordinate)


@st.composite
def trees(draw: Any, max_d: int = 30, max_depth: int = 4) -> Tree:
    """A tree of depth at most `max_depth` in dimension 1..`max_d`, that depends on x,
    with a point to differentiate at."""
    d = draw(st.integers(1, max_d))
    depth = draw(st.integers(1, max_depth))
    a = _node(draw, d, depth)
    b = _node(draw, d, depth) if draw(st.booleans()) else None
    root = Root(a, b)
    if not (_uses_x(a) or _uses_x(b)):
        root = Root(Binary("add", a, Var()), b)  # make it depend on x
    return Tree(root, d, draw(points(d)))


# ------------------------------------------------------------------------ realisations
def _evaluate(node: Node, x: Any, ns: Any) -> Any:
    if isinstance(node, Var):
        return x
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Unary):
        return UNARY[node.op](ns, _evaluate(node.a, x, ns))
    if isinstance(node, MatVec):
        return ns.dot(node.matrix, _evaluate(node.a, x, ns))
    assert isinstance(node, Binary)
    a, b = _evaluate(node.a, x, ns), _evaluate(node.b, x, ns)
    return a + b if node.op == "add" else a * b


def realise(root: Root, ns: Any) -> Callable[[Any], Any]:
    """``f(x)`` written with the numpy-like module `ns` (numpy, autograd.numpy, jax.numpy)."""

    def f(x: Any) -> Any:
        a = _evaluate(root.a, x, ns)
        if root.b is None:
            return ns.sum(a)
        return ns.dot(a, _evaluate(root.b, x, ns))

    f.__name__ = f"tree_{ns.__name__.replace('.', '_')}"
    return f


def _sympy_node(node: Node, xs: list[Any], sp: Any) -> list[Any]:
    if isinstance(node, Var):
        return list(xs)
    if isinstance(node, Const):
        return [sp.Rational(k, 64) for k in node.numerators]
    if isinstance(node, Unary):
        a = _sympy_node(node.a, xs, sp)
        spell = {
            "exp": sp.exp,
            "sin": sp.sin,
            "tanh": sp.tanh,
            "log1sq": lambda e: sp.log(1 + e * e),
            "sq": lambda e: e**2,
            "cube": lambda e: e**3,
        }[node.op]
        return [spell(e) for e in a]
    if isinstance(node, MatVec):
        a = _sympy_node(node.a, xs, sp)
        scale = Fraction(1, 2**node.shift)
        return [
            sp.Add(*(sp.Rational(k * scale) * e for k, e in zip(row, a, strict=True)))
            for row in node.numerators
        ]
    assert isinstance(node, Binary)
    a, b = _sympy_node(node.a, xs, sp), _sympy_node(node.b, xs, sp)
    pairs = zip(a, b, strict=True)
    return [p + q for p, q in pairs] if node.op == "add" else [p * q for p, q in pairs]


def to_sympy(root: Root, d: int) -> tuple[Any, list[Any]]:
    """The tree as a scalar sympy expression in the variables ``x0 .. x{d-1}``."""
    import sympy as sp

    xs = list(sp.symbols(f"x0:{d}", real=True))
    a = _sympy_node(root.a, xs, sp)
    if root.b is None:
        return sp.Add(*a), xs
    b = _sympy_node(root.b, xs, sp)
    return sp.Add(*(p * q for p, q in zip(a, b, strict=True))), xs
