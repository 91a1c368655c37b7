"""Calls of the user's function each provider makes, counted by the function itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gradopt import Analytic, Autograd, FiniteDifference
from tests.problems import Problem, problem


class Counting:
    """Wraps a function and counts its calls, independently of gradopt's ``nfev``."""

    def __init__(self, fun: Callable[[Any], Any]) -> None:
        self.fun = fun
        self.calls = 0

    def __call__(self, x: Any) -> Any:
        self.calls += 1
        return self.fun(x)


CASES = [problem("sin@1"), problem("rosen-d2-start"), problem("rosen-d10-random")]
CASES += [problem("rosen-d100-start")]


def dim(prob: Problem) -> int:
    return int(np.size(prob.x))


# calls of f for (value_and_grad, value then grad, grad alone) in d dimensions
EXPECTED: dict[str, Callable[[int], tuple[int, int, int]]] = {
    "forward": lambda d: (d + 1, d + 1, d + 1),
    "backward": lambda d: (d + 1, d + 1, d + 1),
    "central": lambda d: (2 * d + 1, 2 * d + 1, 2 * d),
    "complex": lambda d: (d + 1, d + 1, d),
}


@pytest.mark.parametrize("method", list(EXPECTED))
@pytest.mark.parametrize("prob", CASES, ids=repr)
def test_finite_difference_calls(method: str, prob: Problem) -> None:
    both, value_then_grad, grad_alone = EXPECTED[method](dim(prob))

    f = Counting(prob.fun)
    p = FiniteDifference(f, method=method)  # type: ignore[arg-type]
    p.value_and_grad(prob.x)
    assert f.calls == p.nfev == both

    f = Counting(prob.fun)
    p = FiniteDifference(f, method=method)  # type: ignore[arg-type]
    p.value(prob.x)
    p.grad(prob.x)
    assert f.calls == p.nfev == value_then_grad

    f = Counting(prob.fun)
    p = FiniteDifference(f, method=method)  # type: ignore[arg-type]
    p.grad(prob.x)
    assert f.calls == p.nfev == grad_alone
    assert p.ngev == 1


@pytest.mark.parametrize("prob", CASES, ids=repr)
def test_autograd_calls_the_function_once_per_gradient(prob: Problem) -> None:
    """Autograd is not doing numerical differentiation: one (traced) call per gradient,
    whatever the dimension, where a forward difference needs d + 1."""
    f = Counting(prob.fun)
    p = Autograd(f)
    x = np.asarray(prob.x, dtype=np.float64)
    for k in range(5):
        xk = x + 0.1 * k
        value, g = p.value_and_grad(xk)
        assert f.calls == p.nfev == p.ngev == k + 1
        assert value == pytest.approx(float(prob.fun(xk)), rel=1e-15)
        np.testing.assert_allclose(g, prob.grad(xk), rtol=1e-12, atol=1e-12)
    p.grad(x + 0.1 * 4)  # same point: cached
    assert f.calls == 5


def test_analytic_calls_each_function_once() -> None:
    prob = problem("rosen-d10-start")
    f, g = Counting(prob.fun), Counting(prob.grad)
    p = Analytic(f, g)
    p.value_and_grad(prob.x)
    p.value_and_grad(prob.x)
    assert (f.calls, g.calls, p.nfev, p.ngev) == (1, 1, 1, 1)


def test_hessp_is_counted_in_nhev_only() -> None:
    """One policy for every provider: a Hessian-vector product adds to nhev, never to
    nfev (whatever an automatic differentiation pass evaluates inside it); the same
    (x, v) again is answered from the cache."""
    prob = problem("rosen-d10-start")
    v = np.ones(10)
    for p in (Analytic(prob.fun, prob.grad, prob.hessp), Autograd(prob.fun)):
        p.hessp(prob.x, v)
        p.hessp(prob.x, v + 1.0)
        p.hessp(prob.x, v + 1.0)
        assert (p.nfev, p.ngev, p.nhev) == (0, 0, 2)
        p.reset_counts()
        assert p.nhev == 0
