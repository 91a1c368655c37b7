"""gradopt's own parser of formulas: what it builds, what it refuses, and its bounds."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
import sympy as sp

from gradopt import Symbolic
from gradopt.exceptions import InvalidInputError
from gradopt.gradients._expression import FUNCTIONS, MAX_DEPTH, MAX_LENGTH, parse

X, Y = sp.symbols("x y", real=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x - y + 2 - x*y/3", X - Y + 2 - X * Y / 3),
        ("x / y / 2", X / (2 * Y)),
        ("-x**2", -(X**2)),
        ("x**-2 + 2**-1", X**-2 + sp.Rational(1, 2)),
        ("2**3**2", sp.Integer(512)),  # ** is right-associative, as in Python
        ("1/3 + 0.5", sp.Rational(1, 3) + sp.Float(0.5)),
        ("log(x, 2) + log(y)", sp.log(X) / sp.log(2) + sp.log(Y)),
        (
            "atan2(y, x) * Max(x, y, 1) - Min(x, 0)",
            sp.atan2(Y, X) * sp.Max(X, Y, 1) - sp.Min(X, 0),
        ),
        ("pi*E + x", sp.pi * sp.E + X),
        ("+x", X),
        (
            "Piecewise((x, 0 < x <= 1), (y, (x > 1) & ~(y == 2)), (0, not x != 3 or x >= 5), "
            "(1, True))",
            sp.Piecewise(
                (X, sp.And(X > 0, X <= 1)),
                (Y, sp.And(X > 1, sp.Not(sp.Eq(Y, 2)))),
                (0, sp.Or(sp.Eq(X, 3), X >= 5)),
                (1, True),
            ),
        ),
        ("Piecewise((x, x > 0 and (y < 0) | (x < -1)), (0, False), (y, True))", None),
    ],
)
def test_builds_what_sympy_would(text: str, expected: Any) -> None:
    built = parse(text, [X, Y])
    if expected is None:  # just checks that it builds
        assert isinstance(built, sp.Piecewise)
    else:
        assert built == expected


def test_max_of_several_arguments_differentiates() -> None:
    # Heaviside(x0 - Max(x1, x2, x3)) compiles to numpy.heaviside (it took sympy's
    # printer 4 s as a Piecewise).
    names = ["x0", "x1", "x2", "x3"]
    p = Symbolic("Max(x0, x1, x2, x3) + Min(x0, x1, x2, x3)**2", names)
    np.testing.assert_array_equal(p.grad([0.1, 0.4, 0.3, 0.2]), [0.2, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(p.hessp([0.1, 0.4, 0.3, 0.2], [1, 1, 1, 1]), [2, 0, 0, 0])


def test_variables_shadow_constants_and_functions_are_called_by_name() -> None:
    e, sin = sp.symbols("E sin", real=True)
    assert parse("E + sin(sin)", [e, sin]) == e + sp.sin(sin)


def test_unknown_names_are_symbols_for_the_caller_to_report() -> None:
    assert parse("x + a", [X]).free_symbols == {X, sp.Symbol("a", real=True)}


# A sample argument per allowed function, inside its domain (a test fails if a function
# is added to the allow-list without one).
SAMPLES = {
    "acosh": "acosh(x + 2)",
    "atanh": "atanh(x/3)",
    "asin": "asin(x/2)",
    "acos": "acos(x/2)",
    "atan2": "atan2(x, 2 + x**2)",
    "log": "log(x + 2, 3)",
    "Max": "Max(x, 0.2)",
    "Min": "Min(x, 1 - x)",
    "Piecewise": "Piecewise((x**3, x > 0.5), (x**2, True))",
    "Heaviside": "Heaviside(x - 0.1)*x**2",
    "sign": "sign(x)*x**3",
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_allowed_function_compiles_with_gradient_and_hessian(name: str) -> None:
    p = Symbolic(SAMPLES.get(name, f"{name}(x)"), ["x"])
    x, h = 0.3, 1e-5
    fd = (p.value(x + h) - p.value(x - h)) / (2 * h)
    assert p.grad(x) == pytest.approx(fd, rel=1e-7, abs=1e-9)
    fd2 = (p.grad(x + h) - p.grad(x - h)) / (2 * h)
    assert p.hessp(x, 1.0) == pytest.approx(fd2, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("x @ y", "'@' is not allowed"),
        ("x ^ 2", "write powers as \\*\\*"),
        ("x // 2", "'//' is not allowed"),
        ("-~x", "'~' outside a Piecewise condition"),
        ("not x", "'not' outside a Piecewise condition"),
        ("x and y", "'and'/'or' in 'x and y' is not allowed outside a Piecewise"),
        ("(x, y)", "tuple '\\(x, y\\)' is not allowed outside the arguments of Piecewise"),
        ("{x: 1}", "dict"),
        ("{x}", "set '{x}' is not allowed"),
        ("x[1:2]", "subscript"),
        ("None", "constant None is not allowed"),
        ("...", "constant Ellipsis"),
        ("1j", "complex number 1j"),
        ("1e400", "not finite"),
        ("1" * 101, "at most 100 digits"),
        ("exp", "the function 'exp' must be called"),
        ("x(1)", "undefined function 'x'"),
        ("sin()", "sin takes 1 argument\\(s\\); got 0"),
        ("log(x, 2, 3)", "log takes 1 to 2 argument\\(s\\); got 3"),
        ("Max()", "Max takes 1\\+ argument\\(s\\); got 0"),
        ("Max(" + ", ".join(["x"] * 9) + ")", "Max takes at most 8 arguments"),
        (
            "Min(Min(sin(x), cos(x), exp(x), tan(x), sinh(x)), Min(cosh(x), tanh(x), y, x))",
            "nested Min included; .* has 9",
        ),
        ("Piecewise((x, x > 0, 1))", "pairs \\(value, condition\\)"),
        ("Piecewise((x, x))", "a Piecewise condition is a comparison"),
        ("Piecewise((x, x in y))", "only < <= > >= == != compare"),
        ("Piecewise((x, sqrt(-1) < 1))", "TypeError: Invalid comparison"),
        ("(yield x)", "Yield"),
        ("x**(1 + 2*sqrt(-1))", "not a real number"),
        ("x**(10**5)", "at most 10000 in magnitude"),
        ("7**3000", "number too large to compute"),
        ("sqrt(" + "*".join(["10**99"] * 20) + ")", "a number in 'sqrt\\(10\\*\\*99"),
        ("sin(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1), "more than 100 levels"),
        ("-" * 10_000 + "x", "nested too deeply for Python's parser"),
        ("x + " * 30_000 + "x", "longer than"),
        ("1" * 5000, "Exceeds the limit|at most 100 digits"),  # by Python version,
    ],
)
def test_refusals_name_the_construct(text: str, match: str) -> None:
    start = time.perf_counter()
    with pytest.raises(InvalidInputError, match=match):
        parse(text, [X, Y])
    assert time.perf_counter() - start < 1.0


def test_long_sums_parse_fast() -> None:
    # Sums and products are flattened: no deep recursion, one sympy Add.
    text = " + ".join(f"(x{i} - 1)**2" for i in range(2000))
    assert len(text) < MAX_LENGTH
    start = time.perf_counter()
    expr = parse(text, sp.symbols("x0:2000", real=True))
    assert time.perf_counter() - start < 5.0  # about 0.2 s; sympy's parser took 8 s
    assert len(expr.args) == 2000


@pytest.mark.parametrize(
    ("expr", "match"),
    [
        (sp.floor(X), "gradient of the expression cannot be evaluated with numpy"),
        (sp.gamma(X), "gradient .*NameError: name 'polygamma'"),
        (sp.Integral(X * Y, (Y, 0, 1)), "value of the expression cannot be evaluated"),
        (sp.zoo * X, "contains zoo"),
        (sp.nan + X, "contains nan"),
        (sp.I * X, "value of the expression is complex"),
        (2**2000 * X, "constant too large for a float"),
    ],
)
def test_expressions_numpy_cannot_evaluate_fail_at_construction(expr: Any, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        Symbolic(expr, [X])


def test_strings_numpy_cannot_evaluate_fail_at_construction() -> None:
    with pytest.raises(InvalidInputError, match="contains zoo"):
        Symbolic("x + 1/0", ["x"])
    with pytest.raises(InvalidInputError, match="contains nan"):
        Symbolic("x + 0/0", ["x"])
    with pytest.raises(InvalidInputError, match="is complex"):
        Symbolic("x*log(-2)", ["x"])


class _HalfSquare(sp.Function):
    """x**2/2 for numpy, with floor(x) as derivative: the Hessian needs floor's."""

    def fdiff(self, argindex: int = 1) -> Any:
        return sp.floor(self.args[0])

    def _numpycode(self, printer: Any) -> str:
        return f"(0.5*{printer._print(self.args[0])}**2)"


def test_a_hessian_numpy_cannot_evaluate_fails_at_the_first_hessp() -> None:
    p = Symbolic(_HalfSquare(X), [X])
    assert p.grad(2.5) == 2.0  # floor(2.5)
    with pytest.raises(InvalidInputError, match="Hessian of the expression cannot be evaluated"):
        p.hessp(2.5, 1.0)


@pytest.mark.parametrize(
    ("variables", "match"),
    [
        ({"x", "y"}, "ordered sequence \\(a list or tuple\\); got a set, whose order is hash"),
        (frozenset({"x"}), "got a frozenset"),
        ({"x": 1}, "got a dict"),
        ({"x": 1}.keys(), "got a dict_keys"),
        (iter(["x"]), "got list_iterator"),
    ],
)
def test_unordered_variables_are_refused(variables: Any, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        Symbolic("x", variables)


def test_ordered_variables_of_any_sequence_type() -> None:
    for variables in (("x", "y"), ["x", "y"], np.array(["x", "y"]), sp.symbols("x y")):
        assert Symbolic("x - y", variables).grad([1.0, 2.0]).tolist() == [1.0, -1.0]
