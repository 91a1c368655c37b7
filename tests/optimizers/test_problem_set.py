"""Every gradient-based method crossed with the shared problem set (Autograd provider,
so that the Hessian methods have hessp too), at each method's default settings."""

from __future__ import annotations

import numpy as np
import pytest

from gradopt import Autograd, minimize
from gradopt.optimizers import Status, available_methods
from gradopt.optimizers._scipy_methods import SCIPY_METHODS
from tests.optimizers.problems import Problem, beale, huber_regression, quadratic, rosenbrock

PROBLEMS = {
    "quadratic": quadratic,
    "beale": beale,
    "huber": huber_regression,
    "rosenbrock2": lambda: rosenbrock(2),
}
GRADIENT_METHODS = [
    m
    for m in available_methods()
    if SCIPY_METHODS.get(m.lower()) is None or SCIPY_METHODS[m.lower()].uses_gradient
]


@pytest.mark.parametrize("problem_name", sorted(PROBLEMS))
@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_method_on_problem(method: str, problem_name: str) -> None:
    problem: Problem = PROBLEMS[problem_name]()
    provider = Autograd(problem.fun)
    res = minimize(provider, problem.x0, method)
    if (method, problem_name) == ("dogleg", "beale"):
        # The Hessian of Beale's function at the start (1, 1) is indefinite and dogleg
        # needs a positive definite one; scipy says so and gradopt reports it.
        assert res.status == Status.SOLVER_FAILED.value and "non-psd" in res.message
        return
    assert res.success, res.message
    # Defaults differ (SLSQP stops on f, TNC on a scaled gradient): a loose common bar.
    assert np.linalg.norm(problem.grad(res.x)) < 1e-2
    if problem.x_star is not None:
        assert np.linalg.norm(res.x - problem.x_star) < 1e-2
    assert res.nfev == provider.nfev and res.njev == provider.ngev
    assert res.fun == pytest.approx(float(problem.fun(res.x)), rel=1e-9, abs=1e-15)
