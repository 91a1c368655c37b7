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
from scipy.optimize import rosen, rosen_der

from gradopt.exceptions import InvalidInputError
from gradopt.optimizers import Status
from tests.optimizers.scipy_shim import (
    HAS_COBYQA,
    Entropy,
    gradopt_minimize,
    has_option,
)

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
