"""scipy's own tests of ``scipy.optimize.minimize``, run through gradopt (second part:
the rest of ``TestOptimizeSimple``, ``TestLBFGSBBounds``, ``TestNewtonCg``,
``TestIterationLimits`` and the module-level tests). See test_scipy_suite.py.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import scipy.optimize
from numpy.testing import assert_allclose
from scipy.optimize import Bounds, rosen, rosen_der, rosen_hess

from gradopt import Analytic, minimize
from gradopt.exceptions import InvalidInputError
from gradopt.optimizers import Status, available_methods
from tests.optimizers.scipy_shim import (
    HAS_COBYQA,
    gradopt_minimize,
    scipy_methods_but,
)


def test_custom_method_is_a_runner() -> None:
    """test_custom, test_gh10771: scipy takes a callable ``method(fun, x0, ...)``;
    gradopt.minimize takes a callable runner ``method(provider, spec)`` (its own gradient
    descent plugs into scipy the other way round)."""
    seen = []

    def runner(provider: Any, spec: Any) -> Any:
        seen.append((spec.x0.tolist(), spec.tol, dict(spec.options)))
        return {"x": spec.x0, "fun": provider.value(spec.x0)}

    provider = Analytic(rosen, rosen_der)
    res = minimize(provider, [1.0, 1.0], method=runner, tol=1e-3, options={"a": 1})
    assert seen == [([1.0, 1.0], 1e-3, {"a": 1})] and res["fun"] == 0.0
    with pytest.raises(InvalidInputError, match="unknown method"):
        minimize(provider, [1.0, 1.0], method=3)  # type: ignore[arg-type]


TOL_METHODS = scipy_methods_but(
    "trust-constr", "trust-ncg", "trust-krylov", "dogleg", "trust-exact"
)
DERIVATIVE_FREE = {"Nelder-Mead", "Powell", "COBYLA", "COBYQA"}


@pytest.mark.parametrize("method", TOL_METHODS)
def test_minimize_tol_parameter(method: str) -> None:
    """test_minimize_tol_parameter: tol=1e-10 ends lower than tol=1."""

    def func(z: np.ndarray) -> float:
        x, y = z
        return float(x**2 * y**2 + x**4 + 1)

    def dfunc(z: np.ndarray) -> np.ndarray:
        x, y = z
        return np.array([2 * x * y**2 + 4 * x**3, 2 * x**2 * y])

    jac = None if method in DERIVATIVE_FREE else dfunc
    tight = gradopt_minimize(func, [2, 2], method=method, jac=jac, tol=1e-10)
    loose = gradopt_minimize(func, [2, 2], method=method, jac=jac, tol=1.0)
    assert func(tight.x) < func(loose.x)


@pytest.mark.parametrize("method", available_methods())
def test_callback_gets_a_copy(method: str) -> None:
    """test_minimize_callback_copies_array: every x the callback sees is its own copy."""
    results: list[tuple[np.ndarray, np.ndarray]] = []

    def callback(x: np.ndarray) -> None:
        results.append((x, x.copy()))

    options = (
        {"maxfun": 100}
        if method == "TNC"
        else {"max_iter": 5}
        if method == "gradient-descent"
        else {"maxiter": 5}
    )
    if method in ("COBYLA",):
        options = {"maxiter": 100}
    gradopt_minimize(
        rosen,
        np.zeros(10),
        method=method,
        jac=rosen_der,
        hess=rosen_hess,
        callback=callback,
        options=options,
    )
    assert len(results) > 2
    assert all(np.array_equal(x, y) for x, y in results)
    assert not any(np.may_share_memory(a[0], b[0]) for a, b in itertools.combinations(results, 2))


@pytest.mark.parametrize("method", TOL_METHODS)
def test_no_increase(method: str) -> None:
    """test_no_increase: with a gradient of the wrong sign the result never has a higher
    f than the start (scipy's test expects SLSQP to fail that, as it does here), and
    fun is f at x."""

    def func(x: np.ndarray) -> float:
        return float((x[0] - 1) ** 2)

    jac = None if method in DERIVATIVE_FREE else (lambda x: 2 * (x - 1) * (-1) - 2)
    options = {"maxfun": 20} if method == "TNC" else {"maxiter": 20}
    res = gradopt_minimize(func, np.array([2.0]), method=method, jac=jac, options=options)
    assert func(res.x) == res.fun
    assert res.fun <= 1.0 or (method == "SLSQP" and not res.success)


RESPECT_MAXITER = scipy_methods_but("TNC", "COBYLA")


@pytest.mark.parametrize("method", RESPECT_MAXITER)
def test_respect_maxiter(method: str) -> None:
    """test_respect_maxiter: 4 iterations, reported as MAX_ITER."""
    res = gradopt_minimize(
        rosen, np.zeros(10), method=method, jac=rosen_der, hess=rosen_hess, options={"maxiter": 4}
    )
    assert res.nit == 4 and res.status == Status.MAX_ITER, res.message


@pytest.mark.parametrize(
    "scale, method",
    # as scipy's test, not 1e-50 with L-BFGS-B and Newton-CG: their tolerances are absolute
    [
        (1e-50, "CG"),
        (1e-50, "BFGS"),
        *list(itertools.product([1.0, 1e50], ["CG", "BFGS", "L-BFGS-B", "Newton-CG"])),
    ],
)
def test_initial_step_scaling(scale: float, method: str) -> None:
    """test_initial_step_scaling: the first step does not depend on the scale of f."""
    x0 = [-1.0]
    first: list[float] = []

    def f(x: np.ndarray) -> float:
        if not first and x[0] != x0[0]:
            first.append(abs(x[0] - x0[0]))
        assert abs(x).max() <= 1e4, "stepped far away"
        return float(scale * (x[0] - 1) ** 2)

    options = {"gtol": scale * 1e-8} if method in ("CG", "BFGS") else {}
    res = gradopt_minimize(
        f, x0, method=method, jac=lambda x: np.array([scale * (x[0] - 1)]), options=options
    )
    assert res.success, res.message
    assert_allclose(res.x, [1.0])
    assert res.nit <= 3
    if scale > 1e-10:
        assert 0.5 < first[0] < 3


NAN_METHODS = scipy_methods_but("COBYLA")


@pytest.mark.parametrize("method", NAN_METHODS)
@pytest.mark.parametrize("after", [0, 2])
def test_nan_values(method: str, after: int) -> None:
    """test_nan_values: f NaN at once, or after two calls: success=False, always."""
    rng = np.random.default_rng(123122)
    calls = [0]

    def func(x: np.ndarray) -> float:
        calls[0] += 1
        return float(rng.random()) if calls[0] <= after else np.nan

    options = {"maxfun": 20} if method == "TNC" else {"maxiter": 20}
    with np.errstate(invalid="ignore"):  # as scipy's test: Powell's bracket computes inf - inf
        res = gradopt_minimize(
            func,
            np.array([1.0]),
            method=method,
            jac=lambda x: np.array([1.0]),
            hess=lambda x: np.array([[1.0]]),
            options=options,
        )
    assert res.success is False and res.status == Status.NON_FINITE, res.message
    assert np.isfinite(res.x).all()


@pytest.mark.parametrize("method", [m for m in available_methods() if m != "gradient-descent"])
def test_callback_stopiteration(method: str) -> None:
    """test_callback_stopiteration: StopIteration at the 5th iteration stops there, with
    gradopt's CALLBACK_STOP (scipy reports 99, or 3, or COBYLA's 30)."""
    count = [0]

    def callback(intermediate_result: Any) -> None:
        count[0] += 1
        if count[0] == 5:
            raise StopIteration

    res = gradopt_minimize(
        rosen, [1.1] * 5, method=method, jac=rosen_der, hess=rosen_hess, callback=callback
    )
    assert res.status == Status.CALLBACK_STOP and not res.success
    assert res.nit == 5 and res.fun == pytest.approx(rosen(res.x))


def test_bad_shapes_and_bounds() -> None:
    """test_ndim_error, test_minimize_invalid_bounds, test_minimize_l_bfgs_b_incorrect_bounds:
    InvalidInputError with gradopt's messages."""
    with pytest.raises(InvalidInputError, match="x0 must be a scalar or a 1-D array"):
        gradopt_minimize(lambda x: x, np.ones((2, 1)))
    f = lambda x: float(np.sum(x**2))  # noqa: E731
    for method in ("Nelder-Mead", "L-BFGS-B", "TNC", "Powell", "COBYLA", "trust-constr"):
        with pytest.raises(InvalidInputError, match="one \\(low, high\\) pair per coordinate"):
            gradopt_minimize(f, [1, 2, 3], method=method, bounds=Bounds([1, 2], [3, 4]))
        with pytest.raises(InvalidInputError, match="upper bound is below the lower bound"):
            gradopt_minimize(f, [1, 2, 1.5], method=method, bounds=Bounds([1, 6, 1], [3, 4, 2]))


@pytest.mark.parametrize(
    "method", ["L-BFGS-B", "TNC", "Powell", "Nelder-Mead"] + (["COBYQA"] if HAS_COBYQA else [])
)
def test_minimize_with_scalar(method: str) -> None:
    """test_minimize_with_scalar: a scalar x0 and one pair of bounds."""
    res = gradopt_minimize(lambda x: float(np.sum(x**2)), 17, bounds=[(-100, 100)], method=method)
    assert res.success and res.x.shape == (1,)
    assert_allclose(res.x, [0.0], atol=1e-5)


@pytest.mark.parametrize("jac", ["exact", "2-point", "3-point", None])
def test_l_bfgs_b_bounds(jac: str | None) -> None:
    """TestLBFGSBBounds: (1, None), (None, None) reaches (1, 0). scipy starts from
    (0, -1), outside the bounds, and clips it; gradopt refuses that start (documented)."""
    fun = lambda x: 0.5 * float(x[0] ** 2 + x[1] ** 2)  # noqa: E731
    with pytest.raises(InvalidInputError, match="not within its bounds"):
        gradopt_minimize(fun, [0, -1], method="L-BFGS-B", bounds=((1, None), (None, None)))
    res = gradopt_minimize(
        fun,
        [1, -1],
        method="L-BFGS-B",
        jac=(lambda x: x) if jac == "exact" else jac,
        bounds=((1, None), (None, None)),
    )
    assert res.success, res.message
    assert_allclose(res.x, (1, 0), atol=1e-6)


def himmelblau(p: np.ndarray) -> float:
    x, y = p
    return float((x * x + y - 11) ** 2 + (x + y * y - 7) ** 2)


def himmelblau_grad(p: np.ndarray) -> np.ndarray:
    x, y = p
    return np.array(
        [
            4 * x**3 + 4 * x * y - 42 * x + 2 * y**2 - 14,
            2 * x**2 + 4 * x * y + 4 * y**3 - 26 * y - 22,
        ]
    )


def himmelblau_hess(p: np.ndarray) -> np.ndarray:
    x, y = p
    return np.array(
        [[12 * x**2 + 4 * y - 42, 4 * x + 4 * y], [4 * x + 4 * y, 4 * x + 12 * y**2 - 26]]
    )


def test_newton_cg() -> None:
    """TestNewtonCg: Rosenbrock and Himmelblau with a Hessian."""
    res = gradopt_minimize(
        rosen, [-1.2, 1.0], jac=rosen_der, hess=rosen_hess, tol=1e-5, method="Newton-CG"
    )
    assert res.success
    assert_allclose(res.x, [1, 1], rtol=1e-4)
    res = gradopt_minimize(
        himmelblau,
        [-0.27, -0.9],
        jac=himmelblau_grad,
        hess=himmelblau_hess,
        method="Newton-CG",
        tol=1e-6,
    )
    assert res.success
    assert_allclose(res.x, [3, 2], rtol=1e-4)


@pytest.mark.parametrize("method", ["Nelder-Mead", "Powell"])
def test_iteration_limits(method: str) -> None:
    """TestIterationLimits: a success comes before the limit, a failure at it; the
    count reported is the count made (a success's includes the 4 calls of gradopt's
    check; a failure's leaves out points scipy asked twice, see test_maxfev).
    maxiter=inf, accepted by scipy, is refused (documented)."""
    calls = [0]

    def slow(v: np.ndarray) -> float:
        calls[0] += 1
        r, t = np.hypot(v[0], v[1]), np.arctan2(v[0], v[1])
        return float(np.sin(r * 20 + t) + r * 0.5)

    for start in ([0.1, 0.1], [1, 1], [2, 2]):
        for maxfev in (50, 500):
            calls[0] = 0
            res = gradopt_minimize(slow, start, method=method, options={"maxfev": maxfev})
            assert res.nfev == calls[0]
            if res.success:
                assert res.nfev < maxfev + 4
            else:
                assert res.status == Status.MAX_ITER and maxfev - 5 <= res.nfev <= maxfev
    with pytest.raises(InvalidInputError, match="'maxiter'=inf"):
        gradopt_minimize(slow, [1, 1], method=method, options={"maxiter": np.inf})


def test_result_shape_for_one_variable() -> None:
    """test_result_x_shape_when_len_x_is_one: x has shape (1,) for every method."""
    for method in available_methods():
        res = gradopt_minimize(
            lambda x: float(x[0] ** 2),
            np.array([0.1]),
            method=method,
            jac=lambda x: 2.0 * x,
            hess=lambda x: np.array([[2.0]]),
        )
        assert res.x.shape == (1,), method


@pytest.mark.parametrize("method", ["L-BFGS-B", "SLSQP", "TNC"])
def test_equal_bounds(method: str) -> None:
    """test_equal_bounds, test_all_bounds_equal: variables fixed by bounds stay fixed, with
    the full gradient; when all are fixed the start is the answer."""
    bounds = [(-2, 2), (2, 2), (-2, 2), (-1, -1)]
    res = gradopt_minimize(rosen, [0.5, 2, 0.5, -1], method=method, jac=rosen_der, bounds=bounds)
    ref = scipy.optimize.minimize(
        rosen, [0.5, 2, 0.5, -1], method=method, jac=rosen_der, bounds=bounds
    )
    assert res.success and res.jac.shape == (4,)
    assert_allclose(res.fun, ref.fun, rtol=5e-6)
    assert_allclose(res.x[[1, 3]], [2, -1])
    f = lambda x: float(np.linalg.norm(x) + 1)  # noqa: E731
    res = gradopt_minimize(f, [1.0, 2.0], bounds=[(1, 1), (2, 2)], method=method)
    assert res.success and res.fun == pytest.approx(f(np.array([1.0, 2.0])))


def test_maxiter_must_be_an_integer() -> None:
    """test_minimize_maxiter_noninteger: scipy accepts maxiter=100.1 (gh-23430); gradopt
    refuses a count that is not an integer (documented), but takes 1e2."""
    x0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])
    with pytest.raises(InvalidInputError, match=r"'maxiter'=100\.1"):
        gradopt_minimize(rosen, x0, method="BFGS", options={"maxiter": 100.1})
    assert gradopt_minimize(rosen, x0, method="BFGS", options={"maxiter": 1e2}).nit <= 100


def test_x_overwritten_by_the_users_function() -> None:
    """test_x_overwritten_user_function: f and its gradient write into x; every method
    still reaches arange(5) (gradopt hands f a copy)."""

    def fquad(x: np.ndarray) -> float:
        x -= np.arange(x.size)
        x *= x
        return float(np.sum(x))

    def fquad_jac(x: np.ndarray) -> np.ndarray:
        x *= 2
        x -= 2 * np.arange(x.size)
        return x

    for method in available_methods():
        res = gradopt_minimize(
            fquad,
            np.ones(5) * 1.5,
            method=method,
            jac=fquad_jac,
            hess=lambda x: 2.0 * np.eye(x.size),
        )
        assert_allclose(res.x, np.arange(5), atol=2e-4, err_msg=method)


def test_bounds_as_lists() -> None:
    """test_bounds_with_list, test_gh12594: Bounds of lists work like Bounds of arrays."""
    f = lambda x: float(x[0] ** 2 + (x[1] - 1) ** 2)  # noqa: E731
    res = gradopt_minimize(f, (0, 0), method="Powell", bounds=Bounds([-10, -10], [10, 10]))
    arrays = Bounds(np.array([-10, -10]), np.array([10, 10]))
    ref = gradopt_minimize(f, (0, 0), method="Powell", bounds=arrays)
    assert_allclose(res.x, ref.x)
    assert res.fun == ref.fun
    lists = Bounds(lb=[5.0, 5.0], ub=[10.0, 10.0])
    assert gradopt_minimize(rosen, np.array([9, 9]), method="Powell", bounds=lists).success
