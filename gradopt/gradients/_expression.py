"""Formulas as text to sympy expressions, without running any code.

sympy's own parser (``sympify``, ``parse_expr``) evaluates the text as Python: whatever a
filter lets through runs. Here the text is only parsed by :func:`ast.parse` (which builds a
syntax tree and executes nothing), every node of the tree is checked against an allow-list,
and the sympy expression is built from the tree by this module: numbers, the declared
variables, the constants ``pi`` and ``E``, ``+ - * / **``, calls of the functions in
:data:`FUNCTIONS` by name, and comparisons, ``and``/``or``/``not`` as conditions of
``Piecewise``. Anything else (attributes, subscripts, strings, lambdas, comprehensions,
keyword arguments, unknown functions) is refused with the construct named.

The work a parse may do is bounded, so that no string hangs the process: the text length,
the nesting depth, integer literals, constant exponents and the size of the exact numbers
that sympy would compute (``9**9**9**9``) are all limited before sympy sees them.
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

from gradopt.exceptions import InvalidInputError

__all__ = ["CONSTANTS", "FUNCTIONS", "parse"]

MAX_LENGTH = 100_000
"""Longest text accepted (longer formulas: build them with sympy and pass the expression)."""
MAX_DEPTH = 100
"""Deepest nesting of calls, powers and parentheses (sums and products are flattened)."""
MAX_LITERAL_DIGITS = 100
"""Most digits in an integer literal."""
MAX_EXPONENT = 10_000
"""Largest magnitude of a constant exponent."""
MAX_NUMBER_BITS = 4_000
"""Largest exact number (about 1,200 digits) a power or a function may be given or give."""
MAX_MINMAX_ARGS = 8
"""Most arguments of one Max or Min, nested ones flattened as sympy does (the derivatives
of a Max of 16 take sympy half a minute to compile)."""

#: Functions a formula may call, with their number of arguments (min, max; None: any).
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    **dict.fromkeys(["sin", "cos", "tan", "cot", "sec", "csc"], (1, 1)),
    **dict.fromkeys(["asin", "acos", "atan", "acot"], (1, 1)),
    **dict.fromkeys(["sinh", "cosh", "tanh", "asinh", "acosh", "atanh"], (1, 1)),
    **dict.fromkeys(["exp", "sqrt", "cbrt", "Abs", "sign", "Heaviside"], (1, 1)),
    "log": (1, 2),  # log(x) or log(x, base)
    "atan2": (2, 2),
    "Max": (1, None),
    "Min": (1, None),
    "Piecewise": (1, None),  # Piecewise((value, condition), ..., (value, True))
}
#: Constant names a formula may use (a variable of the same name takes precedence).
CONSTANTS = ("pi", "E")

_OPERATORS: dict[type[ast.AST], str] = {
    ast.Mod: "'%'",
    ast.FloorDiv: "'//'",
    ast.MatMult: "'@'",
    ast.BitXor: "'^' (write powers as **)",
    ast.BitAnd: "'&' outside a Piecewise condition",
    ast.BitOr: "'|' outside a Piecewise condition",
    ast.LShift: "'<<'",
    ast.RShift: "'>>'",
    ast.Invert: "'~' outside a Piecewise condition",
    ast.Not: "'not' outside a Piecewise condition",
}
_NOT_ALLOWED = "'{src}' is not allowed"
_CONSTRUCTS: dict[type[ast.AST], str] = {
    ast.Subscript: "subscript " + _NOT_ALLOWED,
    ast.Lambda: "lambda " + _NOT_ALLOWED,
    ast.ListComp: "list comprehension " + _NOT_ALLOWED,
    ast.SetComp: "set comprehension " + _NOT_ALLOWED,
    ast.DictComp: "dict comprehension " + _NOT_ALLOWED,
    ast.GeneratorExp: "generator expression " + _NOT_ALLOWED,
    ast.NamedExpr: "assignment expression " + _NOT_ALLOWED,
    ast.JoinedStr: "f-string " + _NOT_ALLOWED,
    ast.IfExp: "conditional expression " + _NOT_ALLOWED + " (write Piecewise((a, c), (b, True)))",
    ast.Compare: "comparison " + _NOT_ALLOWED + " outside a Piecewise condition",
    ast.BoolOp: "'and'/'or' in " + _NOT_ALLOWED + " outside a Piecewise condition",
    ast.Tuple: "tuple " + _NOT_ALLOWED + " outside the arguments of Piecewise",
    ast.List: "list " + _NOT_ALLOWED,
    ast.Set: "set " + _NOT_ALLOWED,
    ast.Dict: "dict " + _NOT_ALLOWED,
    ast.Starred: "argument unpacking " + _NOT_ALLOWED,
}


class _Refused(Exception):
    """A construct the allow-list refuses (turned into InvalidInputError by :func:`parse`)."""


def parse(text: str, variables: Sequence[Any]) -> Any:
    """The sympy expression written in `text`; `variables` are sympy Symbols.

    Names that are neither variables nor constants become real Symbols (the caller reports
    them as free symbols). Raises InvalidInputError naming what is refused.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x", real=True)
    >>> parse("2*sin(x)**2 + x/3", [x])
    x/3 + 2*sin(x)**2
    >>> parse("x.__class__", [x])
    Traceback (most recent call last):
    ...
    gradopt.exceptions.InvalidInputError: cannot parse the expression 'x.__class__': \
attribute access '.__class__' is not allowed.
    """
    shown = repr(text) if len(text) <= 80 else repr(text[:77]) + "..."
    try:
        if len(text) > MAX_LENGTH:
            raise _Refused(
                f"it is longer than {MAX_LENGTH} characters; build long formulas with sympy "
                "and pass the expression"
            )
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except (SyntaxError, ValueError) as exc:
            raise _Refused(f"{type(exc).__name__}: {exc}") from None
        except (MemoryError, RecursionError):  # Python's parser refuses deep trees
            raise _Refused(
                "it is nested too deeply for Python's parser (a chain of a few thousand "
                "terms is, too); build long formulas with sympy and pass the expression"
            ) from None
        return _Builder(text.strip(), variables).expr(tree.body, 0)
    except _Refused as exc:
        raise InvalidInputError(f"cannot parse the expression {shown}: {exc}.") from None


@functools.cache
def _sympy_functions() -> dict[str, Callable[..., Any]]:
    import sympy

    return {name: getattr(sympy, name) for name in FUNCTIONS}


class _Builder:
    """Builds sympy objects from an AST, refusing every node outside the allow-list."""

    def __init__(self, text: str, variables: Sequence[Any]) -> None:
        import sympy

        self.sp, self.text = sympy, text
        self.names = {name: getattr(sympy, name) for name in CONSTANTS}
        self.names.update((str(v.name), v) for v in variables)

    def source(self, node: ast.AST) -> str:
        text = ast.get_source_segment(self.text, node) or type(node).__name__
        return text if len(text) <= 60 else text[:57] + "..."

    def refuse(self, node: ast.AST) -> _Refused:
        if isinstance(node, ast.Attribute):
            return _Refused(f"attribute access '.{node.attr}' is not allowed")
        if isinstance(node, ast.UnaryOp | ast.BinOp):
            what = _OPERATORS.get(type(node.op), f"operator {type(node.op).__name__}")
            return _Refused(f"{what} is not allowed (in '{self.source(node)}')")
        if isinstance(node, ast.Constant):
            kind = "string literal" if isinstance(node.value, str | bytes) else "constant"
            return _Refused(f"{kind} {node.value!r} is not allowed")
        template = _CONSTRUCTS.get(type(node), type(node).__name__ + " " + _NOT_ALLOWED)
        return _Refused(template.format(src=self.source(node)))

    def build(self, node: ast.AST, make: Callable[..., Any], *args: Any) -> Any:
        """``make(*args)``; sympy's complaints (wrong arguments, non-real comparisons)
        are refusals naming the node."""
        try:
            return make(*args)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise _Refused(f"'{self.source(node)}': {type(exc).__name__}: {exc}") from None

    def expr(self, node: ast.AST, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _Refused(f"it is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            if node.id in FUNCTIONS:
                raise _Refused(f"the function '{node.id}' must be called, as {node.id}(...)")
            return self.sp.Symbol(node.id, real=True)  # reported by the caller as free
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operand = self.expr(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            terms = [self.term(n, depth, sign) for n, sign in self.chain(node, ast.Add)]
            return self.build(node, self.sp.Add, *terms)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Div):
            factors = [self.factor(n, depth, sign) for n, sign in self.chain(node, ast.Mult)]
            return self.build(node, self.sp.Mul, *factors)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            base, exponent = self.expr(node.left, depth + 1), self.expr(node.right, depth + 1)
            return self.power(node, base, exponent)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise self.refuse(node)

    def chain(self, node: ast.BinOp, plus: type[ast.operator]) -> list[tuple[ast.AST, int]]:
        """Operands of a left-nested chain of + and - (or * and /), with their signs
        (exponents): ``a - b + c`` is [(a, 1), (b, -1), (c, 1)]. Iterative, so that a long
        sum neither recurses deeply nor makes sympy re-flatten it at every term."""
        minus = ast.Sub if plus is ast.Add else ast.Div
        out: list[tuple[ast.AST, int]] = []
        current: ast.AST = node
        while isinstance(current, ast.BinOp) and isinstance(current.op, plus | minus):
            out.append((current.right, 1 if isinstance(current.op, plus) else -1))
            current = current.left
        out.append((current, 1))
        return out[::-1]

    def term(self, node: ast.AST, depth: int, sign: int) -> Any:
        value = self.expr(node, depth + 1)
        return value if sign == 1 else -value

    def factor(self, node: ast.AST, depth: int, exponent: int) -> Any:
        value = self.expr(node, depth + 1)
        return value if exponent == 1 else self.power(node, value, self.sp.Integer(-1))

    def number(self, node: ast.Constant) -> Any:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            if isinstance(value, complex):
                raise _Refused(f"complex number {value!r} is not allowed")
            raise self.refuse(node)
        if isinstance(value, int):
            if value >= 10**MAX_LITERAL_DIGITS:
                raise _Refused(f"integer literals have at most {MAX_LITERAL_DIGITS} digits")
            return self.sp.Integer(value)
        if not math.isfinite(value):
            raise _Refused(f"the number '{self.source(node)}' is not finite")
        return self.sp.Float(value)

    def power(self, node: ast.AST, base: Any, exponent: Any) -> Any:
        """``base**exponent``, refused before sympy computes an exact number too large."""
        if exponent.is_number:
            size = _magnitude(exponent)
            if size is None or size > MAX_EXPONENT:
                raise _Refused(
                    f"the exponent in '{self.source(node)}' is not a real number of at "
                    f"most {MAX_EXPONENT} in magnitude"
                )
            exact = base.is_number and exponent.is_Rational
            if exact and _bits(base) * max(1.0, size) > MAX_NUMBER_BITS:
                raise _Refused(
                    f"'{self.source(node)}' is a number too large to compute "
                    f"(more than about {int(MAX_NUMBER_BITS * math.log10(2))} digits)"
                )
        return self.build(node, self.sp.Pow, base, exponent)

    def call(self, node: ast.Call, depth: int) -> Any:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if isinstance(node.func, ast.Attribute):
            raise self.refuse(node.func)
        if name is None:
            raise _Refused(
                f"calling '{self.source(node.func)}' is not allowed: only the allowed "
                "functions, called by name"
            )
        if name not in FUNCTIONS:
            raise _Refused(
                f"undefined function '{name}' (the functions allowed are "
                f"{', '.join(sorted(FUNCTIONS))})"
            )
        if node.keywords:
            keyword = node.keywords[0].arg
            what = f"keyword argument '{keyword}='" if keyword else "argument unpacking '**'"
            raise _Refused(f"{what} is not allowed (in '{self.source(node)}')")
        low, high = FUNCTIONS[name]
        if not low <= len(node.args) <= (high if high is not None else len(node.args)):
            count = str(low) if low == high else f"{low} to {high}" if high else f"{low}+"
            raise _Refused(f"{name} takes {count} argument(s); got {len(node.args)}")
        if name == "Piecewise":
            pieces = [self.piece(arg, depth + 1) for arg in node.args]
            return self.build(node, _sympy_functions()[name], *pieces)
        args = [self.expr(arg, depth + 1) for arg in node.args]
        self.check_arguments(node, name, args)
        return self.build(node, _sympy_functions()[name], *args)

    def check_arguments(self, node: ast.AST, name: str, args: list[Any]) -> None:
        """Refuse what would make sympy work too long: number theory on huge numbers
        (roots, logarithms), and a Max or Min of many arguments."""
        if any(_bits(a, max) > MAX_NUMBER_BITS for a in args):
            raise _Refused(f"a number in '{self.source(node)}' is too large")
        if name in ("Max", "Min"):
            kind = _sympy_functions()[name]
            flat = sum(len(a.args) if a.func == kind else 1 for a in args)
            if flat > MAX_MINMAX_ARGS:
                raise _Refused(
                    f"{name} takes at most {MAX_MINMAX_ARGS} arguments, nested {name} "
                    f"included; '{self.source(node)}' has {flat}"
                )

    def piece(self, node: ast.AST, depth: int) -> tuple[Any, Any]:
        if not (isinstance(node, ast.Tuple) and len(node.elts) == 2):
            raise _Refused(f"Piecewise takes pairs (value, condition); got '{self.source(node)}'")
        return self.expr(node.elts[0], depth + 1), self.condition(node.elts[1], depth + 1)

    def condition(self, node: ast.AST, depth: int) -> Any:
        sp = self.sp
        if depth > MAX_DEPTH:
            raise _Refused(f"it is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return sp.true if node.value else sp.false
        if isinstance(node, ast.Compare):
            relations = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge}
            relations |= {ast.Eq: sp.Eq, ast.NotEq: sp.Ne}
            sides = [self.expr(n, depth + 1) for n in (node.left, *node.comparators)]
            parts = []
            for op, left, right in zip(node.ops, sides, sides[1:], strict=False):
                if type(op) not in relations:
                    raise _Refused(f"'{self.source(node)}': only < <= > >= == != compare")
                parts.append(self.build(node, relations[type(op)], left, right))
            return self.build(node, sp.And, *parts)
        if isinstance(node, ast.BoolOp):
            combine = sp.And if isinstance(node.op, ast.And) else sp.Or
            operands = [self.condition(n, depth + 1) for n in node.values]
            return self.build(node, combine, *operands)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd | ast.BitOr):
            combine = sp.And if isinstance(node.op, ast.BitAnd) else sp.Or
            operands = [self.condition(n, depth + 1) for n in (node.left, node.right)]
            return self.build(node, combine, *operands)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.Invert):
            return self.build(node, sp.Not, self.condition(node.operand, depth + 1))
        raise _Refused(
            f"a Piecewise condition is a comparison, combined with and/or/not; got "
            f"'{self.source(node)}'"
        )


def _magnitude(number: Any) -> float | None:
    """|number| for a real sympy number, None when it is not real or not finite."""
    try:
        value = complex(number)
    except (TypeError, ValueError, OverflowError):
        return None
    return abs(value.real) if value.imag == 0 and math.isfinite(value.real) else None


def _bits(expr: Any, combine: Callable[[list[float]], float] = sum) -> float:
    """Bits of the exact integers and fractions in `expr`: their total bounds what powering
    a constant costs (its n-th power has at most n times as many), their largest what
    sympy's number theory on one of them (roots, logarithms) costs."""
    import sympy

    sizes = [
        math.log2(abs(int(r.p)) or 1) + math.log2(int(r.q)) for r in expr.atoms(sympy.Rational)
    ]
    return combine(sizes or [0.0])
