"""The steps finite differences take: as taken, never too small, sized for f's precision."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import rosen
from scipy.optimize._numdiff import approx_derivative

from gradopt import FiniteDifference, minimize
from gradopt.exceptions import ComplexStepError, InvalidInputError

EPS = float(np.finfo(np.float64).eps)


def _vs(x: Any) -> Any:  # scipy's test__numdiff fun_vector_scalar
    return np.sin(x[0] * x[1]) * np.log(x[0])


def _dvs(x: Any) -> Any:
    c = np.cos(x[0] * x[1])
    return np.array(
        [x[1] * c * np.log(x[0]) + np.sin(x[0] * x[1]) / x[0], x[0] * c * np.log(x[0])]
    )


@pytest.mark.parametrize(
    ("method", "scipy_method"), [("forward", "2-point"), ("central", "3-point")]
)
def test_a_given_step_is_divided_as_taken(method: str, scipy_method: str) -> None:
    # At x0 = 100, 100 + 1.49e-8 is 1.4899996e-8 away: dividing by 1.49e-8 costs 3e-7.
    x = np.array([100.0, -0.5])
    g = FiniteDifference(_vs, method, step=1.49e-8).grad(x)  # type: ignore[arg-type]
    ref = approx_derivative(_vs, x, method=scipy_method, abs_step=1.49e-8)
    true = _dvs(x)
    ours, theirs = np.abs(g - true) / np.abs(true), np.abs(ref - true) / np.abs(true)
    assert ours[0] < 1e-6 and ours[0] <= 2 * theirs[0]
    h = FiniteDifference(_vs, method, step=1.49e-8).steps(x)  # type: ignore[arg-type]
    assert h[0] == 1.49e-8  # the step as given; the point is x + (x + h) - x


def test_a_step_below_the_spacing_of_x_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"step=1e-20 is too small at x\[0\] = -1.2"):
        FiniteDifference(rosen, step=1e-20).grad(np.array([-1.2, 1.0]))
    # minimize used to report success at x0 after 0 iterations (a zero gradient).
    with pytest.raises(InvalidInputError, match=r"\(x \+ h\) - x, is 0"):
        minimize(FiniteDifference(rosen, step=1e-20), np.array([-1.2, 1.0]))
    # 64 units in the last place is the least that means anything.
    x = np.array([1.0])
    FiniteDifference(np.exp, "forward", step=64 * EPS).grad(x)
    with pytest.raises(InvalidInputError, match="32 units in the last place"):
        FiniteDifference(np.exp, "forward", step=32 * EPS).grad(x)


@pytest.mark.parametrize("method", ["forward", "central", "richardson"])
def test_a_box_too_narrow_for_a_step_is_refused(method: str) -> None:
    # exp'(1) came out as 4.0 from a step of one unit in the last place.
    p = FiniteDifference(np.exp, method, bounds=[(1.0 - 4e-16, 1.0 + 4e-16)])  # type: ignore[arg-type]
    with pytest.raises(
        InvalidInputError, match=r"bounds \[0.9999999999999996, 1.0000000000000004\]"
    ):
        p.grad(1.0)
    with pytest.raises(InvalidInputError, match="leave room for a step of only"):
        FiniteDifference(np.exp, "central", bounds=[(1, 1 + 4e-16)]).grad(1.0)


def _single(x: Any) -> Any:
    return np.sum(np.sin(np.asarray(x, dtype=np.float32)))


@pytest.mark.parametrize(
    ("method", "rtol"), [("forward", 2e-3), ("central", 1e-4), ("richardson", 1e-5)]
)
def test_float32_output_gets_steps_sized_for_it(method: str, rtol: float) -> None:
    # A float64 step of 1.5e-8 is below float32's spacing: the forward gradient was 0.
    p = FiniteDifference(_single, method)  # type: ignore[arg-type]
    g = p.grad(np.array([1.0, 0.3]))
    np.testing.assert_allclose(g, np.cos([1.0, 0.3]), rtol=rtol)
    if method == "richardson":
        g, err = p.grad_and_error(np.array([0.7, 0.2]))
        assert np.all(np.abs(g - np.cos([0.7, 0.2])) <= err)


def test_float32_detection_costs_one_call_once() -> None:
    p = FiniteDifference(_single, "forward")
    p.grad(np.array([1.0, 0.3]))
    # f(x) (read with its dtype), d calls at float64's step, d more at float32's.
    assert p.nfev == 1 + 2 + 2
    p.grad(np.array([0.5, 0.4]))
    assert p.nfev == 5 + 3
    q = FiniteDifference(lambda x: float(np.sum(np.sin(x))), "central")  # float64
    q.grad(np.array([1.0, 2.0]))
    assert q.nfev == 4  # no look at the dtype: values that do not fit float32


def test_complex_step_refuses_a_dropped_imaginary_part() -> None:
    # truncnorm's cdf keeps complex dtype but drops the imaginary part: a zero gradient.
    dist = stats.truncnorm(-1.0978730080013919, 2.730675410903198)
    with pytest.raises(ComplexStepError, match="imaginary part of f is exactly 0"):
        FiniteDifference(dist.cdf, "complex").grad(0.3)
    # A true zero gradient is no error (x^2 at 0, a constant).
    assert float(FiniteDifference(lambda x: x**2, "complex").grad(0.0)) == 0.0
    assert np.all(FiniteDifference(lambda x: 0 * x[0] + 3.0, "complex").grad(np.ones(2)) == 0)
    # ... nor inside a box (the check stays inside it).
    g = FiniteDifference(lambda x: np.sum(x**2), "complex", bounds=[(0, 1)] * 3).grad(np.zeros(3))
    assert np.all(g == 0)


@pytest.mark.parametrize(
    "fun", [lambda x: np.sin(x) - x, lambda x: x * np.log(1 + x * x)], ids=["sin-x", "xlog"]
)
def test_complex_step_accepts_a_third_order_change_at_a_zero_gradient(fun: Any) -> None:
    # f' = 0 at 0 and f changes as x^3; every imaginary part rounds to exactly 0 (sin(ih)
    # is i sinh(h) = i h in float64). Found by the property tests: this was refused as
    # "f drops the imaginary part". Four real evaluations tell a cubic from a line.
    p = FiniteDifference(fun, "complex")
    assert float(p.grad(0.0)) == 0.0
    assert p.nfev == 1 + 4
