"""Exact derivatives from a formula, with sympy (the ``symbolic`` extra).

The expression is differentiated once, symbolically; value, gradient and Hessian are then
compiled to numpy functions with :func:`sympy.lambdify` (common subexpressions shared), so
each evaluation is as fast as hand-written numpy and exact to rounding.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from numbers import Integral, Real
from typing import Any

import numpy as np

from gradopt._typing import ArrayLike, FloatArray, as_scalar_value
from gradopt.exceptions import BackendUnavailableError, InvalidInputError, MissingCapabilityError
from gradopt.gradients._base import BaseProvider
from gradopt.gradients._expression import parse

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
    if isinstance(variables, AbstractSet | Mapping):
        raise InvalidInputError(
            f"variables must be an ordered sequence (a list or tuple); got a "
            f"{type(variables).__name__}, whose order is hash order, so the coordinates of "
            "x would change from run to run. Pass e.g. sorted(variables, key=str)."
        )
    if not isinstance(variables, Sequence | np.ndarray):
        raise InvalidInputError(
            "variables must be an ordered sequence (a list or tuple) of sympy Symbols or "
            f"names; got {type(variables).__name__}."
        )
    items = list(np.ravel(variables) if isinstance(variables, np.ndarray) else variables)
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
    """A sympy expression from `expr`: a sympy object as it is, a real number as a
    constant, a string through gradopt's own parser (which runs no code)."""
    if isinstance(expr, str):
        parsed = parse(expr, symbols)
    elif isinstance(expr, sp.Basic | sp.MatrixBase):
        parsed = expr
    elif type(expr) is not bool and isinstance(expr, Real) and math.isfinite(expr):
        parsed = sp.Integer(int(expr)) if isinstance(expr, Integral) else sp.Float(float(expr))
    else:
        raise InvalidInputError(
            "expr must be a sympy expression, a string or a finite number; got "
            f"{type(expr).__name__} {expr!r}."
        )
    if not isinstance(parsed, sp.Expr) or parsed.is_Matrix:
        raise InvalidInputError(
            f"expr must be a scalar expression; {expr!r} is a {type(parsed).__name__}."
        )
    undefined = parsed.atoms(sp.zoo, sp.nan)
    if undefined:
        raise InvalidInputError(
            f"the expression contains {', '.join(sorted(map(str, undefined)))} (an undefined "
            "value, e.g. from 1/0 or log(0)): numpy cannot evaluate it."
        )
    return parsed


class Symbolic(BaseProvider):
    """Value, gradient and Hessian-vector product of a sympy expression (or the outputs
    and Jacobian of a list of them).

    Parameters
    ----------
    expr : sympy expression or str, or a list of them
        A scalar expression in `variables`, e.g. ``"100*(y - x**2)**2 + (1 - x)**2"``.
        A string is parsed by gradopt, never run as Python: it may hold numbers, the
        variables, ``pi`` and ``E``, ``+ - * / **``, and calls of ``sin cos tan cot sec
        csc asin acos atan acot atan2 sinh cosh tanh asinh acosh atanh exp log sqrt cbrt
        Abs sign Heaviside Max Min Piecewise`` (comparisons and ``and``/``or``/``not``
        only as ``Piecewise`` conditions). Anything else, and numbers too large to compute
        quickly (``9**9**9**9``), is an InvalidInputError naming the construct, so a
        string from an untrusted source cannot run code. For other sympy functions, pass
        a sympy expression. A list (tuple, or sympy column or row Matrix) of expressions
        is a vector-valued function: :meth:`jacobian` differentiates each, compiled with
        the outputs.
    variables : sequence of sympy Symbol or str
        The coordinates of ``x``, in order: a list or tuple (a set is refused, its order
        changes from run to run). Every free symbol of `expr` must be listed. Variables
        are real (a symbol is identified by its name, whatever its assumptions), so
        ``Abs`` and ``sign`` differentiate as they should.

    Raises
    ------
    InvalidInputError
        When the string is refused, a free symbol is not a variable, or the value, the
        gradient (or, at the first ``hessp``, the Hessian) cannot be evaluated with numpy
        (e.g. ``floor``, ``gamma``, ``Integral``, ``zoo``).

    Examples
    --------
    >>> p = Symbolic("100*(y - x**2)**2 + (1 - x)**2", ["x", "y"])
    >>> p.value_and_grad([1.0, 2.0])
    (100.0, array([-400.,  200.]))
    >>> p.hessp([1.0, 2.0], [1.0, 0.0])
    array([ 402., -400.])
    >>> Symbolic(["10*(y - x**2)", "1 - x"], ["x", "y"]).jacobian([1.0, 2.0])
    array([[-20.,  10.],
           [ -1.,   0.]])
    >>> Symbolic("a*x", ["x"])
    Traceback (most recent call last):
    ...
    gradopt.exceptions.InvalidInputError: the expression has free symbols that are not \
variables: a. List them in variables or substitute values (expr.subs(...)).
    >>> Symbolic("x.__class__", ["x"])
    Traceback (most recent call last):
    ...
    gradopt.exceptions.InvalidInputError: cannot parse the expression 'x.__class__': \
attribute access '.__class__' is not allowed.
    """

    def __init__(self, expr: Any, variables: Sequence[Any] | str | Any) -> None:
        sp = _sympy()
        symbols = _symbols(sp, variables)
        self.variables: tuple[Any, ...] = tuple(symbols)
        if isinstance(expr, list | tuple | sp.MatrixBase):  # a vector-valued function
            if isinstance(expr, sp.MatrixBase) and min(expr.shape) > 1:
                raise InvalidInputError(
                    "expr must be a scalar expression or a list of them (a vector); got a "
                    f"{expr.shape[0]}x{expr.shape[1]} Matrix."
                )
            items = list(expr)
            if not items:
                raise InvalidInputError("expr must hold at least one expression; got none.")
            self.expr: Any = tuple(_prepared(sp, e, symbols) for e in items)
            self._jac = _compile_vector(self.expr, self.variables)
        else:
            self.expr = _prepared(sp, expr, symbols)
            self._compiled = _compile(self.expr, self.variables)
        super().__init__(self._value)

    def __repr__(self) -> str:
        expr = list(self.expr) if isinstance(self.expr, tuple) else self.expr
        return f"Symbolic({expr}, variables={[s.name for s in self.variables]})"

    @property
    def has_hessp(self) -> bool:
        """Whether :meth:`hessp` is available: for a single expression."""
        return not isinstance(self.expr, tuple)

    def _value(self, x: ArrayLike) -> Any:
        if isinstance(self.expr, tuple):
            return np.array(self._jac.value(self._coordinates(x)), dtype=np.float64)
        return as_scalar_value(self._compiled.value(self._coordinates(x)), "the expression")

    def _compute_jacobian(self, x: FloatArray, f0: Any) -> tuple[Any, Any]:
        if not isinstance(self.expr, tuple):  # a single expression: its gradient as a row
            value, grad = self._compute_grad(x, None)
            return np.array([value]), grad.reshape(1, -1)
        values, *entries = self._jac.value_and_jacobian(self._coordinates(x))
        m, d = len(self.expr), x.size
        jac = _vector(entries, m * d).reshape(m, d)
        return np.array(values, dtype=np.float64).reshape(-1), jac

    def _coordinates(self, x: ArrayLike) -> FloatArray:
        point = np.asarray(x, dtype=np.float64).reshape(-1)
        if point.size != len(self.variables):
            raise InvalidInputError(
                f"x must have one entry per variable ({len(self.variables)}: "
                f"{', '.join(s.name for s in self.variables)}); got {point.size}."
            )
        return point

    def _compute_grad(self, x: FloatArray, f0: float | None) -> tuple[Any, ...]:
        if isinstance(self.expr, tuple):
            raise MissingCapabilityError(
                f"{self!r} has {len(self.expr)} expressions: a vector-valued function has a "
                "Jacobian (jacobian(x)), not a gradient."
            )
        # Value and gradient share their subexpressions: one evaluation of the formula.
        value, *grad = self._compiled.value_and_grad(self._coordinates(x))
        return as_scalar_value(value, "the expression"), _vector(grad, x.size)

    def _compute_hessp(self, x: FloatArray, v: FloatArray) -> FloatArray:
        """Hessian at `x` times `v` (the Hessian is compiled on first use)."""
        rows = self._compiled.hessian()(self._coordinates(x))
        hess = np.array([_vector(row, x.size) for row in rows])
        hv: FloatArray = hess @ v.reshape(-1)
        return hv.reshape(x.shape)


def _prepared(sp: Any, expr: Any, symbols: list[Any]) -> Any:
    """`expr` checked (its free symbols are variables, its functions known) and written in
    the variables' symbols."""
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
    return expression.xreplace(
        {s: by_name[s.name] for s in expression.free_symbols if s.name in by_name}
    )


class _Lambdified:
    """Compiling expressions in `variables` to numpy functions.

    Each function is compiled by :func:`sympy.lambdify` (from the expression tree, never
    from the user's text) and run once at a test point, so that a function numpy does not
    have (``floor``'s derivative, ``gamma``'s ``polygamma``, ``Integral``, ...) is an
    InvalidInputError when the provider is built, not a NameError at the first use.
    """

    def __init__(self, variables: tuple[Any, ...]) -> None:
        self.sp, self.variables = _sympy(), list(variables)

    def derivative(self, expr: Any, v: Any) -> Any:
        """``d expr / d v``, without DiracDelta terms (the derivative of sign, Heaviside
        or Piecewise at a kink): zero away from the kink, as automatic differentiation
        has it, and numpy cannot evaluate them."""
        return self.sp.diff(expr, v).replace(self.sp.DiracDelta, lambda *args: self.sp.S.Zero)

    def common_subexpressions(self, exprs: Any) -> Any:
        """:func:`sympy.cse` with temporaries named apart from the variables: sympy < 1.13
        named them x0, x1, ... whatever the variables were, so a variable x0 was
        overwritten in the generated code and Rosenbrock in x0..x19 came out wrong."""
        prefix = "cse"
        while any(v.name.startswith(prefix) for v in self.variables):
            prefix = "_" + prefix
        return self.sp.cse(exprs, symbols=self.sp.numbered_symbols(prefix), list=False)

    def checked(self, what: str, exprs: Any, cse: bool = False) -> Callable[..., Any]:
        """`exprs` compiled, after one evaluation at a test point (any values, NaN
        included, are fine there: only failing to run, or a complex result, is refused)."""
        point = np.linspace(0.3, 0.7, len(self.variables))
        try:
            fun: Callable[..., Any] = self.sp.lambdify(
                [self.variables],
                exprs,
                modules=[_NUMPY_EXTRAS, "numpy"],
                cse=self.common_subexpressions if cse else False,
            )
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                result = fun(point)
        except Exception as exc:  # the printer and numpy raise many types
            raise InvalidInputError(
                f"the {what} of the expression cannot be evaluated with numpy "
                f"({type(exc).__name__}: {exc}): it uses a function numpy does not have "
                "(e.g. the derivative of floor, gamma, Integral) or a constant too large "
                "for a float."
            ) from exc
        if any(np.iscomplexobj(r) for r in np.ravel(np.asarray(result, dtype=object))):
            raise InvalidInputError(
                f"the {what} of the expression is complex (it contains I, e.g. from "
                "sqrt or log of a negative constant); Symbolic needs a real function."
            )
        return _quiet(fun)


def _quiet(fun: Callable[..., Any]) -> Callable[..., Any]:
    """`fun` without numpy's floating-point warnings: a NaN or infinity outside the
    expression's domain (``log`` at a negative trial point) is a value, which an optimizer
    judges and reports (status ``NON_FINITE``), not a warning from code gradopt wrote."""

    @functools.wraps(fun)
    def quiet(*args: Any) -> Any:
        with np.errstate(all="ignore"):
            return fun(*args)

    return quiet


class _Compiled(_Lambdified):
    """numpy functions of one expression: built once, shared by equal providers."""

    def __init__(self, expr: Any, variables: tuple[Any, ...]) -> None:
        super().__init__(variables)
        self.grads = [self.derivative(expr, v) for v in variables]
        self.value = self.checked("value", expr)
        self.value_and_grad = self.checked("gradient", [expr, *self.grads], cse=True)
        self._hessian: Callable[..., Any] | None = None

    def hessian(self) -> Callable[..., Any]:
        """The Hessian as a function returning rows, compiled on first use."""
        if self._hessian is None:
            rows = [[self.derivative(g, v) for v in self.variables] for g in self.grads]
            self._hessian = self.checked("Hessian", rows, cse=True)
        return self._hessian


def _heaviside(x: Any, h0: Any = 0.5) -> Any:
    return np.heaviside(x, h0)


# numpy implementations lambdify would otherwise rewrite: printed as a Piecewise whose
# conditions sympy simplifies, Heaviside(x - Max(y, z, w)) (the derivative of a Max of 4)
# took 4 s to compile, 0.05 s this way.
_NUMPY_EXTRAS = {"Heaviside": _heaviside}


@functools.lru_cache(maxsize=32)
def _compile(expr: Any, variables: tuple[Any, ...]) -> _Compiled:
    # Differentiating is the slow part (about 1 s for Rosenbrock at d = 100): a provider
    # built again from an equal expression reuses the compiled functions.
    return _Compiled(expr, variables)


class _CompiledVector(_Lambdified):
    """numpy functions of a list of expressions: the outputs, and outputs and Jacobian."""

    def __init__(self, exprs: tuple[Any, ...], variables: tuple[Any, ...]) -> None:
        super().__init__(variables)
        entries = [self.derivative(e, v) for e in exprs for v in variables]
        self.value = self.checked("value", list(exprs))
        self.value_and_jacobian = self.checked("Jacobian", [list(exprs), *entries], cse=True)


@functools.lru_cache(maxsize=32)
def _compile_vector(exprs: tuple[Any, ...], variables: tuple[Any, ...]) -> _CompiledVector:
    return _CompiledVector(exprs, variables)


def _vector(entries: Sequence[Any], d: int) -> FloatArray:
    """Stack lambdified entries (numbers, some of them constant ints) into a float vector."""
    out: FloatArray = np.fromiter((float(e) for e in entries), dtype=np.float64, count=d)
    return out
