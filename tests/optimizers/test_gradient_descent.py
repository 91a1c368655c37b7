"""gradopt's gradient descent: line search, momentum, the textbook loop, stopping rules,
and the scipy custom-method entry point."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
from scipy.optimize import OptimizeResult

from gradopt import Analytic, Autograd, minimize
from gradopt.exceptions import InvalidInputError
from gradopt.optimizers import Status, gradient_descent
from tests.optimizers.problems import beale, huber_regression, quadratic

GD = "gradient-descent"


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"initial_step": "constant"},
        {"initial_step": "previous"},
        {"momentum": 0.5},
        {"momentum": 0.9, "nesterov": True},
        {"line_search": "none", "learning_rate": 0.02, "momentum": 0.9},
        {"line_search": "none", "learning_rate": 0.02, "momentum": 0.9, "nesterov": True},
    ],
)
def test_converges_on_a_convex_quadratic(options: dict[str, object]) -> None:
    problem = quadratic()  # condition number 50
    res = minimize(Analytic(problem.fun, problem.grad), problem.x0, GD, options=options)
    assert res.success, res.message
    assert np.linalg.norm(res.jac) <= 1e-5
    assert res.x == pytest.approx(problem.x_star, abs=1e-5)


@pytest.mark.parametrize("initial_step", ["bb", "previous", "constant"])
def test_huber_regression_in_at_most_50_iterations(initial_step: str) -> None:
    """Armijo backtracking reaches ||g|| < 1e-4 on the mean-scaled Huber loss well within
    50 iterations whatever the first trial step: plain Armijo from step 1 ("constant")
    suffices here, since the mean scaling makes the Hessian about 0.95 I."""
    problem = huber_regression()
    options = {"gtol": 1e-4, "initial_step": initial_step}
    res = minimize(Analytic(problem.fun, problem.grad), problem.x0, GD, options=options)
    assert res.success, res.message
    assert np.linalg.norm(problem.grad(res.x)) < 1e-4
    assert res.nit <= 50


def test_huber_regression_with_autograd_matches_analytic() -> None:
    problem = huber_regression()
    exact = minimize(Analytic(problem.fun, problem.grad), problem.x0, GD, options={"gtol": 1e-4})
    ad = minimize(Autograd(problem.fun), problem.x0, GD, options={"gtol": 1e-4})
    assert ad.nit == exact.nit
    assert ad.x == pytest.approx(exact.x, rel=1e-10)


def test_fixed_step_reproduces_the_textbook_loop_exactly() -> None:
    problem = beale()
    x, g, k = problem.x0.copy(), problem.grad(problem.x0), 0
    while np.linalg.norm(g) > 1e-3:
        x -= 1e-3 * g
        g = problem.grad(x)
        k += 1
    options = {"line_search": "none", "learning_rate": 1e-3, "gtol": 1e-3, "max_iter": 10**6}
    res = minimize(Analytic(problem.fun, problem.grad), problem.x0, GD, options=options)
    assert res.success
    assert res.nit == k > 1000
    np.testing.assert_array_equal(res.x, x)
    np.testing.assert_array_equal(res.jac, g)


def test_max_iter_stops_with_status_max_iter() -> None:
    problem = beale()
    options = {"line_search": "none", "learning_rate": 1e-3, "max_iter": 7}
    res = minimize(Analytic(problem.fun, problem.grad), problem.x0, GD, options=options)
    assert not res.success and res.status == Status.MAX_ITER.value and res.nit == 7
    assert "max_iter = 7" in res.message


def test_ftol_stops_early() -> None:
    problem = beale()
    options = {"line_search": "none", "learning_rate": 1e-3, "ftol": 1e-6}
    res = minimize(Analytic(problem.fun, problem.grad), problem.x0, GD, options=options)
    assert res.success and "ftol" in res.message
    assert np.linalg.norm(res.jac) > 1e-5  # it did not wait for gtol


def test_history_records_f_and_gradient_norm() -> None:
    problem = quadratic()
    res = minimize(Analytic(problem.fun, problem.grad), problem.x0, GD, options={"history": True})
    hist = res.history
    assert hist["fun"].shape == hist["grad_norm"].shape == (res.nit + 1,)
    assert hist["fun"][-1] == res.fun and hist["grad_norm"][-1] == np.linalg.norm(res.jac)
    # Armijo: monotone decrease, up to f's rounding error near the end
    assert np.all(np.diff(hist["fun"]) <= 1e-13 * np.abs(hist["fun"][1:]))
    assert "history" not in minimize(Analytic(problem.fun, problem.grad), problem.x0, GD)


def test_wrong_gradient_makes_the_line_search_fail() -> None:
    problem = quadratic()
    res = minimize(Analytic(problem.fun, lambda x: -problem.grad(x)), problem.x0, GD)
    assert not res.success and res.status == Status.LINE_SEARCH_FAILED.value
    assert "iteration 1" in res.message
    np.testing.assert_array_equal(res.x, problem.x0)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_iters": 5}, "unknown option 'max_iters'"),
        ({"momentum": 1.0}, "option 'momentum'=1.0"),
        ({"learning_rate": -1}, "option 'learning_rate'=-1"),
        ({"line_search": "wolfe"}, "option 'line_search'='wolfe'"),
        ({"nesterov": True}, "nesterov=True needs momentum > 0"),
    ],
)
def test_bad_options_are_errors_naming_the_option(options: dict[str, object], match: str) -> None:
    problem = quadratic()
    with pytest.raises(InvalidInputError, match=match):
        minimize(Analytic(problem.fun, problem.grad), problem.x0, GD, options=options)


def test_tol_is_gtol() -> None:
    problem = quadratic()
    res = minimize(Analytic(problem.fun, problem.grad), problem.x0, GD, tol=1e-2)
    assert 1e-3 < np.linalg.norm(res.jac) <= 1e-2
    # as in scipy, an explicit gtol option wins over tol
    res = minimize(
        Analytic(problem.fun, problem.grad), problem.x0, GD, tol=1e-2, options={"gtol": 1e-9}
    )
    assert np.linalg.norm(res.jac) <= 1e-9


def test_bounds_are_rejected() -> None:
    problem = quadratic()
    with pytest.raises(InvalidInputError, match="does not accept bounds"):
        minimize(Analytic(problem.fun, problem.grad), problem.x0, GD, bounds=[(0, 1)] * 6)


# ----------------------------------------------------------------- scipy custom method
def test_scipy_custom_method_with_jac_callable() -> None:
    problem = quadratic()
    res = scipy.optimize.minimize(
        problem.fun,
        problem.x0,
        jac=problem.grad,
        method=gradient_descent,
        options={"gtol": 1e-8, "momentum": 0.5},
    )
    assert isinstance(res, OptimizeResult) and res.success
    assert res.x == pytest.approx(problem.x_star, abs=1e-7)


def test_scipy_custom_method_with_jac_true_and_args() -> None:
    problem = quadratic()

    def fun_and_grad(x: np.ndarray, shift: float) -> tuple[float, np.ndarray]:
        return problem.fun(x - shift), problem.grad(x - shift)

    res = scipy.optimize.minimize(
        fun_and_grad, problem.x0, args=(1.0,), jac=True, method=gradient_descent, tol=1e-9
    )
    assert res.success and res.x == pytest.approx(problem.x_star + 1.0, abs=1e-8)
    assert res.nfev == res.njev  # one call of fun per point gives both


def test_scipy_custom_method_with_finite_differences() -> None:
    problem = quadratic()
    res = scipy.optimize.minimize(problem.fun, problem.x0, method=gradient_descent, tol=1e-7)
    assert res.success and res.x == pytest.approx(problem.x_star, abs=1e-6)
    assert res.nfev == (2 * problem.x0.size + 1) * res.njev  # central differences


def test_scipy_custom_method_callback_can_stop() -> None:
    problem = quadratic()

    def callback(intermediate_result: OptimizeResult) -> None:
        if intermediate_result.nit == 3:
            raise StopIteration

    res = scipy.optimize.minimize(
        problem.fun, problem.x0, jac=problem.grad, method=gradient_descent, callback=callback
    )
    assert res.status == Status.CALLBACK_STOP.value and res.nit == 3


def test_scipy_custom_method_rejects_misspelt_options_and_bounds() -> None:
    problem = quadratic()
    with pytest.raises(InvalidInputError, match="unknown option 'gtoll'"):
        scipy.optimize.minimize(
            problem.fun,
            problem.x0,
            jac=problem.grad,
            method=gradient_descent,
            options={"gtoll": 1e-3},
        )
    with pytest.raises(InvalidInputError, match="does not use bounds"):
        gradient_descent(problem.fun, problem.x0, jac=problem.grad, bounds=[(0, 1)] * 6)


def test_line_search_options_without_a_line_search_are_errors() -> None:
    p = Analytic(lambda x: float(x @ x), lambda x: 2 * x)
    with pytest.raises(InvalidInputError, match="initial_step: used only with line_search"):
        minimize(
            p,
            np.ones(2),
            method="gradient-descent",
            options={"line_search": "none", "learning_rate": 0.1, "initial_step": "bb"},
        )


def test_a_nan_at_the_start_still_names_the_method() -> None:
    p = Analytic(lambda x: float("nan"), lambda x: 2 * x)
    res = minimize(p, np.ones(2), method="gradient-descent")
    assert not res.success
    assert res.method == "gradient-descent"
