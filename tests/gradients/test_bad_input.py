"""Bad input gets a clear error that names the argument, the value and what was expected."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest

from gradopt import Analytic, Autograd, FiniteDifference, GradientProvider
from gradopt.exceptions import (
    AutogradTraceError,
    ComplexStepError,
    InvalidInputError,
    MissingCapabilityError,
    NonFiniteEvaluationError,
    ObjectiveError,
)

MAKERS: dict[str, Callable[[Callable[[Any], Any]], GradientProvider]] = {
    "analytic": lambda f: Analytic(f, lambda x: np.zeros_like(x)),
    "forward": lambda f: FiniteDifference(f, method="forward"),
    "backward": lambda f: FiniteDifference(f, method="backward"),
    "central": lambda f: FiniteDifference(f, method="central"),
    "complex": lambda f: FiniteDifference(f, method="complex"),
    "autograd": Autograd,
}
every_provider = pytest.mark.parametrize("maker", list(MAKERS.values()), ids=list(MAKERS))
CALLS = ["value", "grad", "value_and_grad"]


def square_norm(x: Any) -> Any:
    return anp.sum(x**2)


@every_provider
@pytest.mark.parametrize("call", CALLS)
def test_non_scalar_return_names_the_shape(maker: Any, call: str) -> None:
    p = maker(lambda x: x * 2.0)
    if isinstance(p, Analytic) and call == "grad":
        p.grad(np.ones(3))  # a hand-written gradient alone never calls f
        assert p.nfev == 0
        return
    with pytest.raises(ObjectiveError, match=r"must return a scalar.*shape \(3,\)"):
        getattr(p, call)(np.ones(3))


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (lambda x: x[:1], r"grad must return an array of shape \(3,\).*returned shape \(1,\)"),
        (lambda x: np.ones((3, 3)), r"shape \(3,\).*returned shape \(3, 3\)"),
        (lambda x: None, r"grad returned None.*return statement missing"),
    ],
    ids=["short", "matrix", "none"],
)
def test_analytic_gradient_of_the_wrong_shape(bad: Any, match: str) -> None:
    p = Analytic(square_norm, bad)
    with pytest.raises(ObjectiveError, match=match):
        p.grad(np.ones(3))
    with pytest.raises(ObjectiveError, match=r"grad returned None"):
        Analytic(square_norm, lambda x: None).grad(np.ones(1))  # d = 1: not a silent NaN


def test_analytic_hessp_wrong_shape_and_missing() -> None:
    p = Analytic(square_norm, lambda x: 2 * x, lambda x, v: v[:1])
    with pytest.raises(ObjectiveError, match=r"hessp must return an array of shape \(2,\)"):
        p.hessp(np.ones(2), np.ones(2))
    with pytest.raises(InvalidInputError, match=r"v must have the shape of x \(2,\); got \(3,\)"):
        p.hessp(np.ones(2), np.ones(3))
    with pytest.raises(MissingCapabilityError, match="pass hessp= or use Autograd"):
        Analytic(square_norm, lambda x: 2 * x).hessp(np.ones(2), np.ones(2))


BAD_POINTS = [
    pytest.param([1.0, np.nan], r"x must be finite; it holds nan at index 1", id="nan"),
    pytest.param(
        [np.inf, 1.0, -np.inf], r"finite; it holds inf at index 0 \(and 1 more", id="inf"
    ),
    pytest.param("abc", r"x must hold real numbers; got an array of dtype <U3", id="string"),
    pytest.param(["1.0", "2.0"], r"x must hold real numbers.*<U3", id="strings"),
    pytest.param([1.0, None], r"x must hold real numbers.*dtype object", id="none"),
    pytest.param(np.array([object()]), r"real numbers.*dtype object", id="object"),
    pytest.param([1.0 + 2j, 0.0], r"real numbers.*complex128", id="complex"),
    pytest.param(np.ones((2, 2)), r"scalar or a 1-D array; got shape \(2, 2\)", id="2-D"),
    pytest.param([], r"x must not be empty", id="empty"),
]


@every_provider
@pytest.mark.parametrize(("x", "match"), BAD_POINTS)
def test_bad_points_are_refused(maker: Any, x: Any, match: str) -> None:
    calls: list[Any] = []
    p = maker(lambda z: calls.append(z) or square_norm(z))
    for call in CALLS:
        with pytest.raises(InvalidInputError, match=match):
            getattr(p, call)(x)
    assert calls == [] and p.nfev == 0  # refused before f is ever called


def test_hessp_and_jvp_refuse_bad_points() -> None:
    p = Autograd(square_norm)
    with pytest.raises(InvalidInputError, match="v must be finite"):
        p.hessp(np.ones(2), [1.0, np.nan])
    with pytest.raises(InvalidInputError, match=r"v must have the shape of x \(2,\)"):
        p.jvp(np.ones(2), np.ones(3))


def test_fun_must_be_callable() -> None:
    with pytest.raises(InvalidInputError, match="fun must be callable; got int"):
        FiniteDifference(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="grad must be callable or None; got str"):
        Analytic(square_norm, "2*x")


def test_unknown_method_lists_the_valid_ones() -> None:
    with pytest.raises(
        ValueError, match="'forward', 'backward', 'central', 'complex' or 'richardson'"
    ):
        FiniteDifference(square_norm, method="fwd")  # type: ignore[arg-type]


@pytest.mark.parametrize("step", [0.0, -1e-6, np.nan, np.inf, [1e-6, 0.0]])
def test_step_must_be_positive_and_finite(step: Any) -> None:
    with pytest.raises(ValueError, match=r"step must be positive and finite; got"):
        FiniteDifference(square_norm, step=step)


def test_misspelt_option_is_an_error() -> None:
    with pytest.raises(TypeError, match="stepsize"):
        FiniteDifference(square_norm, stepsize=1e-3)  # type: ignore[call-arg]


def test_step_of_the_wrong_length() -> None:
    p = FiniteDifference(square_norm, step=[1e-6, 1e-6, 1e-6])
    with pytest.raises(InvalidInputError, match="step has 3 entries but x has 2 coordinates"):
        p.grad(np.ones(2))
    np.testing.assert_allclose(p.grad(np.ones(3)), 2.0, rtol=1e-8)  # right length: fine


def _name(fun: Any) -> str:
    return str(fun.__name__).strip("_")


def _uses_float(x: Any) -> Any:
    return float(x[0]) ** 2 + x[1] ** 2


def _uses_math(x: Any) -> Any:
    return math.sin(x[0]) + x[1]


def _uses_real(x: Any) -> Any:
    return np.sum(np.real(x) ** 2)


def _assigns_into_float_array(x: Any) -> Any:
    out = np.zeros(2)
    out[:] = x**2
    return out.sum()


@pytest.mark.parametrize(
    "fun", [_uses_float, _uses_math, _uses_real, _assigns_into_float_array], ids=_name
)
def test_complex_step_on_a_function_that_drops_imaginary_parts(fun: Any) -> None:
    p = FiniteDifference(fun, method="complex")
    with pytest.raises(ComplexStepError, match=r"complex numbers through.*method='central'"):
        p.grad(np.ones(2))
    # and the suggestion works
    g = FiniteDifference(fun, method="central").grad(np.ones(2))
    assert np.all(np.isfinite(g))


def _assigns_into_zeros(x: Any) -> Any:
    out = anp.zeros(2)
    out[0] = x[0] ** 2
    return anp.sum(out) + x[1]


def _assigns_into_x(x: Any) -> Any:
    x[0] = 3.0
    return anp.sum(x)


@pytest.mark.parametrize("fun", [_assigns_into_zeros, _assigns_into_x], ids=_name)
def test_autograd_tripping_is_explained(fun: Any) -> None:
    p = Autograd(fun)
    with pytest.raises(AutogradTraceError, match="without assigning into arrays") as info:
        p.grad(np.ones(2))
    assert "autograd.numpy" in str(info.value) and "np.stack" in str(info.value)
    assert isinstance(info.value, TypeError) and info.value.__cause__ is not None
    with pytest.raises(AutogradTraceError):
        p.hessp(np.ones(2), np.ones(2))


class WrongModelError(Exception):
    """A user's own exception."""


class UserTypeError(TypeError):
    """A user's own exception that happens to be a TypeError."""


class UserValueError(ValueError):
    """A user's own exception that happens to be a ValueError."""


@every_provider
@pytest.mark.parametrize("exc_type", [WrongModelError, UserTypeError, UserValueError])
@pytest.mark.parametrize("call", CALLS)
def test_user_exceptions_reach_the_caller_unchanged(maker: Any, exc_type: Any, call: str) -> None:
    def fails(x: Any) -> Any:
        raise exc_type("the model diverged at step 7")

    p = Analytic(fails, fails) if maker is MAKERS["analytic"] else maker(fails)
    with pytest.raises(exc_type) as info:
        getattr(p, call)(np.ones(3))
    assert type(info.value) is exc_type
    # Its own message; a finite difference may add a note (PEP 678) naming the point.
    assert str(info.value) == "the model diverged at step 7"


@pytest.mark.parametrize("method", ["forward", "backward", "central", "complex"])
def test_user_exception_during_the_differences_reaches_the_caller(method: Any) -> None:
    """f works at x itself but fails at the points a finite difference adds."""

    def fails_off_x(x: Any) -> Any:
        if np.any(x != 1.0):
            raise WrongModelError("off the grid")
        return anp.sum(x)

    p = FiniteDifference(fails_off_x, method=method)
    assert p.value(np.ones(2)) == 2.0
    with pytest.raises(WrongModelError) as info:
        p.grad(np.ones(2))
    assert str(info.value) == "off the grid"  # its own message (a note may name the point)


def test_a_size_one_array_output_works_for_small_finite_differences() -> None:
    """f returning shape (1,) (as scipy accepts) must not trip the non-finite screen."""
    for method in ("forward", "central", "complex"):
        g = FiniteDifference(lambda x: anp.array([anp.sum(x * x)]), method=method).grad(np.ones(2))
        np.testing.assert_allclose(g, [2.0, 2.0], rtol=1e-6)


def test_a_cached_non_finite_value_stops_a_one_sided_difference() -> None:
    def f(x: Any) -> float:
        return np.inf if np.array_equal(x, [1.0, 0.0]) else float(np.sum(x))

    p = FiniteDifference(f, method="forward")
    assert p.value(np.array([1.0, 0.0])) == np.inf
    with pytest.raises(NonFiniteEvaluationError, match="one-sided difference needs it finite"):
        p.grad(np.array([1.0, 0.0]))
