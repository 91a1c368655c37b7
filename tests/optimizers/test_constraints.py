"""Constraints in gradopt.minimize: Hock-Schittkowski problems reach their known optima
with every constrained method and every kind of constraint; bad constraints are refused."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from scipy.optimize import LinearConstraint, NonlinearConstraint

from gradopt import Analytic, Constraint, FiniteDifference, minimize
from gradopt.exceptions import InvalidInputError, MissingCapabilityError
from gradopt.optimizers import Status, available_methods

METHODS = [m for m in ("SLSQP", "trust-constr", "COBYLA", "COBYQA") if m in available_methods()]


def _cobyla_takes_equalities() -> bool:
    """scipy's COBYLA takes equality constraints from 1.16 on (PRIMA's); before, it refuses."""
    try:
        scipy.optimize.minimize(
            lambda x: x @ x, [1.0], method="COBYLA", constraints={"type": "eq", "fun": np.sum}
        )
    except ValueError:
        return False
    return True


COBYLA_TAKES_EQUALITIES = _cobyla_takes_equalities()
WITH_EQUALITIES = {"hs71", "hs6", "hs40"}


@dataclass(frozen=True)
class HS:
    """A problem of Hock and Schittkowski (1981): objective, start, bounds, a factory of
    its constraints (of the kind under test), the optimum value and point."""

    name: str
    fun: Callable[[Any], Any]
    x0: list[float]
    bounds: Any
    constraints: Callable[[], Any]
    fstar: float
    xstar: list[float]


def _hs71_constraint() -> Constraint:  # x1 x2 x3 x4 >= 25 and |x|^2 = 40 in one provider
    g = FiniteDifference(lambda x: np.array([x[0] * x[1] * x[2] * x[3], x @ x]))
    return Constraint(g, lb=[25.0, 40.0], ub=[np.inf, 40.0])


def _hs40_constraint() -> Constraint:  # three equalities
    def g(x: np.ndarray) -> np.ndarray:
        return np.array([x[0] ** 3 + x[1] ** 2 - 1, x[0] ** 2 * x[3] - x[2], x[3] ** 2 - x[1]])

    return Constraint(FiniteDifference(g), lb=0.0, ub=0.0)


PROBLEMS = [
    HS(  # the start (-1, -1) clipped into the box
        "hs21",
        lambda x: 0.01 * x[0] ** 2 + x[1] ** 2 - 100,
        [2.0, -1.0],
        [(2, 50), (-50, 50)],
        lambda: LinearConstraint([[10.0, -1.0]], 10.0, np.inf),
        -99.96,
        [2.0, 0.0],
    ),
    HS(
        "hs35",
        lambda x: (
            9
            - 8 * x[0]
            - 6 * x[1]
            - 4 * x[2]
            + 2 * x[0] ** 2
            + 2 * x[1] ** 2
            + x[2] ** 2
            + 2 * x[0] * x[1]
            + 2 * x[0] * x[2]
        ),
        [0.5, 0.5, 0.5],
        [(0, None)] * 3,
        lambda: {"type": "ineq", "fun": lambda x: 3 - x[0] - x[1] - 2 * x[2]},
        1 / 9,
        [4 / 3, 7 / 9, 4 / 9],
    ),
    HS(
        "hs71",
        lambda x: x[0] * x[3] * (x[0] + x[1] + x[2]) + x[2],
        [1.0, 5.0, 5.0, 1.0],
        [(1, 5)] * 4,
        _hs71_constraint,
        17.0140173,
        [1.0, 4.7429994, 3.8211503, 1.3794082],
    ),
    HS(
        "hs6",
        lambda x: (1 - x[0]) ** 2,
        [-1.2, 1.0],
        None,
        lambda: NonlinearConstraint(lambda x: 10 * (x[1] - x[0] ** 2), 0.0, 0.0),
        0.0,
        [1.0, 1.0],
    ),
    HS(
        "hs40",
        lambda x: -x[0] * x[1] * x[2] * x[3],
        [0.8, 0.8, 0.8, 0.8],
        None,
        _hs40_constraint,
        -0.25,
        [2 ** (-1 / 3), 2 ** (-1 / 2), 2 ** (-11 / 12), 2 ** (-1 / 4)],
    ),
]


#: Derivative-free runs that end at the optimum but outside scipy's feasibility
#: tolerance of an equality constraint: scipy >= 1.16 reports failure, and so does
#: gradopt (older scipy's COBYLA may not).
SCIPY_SAYS_INFEASIBLE = {
    ("hs71", "COBYLA"),
    ("hs71", "COBYQA"),
    ("hs6", "COBYLA"),
    ("hs40", "COBYQA"),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.name)
def test_hock_schittkowski_optima(problem: HS, method: str) -> None:
    """The known optimum, with a finite-difference objective, for every kind of
    constraint (LinearConstraint, dict, Constraint with equalities and inequalities,
    NonlinearConstraint, Constraint with equalities)."""
    if method == "COBYLA" and not COBYLA_TAKES_EQUALITIES and problem.name in WITH_EQUALITIES:
        with pytest.raises(InvalidInputError, match="'eq' not handled by COBYLA"):
            minimize(
                FiniteDifference(problem.fun),
                problem.x0,
                method,
                bounds=problem.bounds,
                constraints=problem.constraints(),
            )
        return
    with warnings.catch_warnings():
        # trust-constr's quasi-Newton Hessian of a constraint warns when its multiplier
        # is 0 (scipy's own runs on this path do too).
        warnings.filterwarnings("ignore", "delta_grad == 0.0", UserWarning)
        res = minimize(
            FiniteDifference(problem.fun),
            problem.x0,
            method,
            bounds=problem.bounds,
            constraints=problem.constraints(),
        )
    if (problem.name, method) in SCIPY_SAYS_INFEASIBLE:
        assert res.status in (Status.SOLVER_FAILED, Status.SUCCESS), res.message
    else:
        assert res.status == Status.SUCCESS, res.message  # never NOT_STATIONARY
    # trust-constr, an interior-point method, keeps a little away from active bounds
    tol = 1e-4 if method == "trust-constr" else 1e-6
    assert res.fun == pytest.approx(problem.fstar, abs=tol)
    np.testing.assert_allclose(
        res.x, problem.xstar, atol=1e-3 if method == "trust-constr" else 1e-4
    )


@pytest.mark.parametrize("method", ["SLSQP", "trust-constr"])
def test_a_sparse_constraint_jacobian(method: str) -> None:
    """x_i^2 + x_(i+1)^2 <= 2 at d = 20: a banded Jacobian, grouped."""
    d = 20

    def pairs(x: np.ndarray) -> np.ndarray:
        return x[:-1] ** 2 + x[1:] ** 2

    band = sp.csr_array(np.eye(d - 1, d) + np.eye(d - 1, d, k=1))
    g = FiniteDifference(pairs, sparsity=band)
    target = np.linspace(1.0, 2.0, d)
    objective = Analytic(lambda x: float((x - target) @ (x - target)), lambda x: 2 * (x - target))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "delta_grad == 0.0", UserWarning)
        res = minimize(objective, np.full(d, 0.5), method, constraints=Constraint(g, ub=2.0))
    assert res.success, res.message
    assert np.max(pairs(res.x)) <= 2 + 1e-6
    assert res.fun == pytest.approx(6.83287, abs=1e-5)
    # 2 groups x 2 central points per Jacobian (not 2d = 40), plus the values at trials
    assert g.nfev <= 4 * g.njev + res.nfev


def test_constraint_bounds_and_kinds_are_checked() -> None:
    p = FiniteDifference(lambda x: x @ x)
    f = FiniteDifference(lambda x: float(np.sum(x)))
    x0 = [0.1, 0.2]
    with pytest.raises(InvalidInputError, match=r"inconsistent bounds, lb > ub at output 0"):
        Constraint(p, lb=2.0, ub=1.0)
    with pytest.raises(InvalidInputError, match="no finite bound"):
        Constraint(p)
    with pytest.raises(InvalidInputError, match="must not be NaN"):
        Constraint(p, lb=np.nan)
    with pytest.raises(MissingCapabilityError, match="vector_value"):
        Constraint(lambda x: x)  # type: ignore[arg-type]
    bad: list[tuple[Any, str]] = [
        (NonlinearConstraint(lambda x: x, [0, 3], [1, 2]), r"lb > ub at output 1 \(3.0 > 2.0\)"),
        (LinearConstraint(np.eye(2), 1, 0), "inconsistent bounds"),
        ({"type": "equal", "fun": np.sum}, r"\['type'\] must be 'eq' or 'ineq'"),
        ({"type": "eq"}, r"\['fun'\] must be callable"),
        ({"type": "eq", "fun": np.sum, "jacobian": np.ones}, "unknown key"),
        (5, "constraints must be a Constraint"),
        ([Constraint(p, ub=1), "x >= 0"], r"constraints\[1\] must be a Constraint"),
    ]
    for constraints, match in bad:
        with pytest.raises(InvalidInputError, match=match):
            minimize(f, x0, "SLSQP", constraints=constraints)
    for method in ("L-BFGS-B", "BFGS", "Nelder-Mead", "gradient-descent"):
        with pytest.raises(InvalidInputError, match="does not accept constraints"):
            minimize(f, x0, method, constraints=Constraint(p, ub=1.0))


def test_fixed_variables_with_a_bounded_finite_difference() -> None:
    """The issue's case: bounds with lo == hi given to the provider too (before, the
    finite difference refused them: "no room for a finite-difference step")."""
    from scipy.optimize import rosen, rosen_der

    bounds = [(-2.0, 2.0), (1.0, 1.0), (-2.0, 2.0)]
    for method in ("L-BFGS-B", "TNC", "SLSQP", "trust-constr"):
        p = FiniteDifference(rosen, bounds=bounds)
        res = minimize(p, [-1.2, 1.0, 0.5], method, bounds=bounds)
        ref = scipy.optimize.minimize(
            rosen, [-1.2, 1.0, 0.5], jac=rosen_der, method=method, bounds=bounds
        )
        assert res.success, (method, res.message)
        assert res.x[1] == 1.0 and res.jac[1] == 0.0
        np.testing.assert_allclose(res.x, ref.x, atol=2e-4)
