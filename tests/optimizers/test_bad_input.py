"""Bad input to the optimizers, row by row: each gets an InvalidInputError that names the
argument, or a result with success=False; never scipy's own traceback or a silent
coercion. (The table in docs/optimizers.rst, "Bad input", lists the same rows.)"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.optimize
from scipy.optimize import rosen, rosen_der

from gradopt import Analytic, FiniteDifference, minimize
from gradopt.exceptions import InvalidInputError
from gradopt.optimizers import Status, available_methods

# (method, keyword arguments, a regular expression the message must match)
REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("L-BFGS-B", {"options": {"maxiter": "10"}}, r"option 'maxiter'='10': must be a number"),
    ("BFGS", {"options": {"gtol": "abc"}}, r"option 'gtol'='abc': must be a number"),
    ("BFGS", {"options": {"gtol": -1}}, r"option 'gtol'=-1: .*greater than or equal to 0"),
    ("BFGS", {"options": {"gtol": np.nan}}, r"option 'gtol'=nan: .*finite number"),
    ("BFGS", {"options": {"norm": "inf"}}, r"option 'norm'='inf': must be a number"),
    ("CG", {"options": {"norm": 0}}, r"option 'norm'=0: must be inf, -inf or a number >= 1"),
    ("L-BFGS-B", {"options": {"maxiter": True}}, r"option 'maxiter'=True: must be a number"),
    ("L-BFGS-B", {"options": {"maxiter": 2.5}}, r"option 'maxiter'=2.5"),
    ("Nelder-Mead", {"options": {"adaptive": "yes"}}, r"'adaptive'='yes': must be True or False"),
    ("BFGS", {"options": {"disp": "no"}}, r"'disp'='no': must be True, False or a verbosity"),
    ("trust-constr", {"options": {"factorization_method": "LU"}}, r"'factorization_method'"),
    ("L-BFGS-B", {"options": {"maxiterr": 5}}, r"does not accept the option\(s\) 'maxiterr'"),
    ("L-BFGS-B", {"options": [("maxiter", 5)]}, r"options must be a dict"),
    ("BFGS", {"options": {"eps": 1e-3}}, r"'eps' set scipy's own finite differences.*step="),
    ("BFGS", {"options": {"workers": 4}}, r"FiniteDifference\(fun, workers=N\).*executor="),
    ("L-BFGS-B", {"bounds": 5}, r"bounds must be a sequence of \(lo, hi\) pairs.*got int"),
    ("L-BFGS-B", {"bounds": [(0, np.nan), (0, 1)]}, r"bounds\[0\] = \(0, nan\).*no NaN"),
    ("L-BFGS-B", {"bounds": [(2, 1), (0, 1)]}, r"upper bound is below the lower bound"),
    ("TNC", {"bounds": scipy.optimize.Bounds([1, 0], [0, 1])}, r"upper bound is below the lower"),
    ("L-BFGS-B", {"bounds": [(0, 1)] * 3}, r"one \(low, high\) pair per coordinate of x0 \(2\)"),
    ("L-BFGS-B", {"bounds": [(0, 1), (0.6, 1)]}, r"x0\[1\] = 0.5 is not within its bounds"),
    ("L-BFGS-B", {"bounds": [(0, 1, 2), (0, 1)]}, r"bounds\[0\] must be a \(lo, hi\) pair"),
    ("BFGS", {"bounds": [(0, 1), (0, 1)]}, r"'BFGS' does not accept bounds"),
    ("L-BFGS-B", {"tol": True}, r"tol must be a positive number or None; got True"),
    ("L-BFGS-B", {"tol": "1e-6"}, r"tol must be a positive number"),
    ("L-BFGS-B", {"tol": -1.0}, r"tol must be a positive number"),
    ("L-BFGS-B", {"callback": 3}, r"callback must be callable"),
    ("L-BFGS-B", {"progress": "yes"}, r"progress must be True or False"),
    ("gradient-descent", {"tol": True}, r"tol must be a positive number"),
    ("gradient-descent", {"options": {"nesterov": "yes", "momentum": 0.5}}, r"'nesterov'='yes'"),
    ("gradient-descent", {"options": {"max_iter": "10"}}, r"'max_iter'='10': must be a number"),
    ("gradient-descent", {"options": {"learning_rate": True}}, r"'learning_rate'=True"),
    ("gradient-descent", {"options": {"history": 1}}, r"'history'=1: must be True or False"),
    ("gradient-descent", {"bounds": [(0, 1)] * 2}, r"gradient descent does not accept bounds"),
    ("Nelder-Mead", {"options": {"initial_simplex": [[0.0, 0.0]]}}, r"initial_simplex"),
    ("lbfgs", {}, r"unknown method 'lbfgs'; valid methods: .*L-BFGS-B"),
]


@pytest.mark.parametrize(("method", "kwargs", "match"), REFUSED, ids=[m for _, _, m in REFUSED])
def test_refused_before_the_run(method: str, kwargs: dict[str, Any], match: str) -> None:
    calls: list[np.ndarray] = []

    def f(x: np.ndarray) -> float:
        calls.append(x)
        return float(rosen(x))

    with pytest.raises(InvalidInputError, match=match):
        minimize(Analytic(f, rosen_der), [0.5, 0.5], method, **kwargs)
    assert len(calls) <= 1  # at most the start (scipy checks initial_simplex after it)


def test_every_options_value_of_the_right_type_is_accepted() -> None:
    """The checks refuse the wrong type, not numpy's scalars or integral floats."""
    options = {"maxiter": np.int64(50), "gtol": np.float32(1e-6), "maxcor": 5.0}
    assert minimize(Analytic(rosen, rosen_der), [0.5, 0.5], options=options).success
    options = {"norm": 2, "disp": np.False_, "return_all": np.True_}
    assert minimize(Analytic(rosen, rosen_der), [0.5, 0.5], "BFGS", options=options).success


def test_nan_in_bounds_means_the_same_to_minimize_and_finite_difference() -> None:
    for bounds in ([(0.0, np.nan)], [(np.nan, None)]):
        with pytest.raises(InvalidInputError, match="no NaN"):
            minimize(Analytic(rosen, rosen_der), [0.5], bounds=bounds)
        with pytest.raises(InvalidInputError, match="no NaN"):
            FiniteDifference(lambda x: float(x[0] ** 2), bounds=bounds)
    # None and infinities leave a side open, for both
    open_bounds = [(None, np.inf), (-np.inf, None)]
    res = minimize(Analytic(rosen, rosen_der), [0.5, 0.5], bounds=open_bounds)
    assert res.success
    FiniteDifference(rosen, bounds=open_bounds).grad([0.5, 0.5])


@pytest.mark.parametrize("method", ["COBYQA", "cobyqa"])
def test_methods_of_a_newer_scipy_are_named(method: str) -> None:
    if "COBYQA" in available_methods():
        assert minimize(Analytic(rosen, rosen_der), [0.5, 0.5], method).success
    else:
        with pytest.raises(InvalidInputError, match=r"needs scipy >= 1.14; this is scipy"):
            minimize(Analytic(rosen, rosen_der), [0.5, 0.5], method)


def test_scipys_own_exception_becomes_a_failed_result() -> None:
    """Powell on an unbounded line: scipy raises "No valid bracket"; gradopt returns
    success=False with that message and the last iterate."""
    provider = Analytic(lambda x: float(x[0] + 2 * x[1]), lambda x: np.array([1.0, 2.0]))
    with np.errstate(over="ignore", invalid="ignore"):
        res = minimize(provider, [0.0, 0.0], "Powell")
    assert not res.success and res.status == Status.SOLVER_FAILED
    assert "No valid bracket" in res.message and np.isfinite(res.x).all()


def test_the_users_own_exception_is_not_wrapped() -> None:
    def f(x: np.ndarray) -> float:
        if x[0] > 0.6:
            raise KeyError("from the user's model")
        return float(rosen(x))

    with pytest.raises(KeyError, match="from the user's model"):
        minimize(Analytic(f, rosen_der), [0.5, 0.5], "Powell")


@pytest.mark.parametrize("method", ["Newton-CG", "COBYQA"])
def test_a_claimed_success_on_an_unbounded_line_is_refuted(method: str) -> None:
    if method not in available_methods():
        pytest.skip("COBYQA is in scipy >= 1.14")
    provider = Analytic(lambda x: float(x[0] + 2 * x[1]), lambda x: np.array([1.0, 2.0]))
    res = minimize(provider, [0.0, 0.0], method)
    assert not res.success and res.status == Status.NOT_STATIONARY
    assert "max |g_j| = 2" in res.message and "a step of" in res.message


def test_newton_cg_on_finite_differences_warns_at_run_time() -> None:
    with pytest.warns(UserWarning, match="differences gradients that are themselves finite"):
        res = minimize(FiniteDifference(rosen), [-1.2, 1.0], "Newton-CG")
    assert np.isfinite(res.fun)


@pytest.mark.parametrize("step", ["0.1", True, [0.1, "0.2"]])
def test_lenient_step_is_refused(step: Any) -> None:
    """Like tol=True and nesterov="yes": a string or a bool is not a number."""
    with pytest.raises(InvalidInputError, match=r"option 'step'.*must be a number"):
        FiniteDifference(rosen, step=step)
