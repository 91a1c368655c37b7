"""Finite differences inside a box: f is never evaluated outside, and stays accurate there."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from scipy.optimize import Bounds

from gradopt import FiniteDifference
from gradopt.exceptions import InvalidInputError

LO = np.array([0.0, -1.0, 0.1, 2.0])
HI = np.array([1.0, 1.0, 0.3, np.inf])
BOUNDS = [(0.0, 1.0), (-1.0, 1.0), (0.1, 0.3), (2.0, None)]


def fun(x: Any) -> Any:
    return np.sum(np.exp(x) * np.sin(3 * x)) + x[0] * x[1] ** 2


def grad(x: Any) -> Any:
    g = np.exp(x) * (np.sin(3 * x) + 3 * np.cos(3 * x))
    g[0] += x[1] ** 2
    g[1] += 2 * x[0] * x[1]
    return g


class Guarded:
    """f that records every point and fails the test if one leaves the box."""

    def __init__(self) -> None:
        self.points: list[np.ndarray[Any, Any]] = []

    def __call__(self, x: Any) -> Any:
        self.points.append(np.array(x, copy=True))
        assert np.all(x >= LO) and np.all(x <= HI), f"evaluated outside the box at {x}"
        return fun(x)


CORNERS = [
    np.array([0.0, -1.0, 0.1, 2.0]),  # every coordinate on its lower bound
    np.array([1.0, 1.0, 0.3, 2.0]),  # upper bounds (the last has none)
    np.array([1.0 - 1e-9, -1.0 + 1e-7, 0.2, 5.0]),  # just inside
]


@pytest.mark.parametrize("x", CORNERS, ids=["lower", "upper", "near"])
@pytest.mark.parametrize(
    ("method", "rtol"), [("forward", 1e-6), ("backward", 1e-6), ("central", 1e-8)]
)
def test_never_outside_and_accurate(x: Any, method: str, rtol: float) -> None:
    f = Guarded()
    p = FiniteDifference(f, method, bounds=BOUNDS)  # type: ignore[arg-type]
    value, g = p.value_and_grad(x)
    assert value == fun(x)
    np.testing.assert_allclose(g, grad(x), rtol=rtol, atol=rtol)
    expected_calls = x.size + 1 if method != "central" else 2 * x.size + 1
    assert p.nfev == len(f.points) == expected_calls


def test_central_at_a_bound_uses_the_one_sided_second_order_formula() -> None:
    f = Guarded()
    x = np.array([1.0, 0.0, 0.2, 3.0])
    p = FiniteDifference(f, "central", bounds=BOUNDS)
    g = p.grad(x)
    assert p.nfev == 2 * 4 + 1  # f(x) is needed by the one-sided formula
    # coordinate 0 sits on its upper bound
    steps = [pt[0] - x[0] for pt in f.points[1:] if pt[0] != x[0]]
    assert steps[0] < 0 and steps[1] == pytest.approx(2 * steps[0])
    assert abs(g[0] - grad(x)[0]) / abs(grad(x)[0]) < 1e-8  # second order, not first
    interior = FiniteDifference(fun, "central").grad(x)
    assert np.array_equal(g[1:], interior[1:])  # untouched where the steps fit


def test_box_narrower_than_the_step() -> None:
    f = lambda x: float(np.sum(x**2))  # noqa: E731
    lo, hi = 0.5, 0.5 + 1e-9
    seen: list[float] = []

    def guarded(x: Any) -> float:
        seen.append(float(x[0]))
        assert lo <= x[0] <= hi
        return f(x)

    for method in ("forward", "central"):
        g = FiniteDifference(guarded, method, bounds=[(lo, hi)]).grad(np.array([lo + 4e-10]))  # type: ignore[arg-type]
        assert g[0] == pytest.approx(1.0, rel=1e-5)
    assert len(seen) > 0


def test_rounding_never_crosses_the_bound() -> None:
    rng = np.random.default_rng(0)
    for _ in range(100):
        hi = rng.uniform(-10, 10)
        x = np.array([hi])
        step = rng.uniform(1e-12, 1e-3)
        for method in ("forward", "backward", "central"):

            def guarded(z: Any, hi: float = hi) -> float:
                assert z[0] <= hi
                return float(z[0] ** 3)

            FiniteDifference(guarded, method, step=step, bounds=[(None, hi)]).grad(x)  # type: ignore[arg-type]


def test_scipy_bounds_and_scalar_pairs() -> None:
    x = np.array([1.0, 1.0, 0.3, 2.0])
    a = FiniteDifference(fun, bounds=Bounds(LO, HI)).grad(x)
    b = FiniteDifference(fun, bounds=BOUNDS).grad(x)
    assert np.array_equal(a, b)
    c = FiniteDifference(fun, bounds=Bounds(-5.0, 1.0)).grad(np.ones(3))  # broadcast
    np.testing.assert_allclose(c, grad(np.ones(3)), rtol=1e-8)
    s = FiniteDifference(np.sqrt, bounds=[(0.0, 1.0)])
    assert float(s.grad(1.0)) == pytest.approx(0.5, rel=1e-9)  # scalar x on its bound


def test_parallel_is_bit_for_bit_with_bounds() -> None:
    x = CORNERS[1]
    serial = FiniteDifference(fun, "central", bounds=BOUNDS)
    with ThreadPoolExecutor(2) as pool:
        par = FiniteDifference(fun, "central", executor=pool, bounds=BOUNDS)
        assert np.array_equal(par.grad(x), serial.grad(x))
    vec = FiniteDifference(
        lambda xs: np.array([fun(r) for r in xs]), vectorized=True, bounds=BOUNDS
    )
    assert np.array_equal(vec.grad(x), serial.grad(x))
    assert par.nfev == vec.nfev == serial.nfev


def test_complex_step_needs_no_adjustment() -> None:
    f = Guarded()
    x = CORNERS[0]
    g = FiniteDifference(f, "complex", bounds=BOUNDS).grad(x)
    np.testing.assert_allclose(g, grad(x), rtol=1e-13)


def test_x_outside_the_box() -> None:
    p = FiniteDifference(fun, bounds=BOUNDS)
    with pytest.raises(InvalidInputError, match=r"x\[2\] = 0.35 is not in \[0.1, 0.3\]"):
        p.grad(np.array([0.5, 0.0, 0.35, 3.0]))
    with pytest.raises(InvalidInputError, match="outside bounds"):
        p.value(np.array([0.5, 0.0, 0.2, 1.0]))


def test_bad_bounds() -> None:
    with pytest.raises(
        InvalidInputError, match=r"option 'bounds'.*bounds\[1\] = \(2, 1\) must satisfy lo <= hi"
    ):
        FiniteDifference(fun, bounds=[(0, 1), (2, 1)])
    with pytest.raises(InvalidInputError, match=r"bounds\[0\] must be a \(lo, hi\) pair"):
        FiniteDifference(fun, bounds=[(0, 1, 2)])
    with pytest.raises(InvalidInputError, match="bounds must be a sequence"):
        FiniteDifference(fun, bounds=3)
    with pytest.raises(InvalidInputError, match="no NaN"):
        FiniteDifference(fun, bounds=[(np.nan, 1)])
    with pytest.raises(
        InvalidInputError, match=r"one \(low, high\) pair per coordinate of x \(4\); got 2 pairs"
    ):
        FiniteDifference(fun, bounds=[(0, 1), (0, 1)]).grad(np.full(4, 0.5))
    with pytest.raises(InvalidInputError, match="got 1 pair "):  # one bounds type: as minimize
        FiniteDifference(fun, bounds=[(0, 1)]).grad(np.full(4, 0.5))


def test_richardson_shrinks_its_steps_inside_the_box_and_keeps_its_error_estimate() -> None:
    calls: list[np.ndarray] = []

    def f(x: np.ndarray) -> float:
        calls.append(x.copy())
        return float(np.sum(np.sqrt(x)))

    x = np.array([0.99, 0.5])
    p = FiniteDifference(f, method="richardson", bounds=[(0.0, 1.0)] * 2)
    g, err = p.grad_and_error(x)
    truth = 0.5 / np.sqrt(x)
    assert all(np.all((c >= 0.0) & (c <= 1.0)) for c in calls)
    assert np.all(np.abs(g - truth) <= err)
    assert np.max(np.abs(g - truth) / truth) < 1e-10


def test_richardson_on_a_bound_says_to_use_central() -> None:
    p = FiniteDifference(lambda x: np.sum(np.sqrt(x)), method="richardson", bounds=[(0, 1)])
    with pytest.raises(InvalidInputError, match=r"x\[0\] = 1.0 lies on a bound.*'central'"):
        p.grad(np.array([1.0]))


def test_a_box_tight_on_both_sides_shortens_the_central_step() -> None:
    # scipy's test_tight_bounds layout: box [-0.03, 0.05], step 0.1. At 0 the central step
    # shortens to 0.03 (the one-sided formula would get half of 0.05); at 0.03 the room
    # above (0.02) is too short and the one-sided formula goes down with 0.03.
    p = FiniteDifference(np.exp, "central", step=0.1, bounds=[(-0.03, 0.05)] * 2)
    scheme, h, _ = p._layout(np.array([0.0, 0.03]))
    np.testing.assert_allclose(np.abs(h), [0.03, 0.03])
    assert list(scheme.mask) == [False, True]


def test_the_shortened_central_step_beats_the_one_sided_formula() -> None:
    # scipy's test_tight_bounds: box [x - 3e-9, x + 2e-9]. The one-sided formula with
    # half the larger room (1.5e-9) has twice the truncation and four times the round-off
    # of the central one with the smaller room (2e-9).
    def f(x: Any) -> Any:
        return x[0] ** 3 * x[0] ** -0.5

    def df(x: Any) -> Any:
        return 2.5 * x[0] ** 1.5

    ours, one_sided = [], []
    for x0 in np.linspace(10.0, 11.0, 21):
        x = np.array([x0])
        g = FiniteDifference(f, "central", bounds=[(x0 - 3e-9, x0 + 2e-9)]).grad(x)
        ours.append(abs(g[0] - df(x)) / df(x))
        h = -1.5e-9
        g1 = (-3 * f(x) + 4 * f(x + h) - f(x + 2 * h)) / (2 * h)
        one_sided.append(abs(g1 - df(x)) / df(x))
    assert np.median(ours) < np.median(one_sided) / 3
