"""Runs that end early: NaN or infinity, a provider's NonFiniteEvaluationError, callbacks
asking to stop; and the progress bar."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.optimize import OptimizeResult, rosen, rosen_der

from gradopt import Analytic, BaseProvider, minimize
from gradopt.exceptions import NonFiniteEvaluationError
from gradopt.optimizers import Status, available_methods
from gradopt.optimizers._scipy_methods import SCIPY_METHODS, HessianUse


def cliff(x: Any) -> Any:
    """sum((x - 3)^2), but NaN once x[0] passes 2 (the minimizer is at 3)."""
    return np.sum((x - 3.0) ** 2) * (np.nan if x[0] > 2 else 1.0)


def cliff_grad(x: Any) -> Any:
    return 2.0 * (x - 3.0)


def test_gradient_descent_stops_at_nan_with_the_last_finite_iterate() -> None:
    # Fixed step 0.1 from 0: x_k = 3 (1 - 0.8^k) passes 2 at k = 5.
    options = {"line_search": "none", "learning_rate": 0.1}
    res = minimize(Analytic(cliff, cliff_grad), [0.0, 0.0], "gradient-descent", options=options)
    assert not res.success and res.status == Status.NON_FINITE.value
    assert "f = nan at iteration 5" in res.message
    assert res.nit == 4
    np.testing.assert_allclose(res.x, 3 * (1 - 0.8**4))
    assert res.fun == cliff(res.x) and np.isfinite(res.jac).all()


def test_nan_at_the_starting_point() -> None:
    res = minimize(Analytic(cliff, cliff_grad), [2.5, 0.0], "gradient-descent")
    assert not res.success and res.status == Status.NON_FINITE.value
    assert "starting point (iteration 0)" in res.message
    assert res.nit == 0 and np.isnan(res.fun)
    np.testing.assert_array_equal(res.x, [2.5, 0.0])


@pytest.mark.parametrize("method", ["gradient-descent", "L-BFGS-B"])
def test_non_finite_gradient_at_the_start_keeps_the_finite_value(method: str) -> None:
    provider = Analytic(lambda x: float(np.sum(x**2)), lambda x: np.array([np.nan, 0.0]))
    res = minimize(provider, [1.0, 2.0], method)
    assert res.status == Status.NON_FINITE.value
    assert "gradient[0] = nan at the starting point" in res.message
    assert res.fun == 5.0 and res.nit == 0


def test_infinite_gradient_is_named() -> None:
    def grad(x: Any) -> Any:
        return np.array([np.inf, 0.0]) if x[0] > 1 else 2.0 * (x - 3.0)

    options = {"line_search": "none", "learning_rate": 0.1}
    res = minimize(Analytic(cliff, grad), [0.0, 0.0], "gradient-descent", options=options)
    assert res.status == Status.NON_FINITE.value and "gradient[0] = inf" in res.message
    assert np.all(np.isfinite(res.x)) and res.x[0] <= 1


def _provider(method: str, fun: Any, grad: Any) -> Analytic:
    spec = SCIPY_METHODS.get(method.lower())
    needs_hessp = spec is not None and spec.hessian is not HessianUse.NONE
    return Analytic(fun, grad, hessp=(lambda x, v: 2.0 * v) if needs_hessp else None)


@pytest.mark.parametrize("method", available_methods())
def test_every_method_backs_off_a_nan_cliff(method: str) -> None:
    """NaN beyond x[0] = 2 is a wall at trial points: the run ends at a finite point
    before it, whatever the verdict (the constrained minimum is (2, 3))."""
    res = minimize(_provider(method, cliff, cliff_grad), [0.0, 0.0], method)
    assert np.all(np.isfinite(res.x)) and res.x[0] <= 2
    assert np.isfinite(res.fun) and res.fun == pytest.approx(cliff(res.x))
    if res.status == Status.NON_FINITE:
        assert "returning the last finite iterate" in res.message
    else:
        assert res.fun < cliff(np.zeros(2))  # it moved downhill


@pytest.mark.parametrize("method", available_methods())
def test_every_method_stops_when_f_turns_nan_for_good(method: str) -> None:
    """After a few calls f is NaN everywhere: no search can recover, and the run ends
    with NON_FINITE and the last finite iterate."""
    calls = 0

    def fun(x: Any) -> float:
        nonlocal calls
        calls += 1
        return float(rosen(x)) if calls <= 5 else np.nan

    provider = _provider(method, fun, rosen_der)
    res = minimize(provider, [-1.2, 1.0], method)
    assert res.status == Status.NON_FINITE, res.message
    assert "returning the last finite iterate" in res.message
    assert np.all(np.isfinite(res.x)) and np.isfinite(res.fun)
    assert res.fun == float(rosen(res.x))


@pytest.mark.parametrize("method", ["Newton-CG", "trust-ncg", "trust-exact"])
def test_non_finite_hessian_vector_product(method: str) -> None:
    provider = Analytic(cliff, cliff_grad, hessp=lambda x, v: np.full_like(v, np.nan))
    res = minimize(provider, [0.0, 0.0], method)
    assert res.status == Status.NON_FINITE.value
    assert "a Hessian-vector product is not finite at iteration 1" in res.message
    np.testing.assert_array_equal(res.x, [0.0, 0.0])


class _Failing(BaseProvider):
    """A provider whose finite difference meets a NaN once x[0] passes 2."""

    def _compute_grad(self, x: Any, f0: float | None) -> tuple[float | None, Any]:
        self._count(1)
        if x[0] > 2:
            raise NonFiniteEvaluationError(f"f returned nan at x + h e_0 = {x}")
        return float(cliff(x)), cliff_grad(x)


@pytest.mark.parametrize("method", ["gradient-descent", "BFGS"])
def test_non_finite_evaluation_error_is_reported_like_nan(method: str) -> None:
    res = minimize(_Failing(cliff), [0.0, 0.0], method)
    assert res.status == Status.NON_FINITE.value
    assert "f returned nan at x + h e_0" in res.message
    assert "at a trial point" in res.message and "could not recover" in res.message
    assert np.all(np.isfinite(res.x)) and 1.9 < res.x[0] <= 2


def test_a_false_convergence_of_scipy_is_caught() -> None:
    """scipy's L-BFGS-B, after an infinite trial value, claims convergence at
    (0.707, 0.707) on the cliff with the gradient at (-4.6, -4.6); gradopt checks the
    claim against the gradient and a step downhill."""
    res = minimize(_Failing(cliff), [0.0, 0.0], "L-BFGS-B")
    assert not res.success and res.status == Status.NOT_STATIONARY
    assert "a step of" in res.message and "CONVERGENCE" in res.message


# ------------------------------------------------------------------------ callbacks
def rosenbrock_provider() -> Analytic:
    return Analytic(rosen, rosen_der)


@pytest.mark.parametrize("method", ["gradient-descent", "L-BFGS-B", "BFGS", "CG", "TNC"])
def test_callback_with_intermediate_result_can_stop(method: str) -> None:
    seen: list[OptimizeResult] = []

    def callback(intermediate_result: OptimizeResult) -> None:
        seen.append(intermediate_result)
        if intermediate_result.nit == 2:
            raise StopIteration

    x0 = np.array([-1.2, 1.0, -1.2])
    res = minimize(rosenbrock_provider(), x0, method, callback=callback)
    assert not res.success and res.status == Status.CALLBACK_STOP.value
    assert res.message.endswith("at iteration 2") and res.nit == 2
    assert [r.nit for r in seen] == [1, 2]
    np.testing.assert_array_equal(res.x, seen[-1].x)
    assert res.fun == seen[-1].fun


@pytest.mark.parametrize("method", ["gradient-descent", "L-BFGS-B", "Nelder-Mead"])
def test_callback_of_x_returning_true_stops(method: str) -> None:
    points: list[np.ndarray] = []

    def callback(x: np.ndarray) -> bool:
        points.append(x)
        return len(points) == 3

    res = minimize(rosenbrock_provider(), [-1.2, 1.0], method, callback=callback)
    assert res.status == Status.CALLBACK_STOP.value and res.nit == 3
    np.testing.assert_array_equal(res.x, points[-1])


def test_callback_returning_none_does_not_stop() -> None:
    res = minimize(rosenbrock_provider(), [-1.2, 1.0], "BFGS", callback=lambda x: None)
    assert res.success


# --------------------------------------------------------------------- progress bar
@pytest.mark.parametrize("method", ["gradient-descent", "L-BFGS-B"])
def test_progress_bar_only_when_asked(method: str, capsys: pytest.CaptureFixture[str]) -> None:
    minimize(rosenbrock_provider(), [-1.2, 1.0], method)
    quiet = capsys.readouterr()
    assert quiet.out == quiet.err == ""
    minimize(rosenbrock_provider(), [-1.2, 1.0], method, progress=True)
    shown = capsys.readouterr()
    assert shown.out == ""
    assert "gradopt" in shown.err and "gnorm=" in shown.err and "f=" in shown.err
