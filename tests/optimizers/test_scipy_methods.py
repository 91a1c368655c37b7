"""scipy's methods through gradopt.minimize: accuracy with every provider, Hessians,
options checked against what each method accepts, bounds, capabilities."""

from __future__ import annotations

import inspect

import autograd.numpy as anp
import numpy as np
import pytest
import scipy.optimize
from scipy.optimize import rosen_der, rosen_hess

from gradopt import Analytic, Autograd, FiniteDifference, minimize
from gradopt.exceptions import InvalidInputError, MissingCapabilityError
from gradopt.optimizers import Status, available_methods
from gradopt.optimizers._scipy_methods import (
    SCIPY_METHODS,
    accepted_options,
    documented_options,
)
from gradopt.optimizers._scipy_options import SCIPY_DIFFERENCING
from tests.optimizers.problems import quadratic, rosen, rosenbrock

EPS = np.finfo(np.float64).eps

# Tighter than scipy's defaults so that the exact providers get well below 1e-5.
TIGHT = {"L-BFGS-B": {"ftol": 1e-14, "gtol": 1e-9}, "BFGS": {"gtol": 1e-9}}
# BFGS from tile([-1.2, 1], 5) ends in the local minimum of the 10-d Rosenbrock function
# near (-1, 1, ..., 1) (see the test below), so it starts from 0. (Its c2 option, which
# can avoid that, is new in scipy 1.12.)
START = {"L-BFGS-B": lambda d: np.tile([-1.2, 1.0], d // 2), "BFGS": np.zeros}


def forward_difference_bias(d: int) -> np.ndarray:
    """Where a forward difference moves the minimizer of Rosenbrock, to first order.

    The forward difference is ``g_j + (h/2) H_jj + O(h^2)`` with h = sqrt(eps) at x = 1
    (round-off is negligible there: f is 0). An optimizer that zeroes this biased
    gradient stops at ``1 + dx`` with ``H dx = -(h/2) diag(H)``; ||dx|| is 1.0e-5 for
    d = 2 and 1.5e-5 for d = 10, above 1e-5 whatever the optimizer does.
    """
    hess = rosen_hess(np.ones(d))
    return -np.linalg.solve(hess, 0.5 * np.sqrt(EPS) * np.diag(hess))


@pytest.mark.parametrize("d", [2, 10])
@pytest.mark.parametrize("method", ["L-BFGS-B", "BFGS"])
@pytest.mark.parametrize("provider", ["analytic", "forward", "central", "complex", "autograd"])
def test_rosenbrock_every_provider(d: int, method: str, provider: str) -> None:
    problem = rosenbrock(d)
    x0 = START[method](d)
    res = minimize(problem.providers()[provider](), x0, method, options=TIGHT[method])
    error = np.linalg.norm(res.x - 1.0)
    if provider == "forward":
        bias = forward_difference_bias(d)
        # It converges to the biased point theory predicts, and no closer to 1 than that.
        assert np.linalg.norm(res.x - (1.0 + bias)) < 1e-6
        assert error < np.linalg.norm(bias) + 1e-6
    else:
        assert error < 1e-5
    if provider in ("analytic", "complex", "autograd"):
        assert res.success, res.message
        assert res.status == Status.SUCCESS.value


def test_bfgs_defaults_end_in_the_local_minimum_of_rosenbrock_10() -> None:
    problem = rosenbrock(10)
    res = minimize(problem.providers()["analytic"](), problem.x0, "BFGS")
    assert res.success  # a genuine local minimum: the gradient vanishes there
    assert res.x[0] == pytest.approx(-0.9933, abs=1e-3)
    assert res.fun == pytest.approx(3.9866, abs=1e-3)


@pytest.mark.parametrize("method", ["Newton-CG", "trust-krylov", "trust-ncg"])
def test_second_order_methods_use_hessp_from_autograd(method: str) -> None:
    problem = rosenbrock(10)
    provider = Autograd(problem.fun)
    options = {"xtol": 1e-12} if method == "Newton-CG" else {"gtol": 1e-8}
    res = minimize(provider, problem.x0, method, options=options)
    assert res.success, res.message
    assert np.linalg.norm(res.x - 1.0) < 1e-5
    assert res.nhev > 0 and res.nhev == provider.nhev


def test_newton_cg_without_hessp_differences_gradients() -> None:
    problem = rosenbrock(2)
    res = minimize(Analytic(rosen, rosen_der), problem.x0, "Newton-CG", options={"xtol": 1e-10})
    assert res.success and res.nhev == 0
    assert np.linalg.norm(res.x - 1.0) < 1e-5


@pytest.mark.parametrize("method", ["trust-ncg", "trust-krylov", "dogleg", "trust-exact"])
def test_methods_needing_hessp_fail_up_front_without_it(method: str) -> None:
    calls = []

    def f(x: np.ndarray) -> float:
        calls.append(x)
        return float(rosen(x))

    with pytest.raises(MissingCapabilityError, match=f"{method}.*has no hessp"):
        minimize(Analytic(f, rosen_der), [-1.2, 1.0], method)
    assert calls == []  # nothing evaluated


@pytest.mark.parametrize("key", sorted(SCIPY_METHODS))
def test_every_accepted_option_is_really_accepted_by_scipy(key: str) -> None:
    """Each name gradopt accepts reaches scipy without its 'Unknown solver options'
    warning (warnings are errors in this suite), passed with scipy's own default."""
    method = SCIPY_METHODS[key]
    solver = getattr(scipy.optimize._minimize, method.solver)
    functions = [solver]
    if method.forwards_to is not None:
        module, _, name = method.forwards_to.rpartition(".")
        functions.append(getattr(__import__(module, fromlist=[name]), name))
    defaults: dict[str, object] = {}
    for function in functions:
        for param in inspect.signature(function).parameters.values():
            if param.name in accepted_options(method) and param.default is not param.empty:
                defaults.setdefault(param.name, param.default)
    assert set(defaults) == accepted_options(method)
    if method.uses_gradient:  # scipy's own differencing options are refused (tested below)
        defaults = {k: v for k, v in defaults.items() if k not in SCIPY_DIFFERENCING}
    problem = quadratic()
    res = minimize(Autograd(problem.fun), problem.x0, method.name, options=defaults)
    assert np.isfinite(res.fun)


@pytest.mark.parametrize("option", ["eps", "finite_diff_rel_step"])
def test_options_of_scipys_own_differencing_are_refused(option: str) -> None:
    """With the provider's gradient they would do nothing: say so instead of ignoring them."""
    problem = quadratic()
    with pytest.raises(InvalidInputError, match=rf"'{option}'.*gradopt does not use"):
        minimize(Analytic(problem.fun, problem.grad), problem.x0, "BFGS", options={option: 0.1})


def test_newton_cg_without_hessp_uses_eps() -> None:
    problem = quadratic()
    res = minimize(
        Analytic(problem.fun, problem.grad), problem.x0, "Newton-CG", options={"eps": 1e-7}
    )
    assert problem.x_star is not None
    assert np.linalg.norm(res.x - problem.x_star) < 1e-5  # eps reached scipy and was used


@pytest.mark.parametrize("key", sorted(SCIPY_METHODS))
def test_documented_options_are_accepted(key: str) -> None:
    method = SCIPY_METHODS[key]
    documented = documented_options(method)
    assert accepted_options(method) & {"maxiter", "maxfun"}
    # scipy's Powell documentation mentions `method` and `options` of minimize_scalar.
    quirks = {"method", "options"} if key == "powell" else set()
    assert documented - quirks <= accepted_options(method)


@pytest.mark.parametrize("key", sorted(SCIPY_METHODS))
def test_misspelt_scipy_option_is_an_error_naming_it(key: str) -> None:
    method = SCIPY_METHODS[key]
    problem = quadratic()
    with pytest.raises(InvalidInputError, match=r"does not accept the option\(s\) 'maxiterr'"):
        minimize(Autograd(problem.fun), problem.x0, method.name, options={"maxiterr": 5})


def test_unknown_method_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidInputError) as info:
        minimize(Analytic(rosen, rosen_der), [0.0, 0.0], "lbfgs")
    message = str(info.value)
    assert "'lbfgs'" in message
    for name in available_methods():
        assert name in message


def test_method_names_are_case_insensitive() -> None:
    res = minimize(Analytic(rosen, rosen_der), [-1.2, 1.0], "l-bfgs-b")
    assert res.success and res.method == "L-BFGS-B"


def test_bounds_are_passed_and_checked() -> None:
    provider = Analytic(rosen, rosen_der)
    res = minimize(provider, [-1.2, 1.0], "L-BFGS-B", bounds=[(-2, 0.5), (-2, 2)])
    assert res.success and res.x[0] == pytest.approx(0.5)
    with pytest.raises(InvalidInputError, match="one \\(low, high\\) pair per coordinate"):
        minimize(provider, [-1.2, 1.0], "L-BFGS-B", bounds=[(-2, 2)])
    with pytest.raises(InvalidInputError, match=r"x0\[0\] = -1.2 is not within its bounds"):
        minimize(provider, [-1.2, 1.0], "L-BFGS-B", bounds=[(-1, 2), (-2, 2)])
    with pytest.raises(InvalidInputError, match=r"x0\[1\] = 1.0 is not within its bounds"):
        minimize(provider, [-1.2, 1.0], "TNC", bounds=scipy.optimize.Bounds([-2, 2], [2, 3]))
    res = minimize(provider, [-1.2, 1.0], "TNC", bounds=[(None, 0.5), (None, None)])
    assert res.success and res.x[0] == pytest.approx(0.5)
    with pytest.raises(InvalidInputError, match="'BFGS' does not accept bounds"):
        minimize(provider, [-1.2, 1.0], "BFGS", bounds=[(-2, 2), (-2, 2)])


def test_counts_are_calls_of_the_users_function() -> None:
    calls = 0

    def f(x: np.ndarray) -> float:
        nonlocal calls
        calls += 1
        return float(rosen(x))

    provider = FiniteDifference(f, method="central")
    provider.value([0.0, 0.0])  # calls before the run are not the run's
    before = calls
    res = minimize(provider, [-1.2, 1.0], "BFGS")
    assert res.nfev == calls - before > 0
    assert res.njev == res.nit + 1 or res.njev > res.nit  # one per iterate and trial point


def test_dense_hessian_from_hessp_for_dogleg() -> None:
    problem = quadratic()
    res = minimize(Autograd(problem.fun), problem.x0, "dogleg")
    assert res.success
    assert res.x == pytest.approx(problem.x_star, abs=1e-6)
    assert res.nhev % problem.x0.size == 0  # d products per Hessian


def test_derivative_free_method_asks_for_one_gradient_to_check_its_claim() -> None:
    problem = rosenbrock(2)
    provider = FiniteDifference(problem.fun)
    res = minimize(provider, problem.x0, "Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-12})
    assert res.success and res.njev == 1 and res.jac is None
    assert np.linalg.norm(res.x - 1.0) < 1e-5
    limited = minimize(provider, problem.x0, "Nelder-Mead", options={"maxiter": 5})
    assert limited.status == Status.MAX_ITER and limited.njev == 0  # no claim, no check


def test_provider_must_be_a_provider() -> None:
    with pytest.raises(InvalidInputError, match="GradientProvider"):
        minimize(rosen, [0.0, 0.0])  # type: ignore[arg-type]


def test_x0_is_validated() -> None:
    with pytest.raises(InvalidInputError, match="x0 must be finite"):
        minimize(Analytic(rosen, rosen_der), [np.nan, 1.0])
    with pytest.raises(InvalidInputError, match="x0 must be a scalar or a 1-D array"):
        minimize(Analytic(rosen, rosen_der), np.zeros((2, 2)))


@pytest.mark.parametrize("tol", [0.0, -1e-3, np.nan, "1e-3"])
def test_tol_is_validated(tol: object) -> None:
    with pytest.raises(InvalidInputError, match="tol must be a positive number"):
        minimize(Analytic(rosen, rosen_der), [0.0, 0.0], tol=tol)  # type: ignore[arg-type]


def test_scalar_x0() -> None:
    res = minimize(Autograd(lambda x: (x - 2.0) ** 2 + anp.sin(x) * 0.0), 0.0, "BFGS")
    assert res.success and res.x == pytest.approx([2.0])


@pytest.mark.parametrize("key", sorted(SCIPY_METHODS))
def test_iteration_limits_are_reported_as_max_iter(key: str) -> None:
    method = SCIPY_METHODS[key]
    limit = {"tnc": {"maxfun": 3}, "cobyla": {"maxiter": 10}}.get(key, {"maxiter": 2})
    problem = rosenbrock(6)
    res = minimize(Autograd(problem.fun), problem.x0, method.name, options=limit)
    assert not res.success
    assert res.status == Status.MAX_ITER.value, res.message
    assert np.all(np.isfinite(res.x))


@pytest.mark.parametrize("key", sorted(k for k, m in SCIPY_METHODS.items() if m.bounds))
def test_bounds_fixing_a_variable(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    """scipy removes fixed variables for some methods (and then calls callbacks with the
    reduced x); gradopt's iterate tracking and gradient must still be the full ones."""
    method = SCIPY_METHODS[key]
    bounds = [(-2.0, 2.0), (1.0, 1.0), (-2.0, 2.0)]
    res = minimize(Analytic(rosen, rosen_der), [-1.2, 1.0, 0.5], method.name, bounds=bounds)
    assert res.success, res.message
    assert res.x.shape == (3,) and res.x[1] == pytest.approx(1.0, abs=1e-6)  # interior point
    assert res.fun == pytest.approx(rosen(res.x))
    if method.uses_gradient:
        np.testing.assert_allclose(res.jac, rosen_der(res.x))
    assert capsys.readouterr().out == ""


class _Minimal:
    """The smallest GradientProvider: no BaseProvider, no nhev, no hessp."""

    def __init__(self) -> None:
        self.nfev = self.ngev = 0

    def value(self, x: np.ndarray) -> float:
        self.nfev += 1
        return float(rosen(np.asarray(x)))

    def grad(self, x: np.ndarray) -> np.ndarray:
        self.ngev += 1
        return rosen_der(np.asarray(x))

    def value_and_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        return self.value(x), self.grad(x)

    def reset_counts(self) -> None:
        self.nfev = self.ngev = 0


@pytest.mark.parametrize("method", ["L-BFGS-B", "gradient-descent", "Newton-CG"])
def test_any_object_following_the_protocol_works(method: str) -> None:
    provider = _Minimal()
    options = {"max_iter": 10**5} if method == "gradient-descent" else {"maxiter": 10**4}
    res = minimize(provider, [-1.2, 1.0], method, options=options)
    assert res.success, res.message
    assert np.linalg.norm(res.x - 1.0) < 1e-3
    assert (res.nfev, res.njev, res.nhev) == (provider.nfev, provider.ngev, 0)
    with pytest.raises(MissingCapabilityError):
        minimize(provider, [-1.2, 1.0], "trust-krylov")


@pytest.mark.parametrize(
    "method", [m for m in ("Nelder-Mead", "COBYQA") if m in available_methods()]
)
def test_derivative_free_methods_keep_to_their_evaluation_limit(method: str) -> None:
    """Following the iterates for the callback must not call f again (scipy's maxfev)."""
    provider = Analytic(rosen, rosen_der)
    res = minimize(provider, np.zeros(20), method=method, options={"maxfev": 400})
    assert Status(res.status) is Status.MAX_ITER
    assert res.nfev == 400


def test_newton_cg_without_hessp_calls_f_as_often_as_scipy() -> None:
    """It differences gradients: each difference must cost a gradient, not also a value."""
    x0 = np.tile([-1.2, 1.0], 5)
    ours = minimize(Analytic(rosen, rosen_der), x0, "Newton-CG")
    theirs = scipy.optimize.minimize(rosen, x0, jac=rosen_der, method="Newton-CG")
    assert (ours.nfev, ours.njev, ours.nit) == (theirs.nfev, theirs.njev, theirs.nit)
    np.testing.assert_array_equal(ours.x, theirs.x)
