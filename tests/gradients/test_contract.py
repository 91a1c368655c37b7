"""The contract every gradient provider keeps, checked on the shared problem set.

The providers come from the registry in :mod:`tests.forms` (each built from the problem's
form for its backend); a new provider joins there and adds its line to ``TOLERANCE`` here
(a test checks the two agree): every test below then runs on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gradopt import FiniteDifference, GradientProvider
from gradopt.gradients import hessp_of
from tests.forms import PROVIDERS
from tests.problems import PROBLEMS, Problem

FACTORIES: dict[str, Callable[[Problem], GradientProvider]] = PROVIDERS

# Normwise relative error ||g - g_true|| / ||g_true|| each method must reach, from theory
# (eps = 2.2e-16): one-sided differences with h ~ sqrt(eps) err by O(sqrt(eps)) ~ 1e-8
# times the curvature scale; central with h ~ eps^(1/3) by O(eps^(2/3)) ~ 4e-11; the
# complex step and AD are exact up to rounding in the last few bits.
# Normwise, not componentwise: a finite difference of a component whose true value is
# (near) zero still carries the round-off eps*|f|/h of the subtraction, which no
# black-box method avoids, so its componentwise relative error is unbounded even when
# the gradient as a whole is accurate to the digits the theory promises.
TOLERANCE = {
    "analytic": 1e-13,
    "analytic-fused": 1e-13,
    "forward": 1e-6,
    "backward": 1e-6,
    "central": 1e-9,
    "complex": 1e-14,
    "autograd": 1e-13,
    # O(h^10) at h ~ 0.06: round-off eps |f| / h dominates, about 1e-13 (measured <= 2e-13)
    "richardson": 1e-11,
    "symbolic": 1e-13,
    "jax": 1e-13,
}
# Relative tolerance of the value against fun(x). Every provider but two calls fun itself;
# Symbolic evaluates its own compiled copy of the formula and JAX's compiled program sums
# in its own order (measured 3.5e-15 on rosen at d = 100; bounded by about d * eps).
VALUE_RTOL = {"symbolic": 1e-13, "jax": 1e-13}

PROVIDER_NAMES = list(FACTORIES)
ids = [p.name for p in PROBLEMS]


def relative_error(g: Any, truth: Any) -> float:
    """Normwise relative error of `g` against the exact gradient `truth`."""
    g, truth = np.asarray(g, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    return float(np.linalg.norm(g - truth) / np.linalg.norm(truth))


@pytest.fixture(params=PROVIDER_NAMES)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=PROBLEMS, ids=ids)
def prob(request: pytest.FixtureRequest) -> Problem:
    return request.param  # type: ignore[no-any-return]


def test_tolerances_cover_every_provider() -> None:
    assert set(FACTORIES) <= set(TOLERANCE)
    assert set(TOLERANCE) - set(FACTORIES) <= {"jax"}  # the jax extra may be missing


def test_is_a_gradient_provider(name: str, prob: Problem) -> None:
    assert isinstance(FACTORIES[name](prob), GradientProvider)


def test_gradient_matches_truth(name: str, prob: Problem) -> None:
    g = FACTORIES[name](prob).grad(prob.x)
    assert relative_error(g, prob.grad(prob.x)) <= TOLERANCE[name]


def test_value_and_grad_agree_with_value_and_grad_alone(name: str, prob: Problem) -> None:
    f, g = FACTORIES[name](prob).value_and_grad(prob.x)
    truth = float(prob.fun(prob.x))
    rtol = VALUE_RTOL.get(name, 1e-15)
    assert f == pytest.approx(truth, rel=rtol, abs=1e-300)
    assert FACTORIES[name](prob).value(prob.x) == pytest.approx(truth, rel=rtol, abs=1e-300)
    np.testing.assert_array_equal(g, FACTORIES[name](prob).grad(prob.x))


def test_result_types_and_shapes(name: str, prob: Problem) -> None:
    p = FACTORIES[name](prob)
    f, g = p.value_and_grad(prob.x)
    assert type(f) is float and type(p.value(prob.x)) is float
    for grad in (g, p.grad(prob.x)):
        assert isinstance(grad, np.ndarray) and grad.dtype == np.float64
        assert grad.shape == np.shape(prob.x)  # a scalar x gives a 0-d gradient


def test_x_is_never_mutated(name: str, prob: Problem) -> None:
    x = np.array(prob.x, dtype=np.float64)
    before = x.copy()
    p = FACTORIES[name](prob)
    p.value(x)
    p.grad(x)
    p.value_and_grad(x + 0.0)
    np.testing.assert_array_equal(x, before)


def test_returned_gradient_is_a_copy(name: str, prob: Problem) -> None:
    """Writing into a returned gradient must not corrupt the cached one."""
    p = FACTORIES[name](prob)
    g = p.grad(prob.x)
    expected = g.copy()
    g[...] = np.nan
    np.testing.assert_array_equal(p.grad(prob.x), expected)
    _, g2 = p.value_and_grad(prob.x)
    g2[...] = np.nan
    np.testing.assert_array_equal(p.grad(prob.x), expected)


def test_cache_at_the_same_point_does_no_work(name: str, prob: Problem) -> None:
    p = FACTORIES[name](prob)
    p.value_and_grad(prob.x)
    nfev, ngev = p.nfev, p.ngev
    assert ngev == 1
    same = np.array(prob.x, dtype=np.float64)  # an equal point, not the same object
    p.value(same)
    p.grad(same)
    p.value_and_grad(same)
    assert (p.nfev, p.ngev) == (nfev, ngev)


def test_value_then_grad_reuses_what_it_can(name: str, prob: Problem) -> None:
    """value(x) then grad(x) costs no more than value(x) plus a gradient on its own."""
    grad_only = FACTORIES[name](prob)
    grad_only.grad(prob.x)
    p = FACTORIES[name](prob)
    p.value(prob.x)
    assert (p.nfev, p.ngev) == (1, 0)
    p.grad(prob.x)
    assert p.ngev == 1
    assert p.nfev <= 1 + grad_only.nfev
    p.value(prob.x)  # and the value is still cached
    assert p.nfev <= 1 + grad_only.nfev


def test_new_point_recomputes(name: str, prob: Problem) -> None:
    p = FACTORIES[name](prob)
    f0, g0 = p.value_and_grad(prob.x)
    nfev = p.nfev
    x1 = np.asarray(prob.x, dtype=np.float64) * 1.01 + 0.01
    f1, g1 = p.value_and_grad(x1)
    assert p.nfev > nfev and p.ngev == 2
    assert f1 == pytest.approx(float(prob.fun(x1)), rel=VALUE_RTOL.get(name, 1e-15))
    assert relative_error(g1, prob.grad(x1)) <= TOLERANCE[name]
    # and back: the cache holds the last point only, so this is work again, done right
    f_back, g_back = p.value_and_grad(prob.x)
    assert f_back == f0 and p.ngev == 3
    np.testing.assert_array_equal(g_back, g0)


def test_reset_counts(name: str, prob: Problem) -> None:
    p = FACTORIES[name](prob)
    p.value_and_grad(prob.x)
    assert p.nfev > 0 and p.ngev == 1
    p.reset_counts()
    assert (p.nfev, p.ngev) == (0, 0)
    p.value_and_grad(prob.x)  # the cache survives a reset
    assert (p.nfev, p.ngev) == (0, 0)


WITH_HESSP = [
    pytest.param(name, prob, id=f"{name}-{prob.name}")
    for name in PROVIDER_NAMES
    for prob in PROBLEMS
    if hessp_of(FACTORIES[name](prob)) is not None
]


def test_some_providers_have_hessp() -> None:
    assert {param.values[0] for param in WITH_HESSP} >= {"analytic", "autograd", "symbolic"}


@pytest.mark.parametrize(("name", "prob"), WITH_HESSP)
def test_hessp_matches_central_difference_of_grad(name: str, prob: Problem) -> None:
    hessp = hessp_of(FACTORIES[name](prob))
    assert hessp is not None
    x = np.asarray(prob.x, dtype=np.float64)
    v = np.cos(np.arange(x.size) + 1.0).reshape(np.shape(prob.x))
    hv = hessp(prob.x, v)
    assert hv.shape == np.shape(prob.x) and hv.dtype == np.float64
    t = np.finfo(np.float64).eps ** (1 / 3) * max(1.0, float(np.max(np.abs(x))))
    fd = (np.asarray(prob.grad(x + t * v)) - np.asarray(prob.grad(x - t * v))) / (2 * t)
    # Central difference error O(t^2 |f'''|) + O(eps |g| / t): about 1e-10 relative here.
    scale = max(1.0, float(np.linalg.norm(fd)), float(np.linalg.norm(prob.grad(x))))
    assert np.linalg.norm(hv - fd) <= 1e-7 * scale
    if prob.hessp is not None:
        truth = np.asarray(prob.hessp(prob.x, v), dtype=np.float64)
        assert np.linalg.norm(hv - truth) <= 1e-12 * max(1.0, float(np.linalg.norm(truth)))


WITH_JVP = [
    pytest.param(name, prob, id=f"{name}-{prob.name}")
    for name in PROVIDER_NAMES
    for prob in PROBLEMS
    if getattr(FACTORIES[name](prob), "has_jvp", False)
]


def test_some_providers_have_jvp() -> None:
    assert {param.values[0] for param in WITH_JVP} >= {"autograd"}


@pytest.mark.parametrize(("name", "prob"), WITH_JVP)
def test_jvp_is_the_directional_derivative(name: str, prob: Problem) -> None:
    """Forward mode: (f(x), grad f(x) @ v) in one traced call, counted as one call of f."""
    p = FACTORIES[name](prob)
    v = np.sin(np.arange(np.size(prob.x)) + 0.5).reshape(np.shape(prob.x))
    value, slope = p.jvp(prob.x, v)  # type: ignore[attr-defined]
    truth = float(np.sum(np.asarray(prob.grad(prob.x)) * v))
    assert value == pytest.approx(float(prob.fun(prob.x)), rel=VALUE_RTOL.get(name, 1e-15))
    assert slope == pytest.approx(truth, rel=1e-13, abs=1e-13)
    assert type(value) is float and type(slope) is float
    assert (p.nfev, p.ngev, p.nhev) == (1, 0, 0)
    assert p.jvp(prob.x, v) == (value, slope) and p.nfev == 1  # type: ignore[attr-defined]


def test_signed_zero_is_a_different_point(name: str) -> None:
    """The cache compares points bitwise: f may tell -0.0 from 0.0 (here: copysign)."""
    prob = Problem("copysign", _copysign, np.zeros_like, 0.0)
    p = FACTORIES[name](prob)
    assert p.value(np.array([0.0])) == 1.0
    assert p.value(np.array([-0.0])) == -1.0


def _copysign(xp: Any, x: Any) -> Any:
    return xp.sum(x * 0.0) + xp.copysign(1.0, x[0])


def _doubles_its_argument(xp: Any, x: Any) -> Any:
    x *= 2.0  # in place on a numpy array; a new value under autograd and JAX
    return (x[0] ** 2 + x[-1] ** 2) / 4


def _doubles_its_argument_grad(x: Any) -> Any:
    x *= 2.0
    return np.where(np.arange(x.size) % (x.size - 1) == 0, x, 0.0)  # 2 x_0, 0, 2 x_-1


def test_a_function_that_writes_into_its_argument(name: str) -> None:
    """f and grad may scribble on the array they are given: neither the caller's x nor
    the provider's cached point may change (a forward difference would be off by 1e9)."""
    prob = Problem(
        "doubles", _doubles_its_argument, _doubles_its_argument_grad, np.array([1.0, 2.0, 3.0])
    )
    x = prob.x.copy()
    p = FACTORIES[name](prob)
    assert p.value(x) == 10.0
    g = p.grad(x)
    assert relative_error(g, [2.0, 0.0, 6.0]) <= TOLERANCE[name]
    assert p.value_and_grad(x)[0] == 10.0
    np.testing.assert_array_equal(p.grad(x), g)
    np.testing.assert_array_equal(x, prob.x)


@pytest.mark.parametrize("d", [3, 20_000])  # both ways the cache compares points
def test_cache_compares_points_bitwise(d: int) -> None:
    calls: list[float] = []

    def f(x: Any) -> Any:
        calls.append(1.0)
        return np.sum(np.copysign(1.0, x))

    p = FiniteDifference(f)
    x = np.zeros(d)
    assert p.value(x) == d and p.value(x.copy()) == d and len(calls) == 1
    x[-1] = -0.0
    assert p.value(x) == d - 2 and len(calls) == 2
    x[-1] = 1e-300
    assert p.value(x) == d and len(calls) == 3
