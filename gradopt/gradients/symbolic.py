"""Exact derivatives from a formula, with sympy (the ``symbolic`` extra).

The expression is differentiated once, symbolically; value, gradient and Hessian are then
compiled to numpy functions with :func:`sympy.lambdify` (common subexpressions shared), so
each evaluation is as fast as hand-written numpy and exact to rounding.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradopt._typing import ArrayLike, FloatArray, as_scalar_value
from gradopt.exceptions import BackendUnavailableError, InvalidInputError
from gradopt.gradients._base import BaseProvider

__all__ = ["Symbolic"]


def _sympy() -> Any:
    try:
        import sympy
    except ImportError as exc:
        raise BackendUnavailableError(
            "Symbolic needs sympy: pip install 'gradopt[symbolic]'"
        ) from exc
    return sympy


def _symbols(sp: Any, variables: Any) -> list[Any]:
    if isinstance(variables, str | sp.Symbol):
        variables = [variables]
    try:
        items = list(variables)
    except TypeError:
        raise InvalidInputError(
            "variables must be a sequence of sympy Symbols or names; "
            f"got {type(variables).__name__}."
        ) from None
    if not items:
        raise InvalidInputError("variables must name at least one variable.")
    symbols = []
    for item in items:
        if isinstance(item, sp.Symbol):
            symbols.append(sp.Symbol(item.name, real=True))
        elif isinstance(item, str) and item.isidentifier():
            symbols.append(sp.Symbol(item, real=True))
        else:
            raise InvalidInputError(
                f"each variable must be a sympy Symbol or a name (an identifier); got {item!r}."
            )
    names = [s.name for s in symbols]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InvalidInputError(f"variables are listed more than once: {', '.join(repeated)}.")
    return symbols


def _expression(sp: Any, expr: Any, symbols: list[Any]) -> Any:
    """A sympy expression from `expr`; strings are parsed, names resolving to `symbols`.

    The parser evaluates Python: strings with double underscores (the way out of a
    restricted namespace) are refused and builtins are not available. Still, do not parse
    text from untrusted sources.
    """
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    is_text = isinstance(expr, str)
    if is_text and "__" in expr:
        raise InvalidInputError(f"cannot parse {expr!r}: double underscores are not allowed.")
    try:
        if is_text:
            # sympy's public namespace (parse_expr's default, "from sympy import *").
            namespace: dict[str, Any] = {name: getattr(sp, name) for name in sp.__all__}
            namespace["__builtins__"] = {}
            local = {s.name: s for s in symbols}
            parsed = parse_expr(
                expr,
                local_dict=local,
                global_dict=namespace,
                transformations=standard_transformations,
            )
        else:
            parsed = sp.sympify(expr, strict=True)
    except Exception as exc:  # the parser raises many types: SyntaxError, TokenError, ...
        problem = (
            f"cannot parse the expression {expr!r}"
            if is_text
            else f"expr must be a sympy expression or a string; got {type(expr).__name__}"
        )
        raise InvalidInputError(f"{problem}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(parsed, sp.Expr) or parsed.is_Matrix:
        raise InvalidInputError(
            f"expr must be a scalar expression; {expr!r} is a {type(parsed).__name__}."
        )
    return parsed


class Symbolic(BaseProvider):
    """Value, gradient and Hessian-vector product of a sympy expression.

    Parameters
    ----------
    expr : sympy expression or str
        A scalar expression in `variables`, e.g. ``"100*(y - x**2)**2 + (1 - x)**2"``.
        Strings are parsed with ``sympy.parse_expr`` (functions such as ``sin``,
        ``exp``, ``log``, ``sqrt`` are sympy's); do not parse untrusted text.
    variables : sequence of sympy Symbol or str
        The coordinates of ``x``, in order. Every free symbol of `expr` must be listed.
        Variables are real (a symbol is identified by its name, whatever its assumptions),
        so ``Abs`` and ``sign`` differentiate as they should.

    Examples
    --------
    >>> p = Symbolic("100*(y - x**2)**2 + (1 - x)**2", ["x", "y"])
    >>> p.value_and_grad([1.0, 2.0])
    (100.0, array([-400.,  200.]))
    >>> p.hessp([1.0, 2.0], [1.0, 0.0])
    array([ 402., -400.])
    >>> Symbolic("a*x", ["x"])
    Traceback (most recent call last):
    ...
    gradopt.exceptions.InvalidInputError: the expression has free symbols that are not \
variables: a. List them in variables or substitute values (expr.subs(...)).
    """

    def __init__(self, expr: Any, variables: Sequence[Any] | str | Any) -> None:
        sp = _sympy()
        symbols = _symbols(sp, variables)
        expression = _expression(sp, expr, symbols)
        free = {s.name for s in expression.free_symbols} - {s.name for s in symbols}
        if free:
            raise InvalidInputError(
                "the expression has free symbols that are not variables: "
                f"{', '.join(sorted(free))}. List them in variables or substitute values "
                "(expr.subs(...))."
            )
        undefined = sorted({str(f.func) for f in expression.atoms(sp.core.function.AppliedUndef)})
        if undefined:
            raise InvalidInputError(
                f"the expression calls undefined functions: {', '.join(undefined)}. Write "
                "them out with sympy's functions (sin, exp, ...) or substitute them."
            )
        by_name = {s.name: s for s in symbols}
        # Identify symbols by name: the expression's may lack the real assumption.
        expression = expression.xreplace(
            {s: by_name[s.name] for s in expression.free_symbols if s.name in by_name}
        )
        self.expr = expression
        self.variables: tuple[Any, ...] = tuple(symbols)
        self._compiled = _compile(expression, self.variables)
        super().__init__(self._value)

    def __repr__(self) -> str:
        return f"Symbolic({self.expr}, variables={[s.name for s in self.variables]})"

    def _value(self, x: ArrayLike) -> float:
        return as_scalar_value(self._compiled.value(self._coordinates(x)), "the expression")

    def _coordinates(self, x: ArrayLike) -> FloatArray:
        point = np.asarray(x, dtype=np.float64).reshape(-1)
        if point.size != len(self.variables):
            raise InvalidInputError(
                f"x must have one entry per variable ({len(self.variables)}: "
                f"{', '.join(s.name for s in self.variables)}); got {point.size}."
            )
        return point

    def _compute_grad(self, x: FloatArray, f0: float | None) -> tuple[Any, ...]:
        # Value and gradient share their subexpressions: one evaluation of the formula.
        value, *grad = self._compiled.value_and_grad(self._coordinates(x))
        return as_scalar_value(value, "the expression"), _vector(grad, x.size)

    def _compute_hessp(self, x: FloatArray, v: FloatArray) -> FloatArray:
        """Hessian at `x` times `v` (the Hessian is compiled on first use)."""
        rows = self._compiled.hessian()(self._coordinates(x))
        hess = np.array([_vector(row, x.size) for row in rows])
        hv: FloatArray = hess @ v.reshape(-1)
        return hv.reshape(x.shape)


class _Compiled:
    """numpy functions of one expression: built once, shared by equal providers."""

    def __init__(self, expr: Any, variables: tuple[Any, ...]) -> None:
        sp = _sympy()
        self.sp, self.variables = sp, list(variables)
        self.grads = [self.derivative(expr, v) for v in variables]
        self.value = sp.lambdify([self.variables], expr, modules="numpy")
        self.value_and_grad = sp.lambdify(
            [self.variables], [expr, *self.grads], modules="numpy", cse=True
        )
        self._hessian: Callable[..., Any] | None = None

    def derivative(self, expr: Any, v: Any) -> Any:
        """``d expr / d v``, without DiracDelta terms (the derivative of sign, Heaviside
        or Piecewise at a kink): zero away from the kink, as automatic differentiation
        has it, and numpy cannot evaluate them."""
        return self.sp.diff(expr, v).replace(self.sp.DiracDelta, lambda *args: self.sp.S.Zero)

    def hessian(self) -> Callable[..., Any]:
        """The Hessian as a function returning rows, compiled on first use."""
        if self._hessian is None:
            rows = [[self.derivative(g, v) for v in self.variables] for g in self.grads]
            self._hessian = self.sp.lambdify([self.variables], rows, modules="numpy", cse=True)
        return self._hessian


@functools.lru_cache(maxsize=32)
def _compile(expr: Any, variables: tuple[Any, ...]) -> _Compiled:
    # Differentiating is the slow part (about 1 s for Rosenbrock at d = 100): a provider
    # built again from an equal expression reuses the compiled functions.
    return _Compiled(expr, variables)


def _vector(entries: Sequence[Any], d: int) -> FloatArray:
    """Stack lambdified entries (numbers, some of them constant ints) into a float vector."""
    out: FloatArray = np.fromiter((float(e) for e in entries), dtype=np.float64, count=d)
    return out
