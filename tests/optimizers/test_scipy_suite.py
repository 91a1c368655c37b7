"""scipy's own tests of ``scipy.optimize.minimize``, run through gradopt.

Each test re-expresses one of ``scipy/optimize/tests/test_optimize.py`` (named in its
docstring) with :func:`~tests.optimizers.scipy_shim.gradopt_minimize`, which takes scipy's
arguments and builds a provider. Where gradopt differs on purpose (docs/optimizers.rst,
"Differences from scipy"), the test asserts gradopt's behaviour and says so; elsewhere it
asserts what scipy's test asserts, usually against scipy's own answer computed beside it.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import scipy.optimize
from numpy.testing import assert_allclose
from scipy.optimize import Bounds, rosen, rosen_der, rosen_hess

from gradopt.exceptions import InvalidInputError
from gradopt.optimizers import Status, available_methods
from gradopt.optimizers._scipy_methods import SCIPY_METHODS, accepted_options
from tests.optimizers.scipy_shim import gradopt_minimize

HAS_COBYQA = "COBYQA" in available_methods()


def scipy_methods_but(*excluded: str) -> list[str]:
    """The scipy methods the installed scipy has, less `excluded`."""
    return [m for m in available_methods() if m not in ("gradient-descent", *excluded)]


def has_option(method: str, option: str) -> bool:
    return option in accepted_options(SCIPY_METHODS[method.lower()])


class Entropy:
    """The constrained entropy maximization of Berger et al. (1996) that scipy's
    ``CheckOptimize`` uses, counting calls of f and of its gradient."""

    F = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 1], [1, 0, 0], [1, 0, 0]], dtype=float)
    K = np.array([1.0, 0.3, 0.5])
    start = np.zeros(3)
    solution = np.array([0.0, -0.524869316, 0.487525860])

    def __init__(self) -> None:
        self.funccalls = self.gradcalls = 0

    def func(self, x: np.ndarray) -> float:
        self.funccalls += 1
        log_pdot = self.F @ x
        return float(np.log(np.sum(np.exp(log_pdot))) - self.K @ x)

    def grad(self, x: np.ndarray) -> np.ndarray:
        self.gradcalls += 1
        log_pdot = self.F @ x
        p = np.exp(log_pdot - np.log(np.sum(np.exp(log_pdot))))
        return self.F.T @ p - self.K

    def hess(self, x: np.ndarray) -> np.ndarray:
        log_pdot = self.F @ x
        p = np.exp(log_pdot - np.log(np.sum(np.exp(log_pdot))))
        return self.F.T @ (np.diag(p) @ (self.F - self.F.T @ p))

    def f_star(self) -> float:
        return float(np.log(np.sum(np.exp(self.F @ self.solution))) - self.K @ self.solution)


# ----------------------------------------------------------- CheckOptimizeParameterized
ENTROPY_CASES = {
    # method, whether the gradient is given, Hessian argument; scipy's count of f calls
    "CG": ("CG", True, None, 9),
    "BFGS": ("BFGS", True, None, 10),
    "Powell": ("Powell", False, None, 136),
    "Nelder-Mead": ("Nelder-Mead", False, None, 167),
    "Newton-CG": ("Newton-CG", True, None, 7),
    "Newton-CG-hess": ("Newton-CG", True, "hess", 7),
    "Newton-CG-hessp": ("Newton-CG", True, "hessp", 7),
    "L-BFGS-B": ("L-BFGS-B", True, None, 7),
}


@pytest.mark.parametrize("case", sorted(ENTROPY_CASES))
def test_entropy_problem(case: str) -> None:
    """test_cg, test_bfgs, test_powell, test_neldermead, test_ncg, test_ncg_hess,
    test_ncg_hessp, test_l_bfgs_b: the minimum within 1e-6, with no more calls of f than
    scipy's own count (its tests pin them; gradopt asks f and its gradient together, so
    a derivative-free method's claim costs one gradient more)."""
    method, with_grad, second, scipy_calls = ENTROPY_CASES[case]
    p = Entropy()
    hessians = {"hess": {"hess": p.hess}, "hessp": {"hessp": lambda x, v: p.hess(x) @ v}}
    res = gradopt_minimize(
        p.func,
        p.start,
        method=method,
        jac=p.grad if with_grad else None,
        options={"maxiter": 1000},
        **hessians.get(second or "", {}),
    )
    assert res.success, res.message
    assert_allclose(res.fun, p.f_star(), atol=1e-6)
    check = 0 if with_grad else 2 * p.start.size  # the central-difference check
    assert p.funccalls <= scipy_calls + check


def test_powell_bounded() -> None:
    """test_powell_bounded: bounds (-pi, pi), the count scipy reports is exact."""
    p = Entropy()
    bounds = [(-np.pi, np.pi)] * 3
    res = gradopt_minimize(p.func, p.start, method="Powell", bounds=bounds)
    assert res.success and res.nfev == p.funccalls
    assert_allclose(res.fun, p.f_star(), atol=1e-6, rtol=1e-5)


def test_neldermead_initial_simplex() -> None:
    """test_neldermead_initial_simplex and _bad: a good simplex is used, a bad one (wrong
    shape, or degenerate) is an InvalidInputError before any iteration."""
    p = Entropy()
    simplex = np.tile(p.start, (4, 1)) + np.vstack([np.zeros(3), 0.1 * np.eye(3)])
    options = {"initial_simplex": simplex, "return_all": True}
    res = gradopt_minimize(p.func, p.start, method="Nelder-Mead", options=options)
    assert_allclose(res.fun, p.f_star(), atol=1e-6)
    assert_allclose(res.allvecs[0], simplex[0])
    for bad in (simplex[:3, :2], np.zeros((3, 3))):
        with pytest.raises(InvalidInputError, match="initial_simplex"):
            gradopt_minimize(
                p.func, p.start, method="Nelder-Mead", options={"initial_simplex": bad}
            )


def test_cg_cornercase() -> None:
    """test_cg_cornercase: 71 starts, CG on finite differences reaches 0.5."""

    def f(r: np.ndarray) -> float:
        return float(2.5 * (1 - np.exp(-1.5 * (r[0] - 0.5))) ** 2)

    for x0 in np.linspace(-0.75, 3, 71):
        res = gradopt_minimize(f, [x0], method="CG")
        assert res.success, (x0, res.message)
        assert_allclose(res.x, [0.5], rtol=1e-5)


@pytest.mark.parametrize("c1, c2", [(0.5, 2.0), (-0.1, 0.1), (0.2, 0.1)])
def test_invalid_c1_c2(c1: float, c2: float) -> None:
    """test_invalid_c1_c2: refused before the run (a value outside (0, 1) by gradopt's
    check of the option, c1 >= c2 by scipy's)."""
    # c1 and c2 are options of scipy >= 1.12; before, the names themselves are refused.
    with pytest.raises(InvalidInputError, match=r"c1|c2"):
        gradopt_minimize(
            rosen, [10.3, 20.7, 10.8, 1.9, -1.2], method="CG", options={"c1": c1, "c2": c2}
        )


def test_bfgs_options_change_the_run() -> None:
    """test_bfgs_xrtol, test_bfgs_c2, test_bfgs_hess_inv0_*: the options reach scipy (where
    the installed scipy has them) and a bad hess_inv0 is an InvalidInputError."""
    x0 = [1.3, 0.7, 0.8, 1.9, 1.2]
    if has_option("BFGS", "xrtol"):
        loose = gradopt_minimize(rosen, x0, method="BFGS", options={"xrtol": 1e-3})
        ref = gradopt_minimize(rosen, x0, method="BFGS", options={"gtol": 1e-3})
        assert loose.nit != ref.nit
    if has_option("BFGS", "c2"):
        default = gradopt_minimize(rosen, x0, method="BFGS", options={"c2": 0.9})
        strict = gradopt_minimize(rosen, x0, method="BFGS", options={"c2": 1e-2})
        assert default.nit > strict.nit
    if has_option("BFGS", "hess_inv0"):
        with pytest.raises(InvalidInputError, match="positive definite"):
            gradopt_minimize(rosen, x0, method="BFGS", options={"hess_inv0": -np.eye(5)})
        res = gradopt_minimize(rosen, x0, method="BFGS", options={"hess_inv0": 1e-2 * np.eye(5)})
        assert_allclose(res.fun, scipy.optimize.minimize(rosen, x0, method="BFGS").fun, atol=1e-6)


def test_bfgs_infinite() -> None:
    """test_bfgs_infinite: -exp(-x) has infimum -inf. scipy returns an x where f is
    -inf; gradopt never returns a non-finite f (documented difference): the run ends
    with a finite iterate and success=False."""

    def f(x: np.ndarray) -> float:
        return float(-np.exp(-x[0]))

    with np.errstate(over="ignore"):
        res = gradopt_minimize(f, [0.0], method="BFGS", jac=lambda x: np.exp(-x))
    assert not res.success and np.isfinite(res.fun) and np.isfinite(res.x).all()
    assert res.status in (Status.NON_FINITE, Status.SOLVER_FAILED, Status.MAX_ITER)


def test_ncg_zero_xtol_and_negative_maxiter() -> None:
    """test_ncg_zero_xtol: cos from 0.1 reaches pi as scipy's own run does (scipy < 1.12
    stays at 0.1 and claims success, a slope too gentle for gradopt's check to question).
    test_ncg_negative_maxiter: scipy reads maxiter=-1 as an immediate limit; gradopt
    refuses it (documented)."""
    kwargs: dict[str, Any] = {"method": "Newton-CG", "options": {"xtol": 0}}
    res = gradopt_minimize(
        lambda x: float(np.cos(x[0])), [0.1], jac=lambda x: -np.sin(x), **kwargs
    )
    ref = scipy.optimize.minimize(
        lambda x: np.cos(x[0]), [0.1], jac=lambda x: -np.sin(x), **kwargs
    )
    assert res.success == ref.success and res.x == pytest.approx(ref.x)
    p = Entropy()
    with pytest.raises(InvalidInputError, match="'maxiter'=-1"):
        gradopt_minimize(p.func, p.start, method="Newton-CG", jac=p.grad, options={"maxiter": -1})


@pytest.mark.skipif(not HAS_COBYQA, reason="COBYQA is in scipy >= 1.14")
def test_cobyqa() -> None:
    """test_cobyqa: the entropy problem within 1e-6 in at most 65 calls (plus gradopt's
    check of the claim: one central difference, 6 calls)."""
    p = Entropy()
    res = gradopt_minimize(p.func, p.start, method="COBYQA", options={"maxiter": 1000})
    assert_allclose(res.fun, p.f_star(), atol=1e-6)
    assert p.funccalls <= 65 + 6


@pytest.mark.parametrize("method", ["Powell", "Nelder-Mead"])
@pytest.mark.parametrize("maxfev", [1, 10, 50])
def test_maxfev(method: str, maxfev: int) -> None:
    """test_maxfev_test: a cost that never converges stops at maxfev. scipy counts the
    points it asks for; gradopt the calls of f, and a point asked twice in a row is
    answered from the provider's cache (Powell asks so), so nfev may be below maxfev."""
    rng = np.random.default_rng(2717)
    res = gradopt_minimize(
        lambda x: float(rng.random() * 1000),
        rng.random(10),
        method=method,
        options={"maxfev": maxfev},
    )
    assert maxfev - 2 <= res.nfev <= maxfev and res.status == Status.MAX_ITER


def test_neldermead_adaptive_and_bounds() -> None:
    """test_neldermead_adaptive, test_neldermead_x0_ub: 15 dimensions need the adaptive
    coefficients; bounds are respected from a start on an upper bound. (scipy < 1.12
    does not move from a start on an upper bound and says it succeeded; gradopt's check
    of the claim reports NOT_STATIONARY there.)"""
    p0 = np.linspace(0.1, 1.0, 15)
    assert not gradopt_minimize(lambda x: float(np.sum(x**2)), p0, method="Nelder-Mead").success
    res = gradopt_minimize(
        lambda x: float(np.sum(x**2)), p0, method="Nelder-Mead", options={"adaptive": True}
    )
    assert res.success
    quad = lambda x: float(np.sum(x**2))  # noqa: E731
    for x0, bounds, x_star in [([1], [(0, 1)], [0]), ([1, 2], [(0, 1), (1, 3)], [0, 1])]:
        res = gradopt_minimize(quad, x0, method="Nelder-Mead", bounds=bounds)
        if res.success:
            assert_allclose(res.x, x_star, atol=1e-4)
        else:
            assert res.status == Status.NOT_STATIONARY and "a step of" in res.message


def test_x0_outside_bounds_is_refused() -> None:
    """test_bounded_powell_outsidebounds: scipy warns and clips x0 into the bounds;
    gradopt refuses it (documented: scipy's methods disagree on clipping)."""
    with pytest.raises(InvalidInputError, match=r"x0\[0\] = -4.0 is not within its bounds"):
        gradopt_minimize(
            lambda x: float(np.sum(x**2)), [-4, 0.5, -0.8], method="Powell", bounds=[(-1, 1)] * 3
        )


# ------------------------------------------------------------------- TestOptimizeSimple
def test_nan_start_and_nan_values() -> None:
    """test_bfgs_nan, test_bfgs_nan_return: x0 = NaN is an InvalidInputError (scipy runs
    and returns NaN); f NaN everywhere, or everywhere but x0, is success=False."""
    with pytest.raises(InvalidInputError, match="x0 must be finite"):
        gradopt_minimize(lambda x: float(x[0]), [np.nan], jac=lambda x: np.ones_like(x))
    res = gradopt_minimize(lambda x: np.nan, [0.0])
    assert res.success is False and res.status == Status.NON_FINITE
    res = gradopt_minimize(
        lambda x: 0.0 if x[0] == 0 else np.nan, [0.0], jac=lambda x: np.ones_like(x)
    )
    assert res.success is False and res.status == Status.NON_FINITE and res.fun == 0.0


@pytest.mark.parametrize(
    "method, jac", list(itertools.product(["BFGS", "CG", "TNC"], ["2-point", "3-point", None]))
)
def test_finite_differences_jac(method: str, jac: str | None) -> None:
    """test_finite_differences_jac: the entropy minimum with finite differences."""
    p = Entropy()
    res = gradopt_minimize(p.func, p.start, method=method, jac=jac)
    assert_allclose(p.func(res.x), p.f_star(), atol=1e-6)


def test_hessian_strategies_are_not_taken() -> None:
    """test_finite_differences_hess: scipy takes hess='2-point' or a HessianUpdateStrategy;
    a gradopt provider has hessp or not (documented): trust-ncg without one is a
    MissingCapabilityError before anything is evaluated, Newton-CG differences gradients."""
    from gradopt.exceptions import MissingCapabilityError

    p = Entropy()
    with pytest.raises(MissingCapabilityError, match="trust-ncg"):
        gradopt_minimize(p.func, p.start, method="trust-ncg", jac=p.grad, hess="2-point")
    assert gradopt_minimize(p.func, p.start, method="Newton-CG", jac=p.grad).success


def test_bfgs_gh_2169() -> None:
    """test_bfgs_gh_2169: a huge value left of 0 (x + 1/x to the right) from 10."""

    def f(x: np.ndarray) -> float:
        return 1.79769313e308 if x[0] < 0 else float(x[0] + 1.0 / x[0])

    assert_allclose(gradopt_minimize(f, [10.0]).x, 1.0, rtol=1e-4, atol=1e-4)


def test_no_point_is_evaluated_twice() -> None:
    """test_bfgs_double_evaluations, test_duplicate_evaluations: gradopt's own look at
    x0 and at the iterates costs no second call of f."""
    seen: set[float] = set()

    def f(x: np.ndarray) -> tuple[float, np.ndarray]:
        assert x[0] not in seen
        seen.add(x[0])
        return float(10 * x[0] ** 2), 20 * x

    gradopt_minimize(f, [-100.0], method="BFGS", jac=True, tol=1e-7)
    for method in ["Nelder-Mead", "CG", "BFGS", "L-BFGS-B", "TNC", "COBYLA", "SLSQP"]:
        trace: list[np.ndarray] = []
        p = Entropy()

        def traced(x: np.ndarray, p: Entropy = p, trace: list[np.ndarray] = trace) -> float:
            trace.append(x.copy())
            return p.func(x)

        gradopt_minimize(traced, p.start, method=method)
        assert not any(np.array_equal(a, b) for a, b in itertools.pairwise(trace)), method


def test_l_bfgs_b_maxiter_and_maxls() -> None:
    """test_l_bfgs_b_maxiter, test_minimize_l_bfgs_maxls: the limit is MAX_ITER after 5
    iterations, the callback saw the returned x; maxls=1 fails."""
    seen: list[np.ndarray] = []
    res = gradopt_minimize(
        rosen, [0.0, 0.0], method="L-BFGS-B", callback=seen.append, options={"maxiter": 5}
    )
    assert res.nit == 5 and res.status == Status.MAX_ITER and not res.success
    assert_allclose(res.x, seen[-1])
    assert res.fun == pytest.approx(rosen(seen[-1]))
    assert "ITERATIONS REACHED LIMIT" in res.message
    assert not gradopt_minimize(
        rosen, [-1.2, 1.0], method="L-BFGS-B", jac=rosen_der, options={"maxls": 1}
    ).success


def test_l_bfgs_b_counts_and_ftol() -> None:
    """test_minimize_l_bfgs_b, test_minimize_l_bfgs_b_ftol: the counts gradopt reports
    are the calls made; a smaller ftol gives a lower f, within ftol of the minimum."""
    p = Entropy()
    res = gradopt_minimize(p.func, p.start, method="L-BFGS-B", jac=p.grad)
    assert (res.nfev, res.njev) == (p.funccalls, p.gradcalls)
    for jac in (None, "3-point"):
        p = Entropy()
        res = gradopt_minimize(p.func, p.start, method="L-BFGS-B", jac=jac)
        assert res.nfev == p.funccalls and abs(res.fun - p.f_star()) < 1e-6
    previous = np.inf
    for tol in [1e-1, 1e-4, 1e-7, 1e-10]:  # scipy's 1e-7 and 1e-10 end at the same point
        p = Entropy()
        options = {"ftol": tol}
        v = gradopt_minimize(p.func, p.start, method="L-BFGS-B", jac=p.grad, options=options).fun
        ref = scipy.optimize.minimize(
            p.func, p.start, method="L-BFGS-B", jac=p.grad, options=options
        )
        assert v == ref.fun and v <= previous and v == pytest.approx(p.f_star(), rel=tol)
        previous = v


def test_custom_method_is_refused() -> None:
    """test_custom, test_gh10771: scipy takes a callable as method; gradopt.minimize
    takes names (documented) and its own gradient descent plugs into scipy instead."""
    with pytest.raises(InvalidInputError, match="unknown method"):
        gradopt_minimize(rosen, [1.0, 1.0], method=lambda *a, **k: None)  # type: ignore[arg-type]


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
