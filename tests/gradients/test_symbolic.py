"""Symbolic: exact value, gradient and Hessian-vector product from a sympy expression."""

from __future__ import annotations

import builtins
import sys
from typing import Any

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import rosen, rosen_der, rosen_hess_prod

from gradopt import Symbolic
from gradopt.exceptions import BackendUnavailableError, InvalidInputError
from gradopt.gradients import GradientProvider, hessp_of

EPS = float(np.finfo(np.float64).eps)


def _rosen_expr(d: int) -> tuple[Any, tuple[Any, ...]]:
    x = sp.symbols(f"x0:{d}")
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(d - 1)), x


def test_rosen_exact_to_rounding_with_counts() -> None:
    expr, xs = _rosen_expr(20)
    p = Symbolic(expr, xs)
    assert isinstance(p, GradientProvider)
    x = np.random.default_rng(1).uniform(-2, 2, 20)
    f, g = p.value_and_grad(x)
    assert f == pytest.approx(rosen(x), rel=10 * EPS)
    np.testing.assert_allclose(g, rosen_der(x), rtol=0, atol=10 * EPS * np.max(np.abs(g)))
    assert (p.nfev, p.ngev) == (1, 1)  # value and gradient come from one compiled formula
    assert p.value(x) == f and p.nfev == 1  # cached
    v = np.linspace(-1, 1, 20)
    hessp = hessp_of(p)
    assert hessp is not None
    hv = hessp(x, v)
    np.testing.assert_allclose(hv, rosen_hess_prod(x, v), rtol=0, atol=1e-12 * np.abs(hv).max())
    assert p.nhev == 1


def test_string_with_names_and_scalar_x() -> None:
    p = Symbolic("exp(t) * sin(t)", ["t"])
    t = 0.7
    assert p.value(t) == pytest.approx(np.exp(t) * np.sin(t), rel=2 * EPS)
    g = p.grad(t)
    assert np.shape(g) == ()
    assert g == pytest.approx(np.exp(t) * (np.sin(t) + np.cos(t)), rel=4 * EPS)
    assert p.hessp(t, 2.0) == pytest.approx(2 * 2 * np.exp(t) * np.cos(t), rel=8 * EPS)


def test_variables_not_in_the_expression_have_zero_derivative() -> None:
    p = Symbolic("x**2", ["x", "y"])
    np.testing.assert_array_equal(p.grad([3.0, 5.0]), [6.0, 0.0])
    np.testing.assert_array_equal(p.hessp([3.0, 5.0], [1.0, 1.0]), [2.0, 0.0])


def test_free_symbols_not_listed_are_named() -> None:
    a, b, x = sp.symbols("a b x")
    with pytest.raises(InvalidInputError, match=r"not variables: a, b\."):
        Symbolic(a * x + b, [x])
    with pytest.raises(InvalidInputError, match="not variables: y"):
        Symbolic("x + y", ["x"])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("x +* 2", "cannot parse the expression 'x \\+\\* 2': SyntaxError"),
        ("sin(x", "cannot parse the expression 'sin\\(x': SyntaxError"),
        ("x.__class__", "attribute access '.__class__' is not allowed"),
        ("x > 1", "comparison 'x > 1' is not allowed outside a Piecewise condition"),
        ("[x, 1]", "list '\\[x, 1\\]' is not allowed"),
    ],
)
def test_unparsable_strings_are_named(text: str, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        Symbolic(text, ["x"])


def test_non_expressions_are_named() -> None:
    with pytest.raises(InvalidInputError, match="a string or a finite number; got object"):
        Symbolic(object(), ["x"])
    for bad in (True, float("nan"), b"x"):
        with pytest.raises(InvalidInputError, match=f"got {type(bad).__name__}"):
            Symbolic(bad, ["x"])
    assert Symbolic(np.float64(2.5), ["x"]).value(1.0) == 2.5  # a constant
    with pytest.raises(InvalidInputError, match="scalar expression or a list of them"):
        Symbolic(sp.Matrix([[sp.Symbol("x"), 1], [2, 3]]), ["x"])
    with pytest.raises(InvalidInputError, match="got list"):
        Symbolic([["x"]], ["x"])
    assert Symbolic(sp.Matrix([sp.Symbol("x")]), ["x"]).jacobian(2.0).tolist() == [[1.0]]


@pytest.mark.parametrize(
    ("variables", "match"),
    [([], "at least one"), (["x", "x"], "more than once: x"), (["1x"], "identifier"), (3, "int")],
)
def test_bad_variables(variables: Any, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        Symbolic("x", variables)


def test_x_of_the_wrong_length_is_named() -> None:
    p = Symbolic("x*y", ["x", "y"])
    with pytest.raises(InvalidInputError, match="one entry per variable \\(2: x, y\\); got 3"):
        p.grad([1.0, 2.0, 3.0])


def test_missing_sympy_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_sympy(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "sympy" or name.startswith("sympy."):
            raise ImportError("No module named 'sympy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sympy)
    monkeypatch.delitem(sys.modules, "sympy")
    with pytest.raises(BackendUnavailableError, match=r"gradopt\[symbolic\]"):
        Symbolic("x", ["x"])


def test_equal_expressions_share_the_compiled_functions() -> None:
    expr, xs = _rosen_expr(6)
    a, b = Symbolic(expr, xs), Symbolic(expr, list(xs))
    assert a._compiled is b._compiled  # differentiated once
    a.grad(np.ones(6))
    assert (a.nfev, a.ngev) == (1, 1) and (b.nfev, b.ngev) == (0, 0)  # counts are not shared


def test_kinks_have_the_hessian_away_from_the_kink() -> None:
    # d/dx sign(x) is 2 DiracDelta(x): dropped, as automatic differentiation has it.
    p = Symbolic("Abs(x)**3 + Abs(y) + Piecewise((y**2, y > 1), (0, True))", ["x", "y"])
    np.testing.assert_allclose(p.grad([-2.0, 3.0]), [-12.0, 7.0])
    np.testing.assert_allclose(p.hessp([-2.0, 3.0], [1.0, 1.0]), [12.0, 2.0])


def test_undefined_functions_are_named() -> None:
    with pytest.raises(InvalidInputError, match="undefined function 'f' \\(the functions allowed"):
        Symbolic("f(x) + x**2", ["x"])
    x = sp.Symbol("x")
    with pytest.raises(InvalidInputError, match="undefined functions: f"):
        Symbolic(sp.Function("f")(x) + x**2, [x])


def test_common_subexpressions_do_not_overwrite_variables() -> None:
    # The compiled code names shared subexpressions apart from the variables (sympy 1.12
    # named them x0, x1, ... and overwrote variables of those names).
    p = Symbolic("sin(cse0*x0)**2 + sin(cse0*x0)*cse1", ["cse0", "cse1", "x0"])
    a, b, c = 0.3, -0.7, 1.1
    s, co = np.sin(a * c), np.cos(a * c)
    f, g = p.value_and_grad([a, b, c])
    assert f == pytest.approx(s**2 + s * b, rel=4 * EPS)
    np.testing.assert_allclose(g, [(2 * s + b) * co * c, s, (2 * s + b) * co * a], rtol=1e-14)
