"""Vector-valued functions: ``jacobian``, ``least_squares`` and constraints in ``minimize``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import NonlinearConstraint

from gradopt import Analytic, Constraint, FiniteDifference, least_squares, minimize
from gradopt.exceptions import InvalidInputError, MissingCapabilityError, ObjectiveError
from tests.bad_input.inputs import GOOD
from tests.bad_input.outcomes import Case, Fails, Outcome, Raises, Returns

__all__ = ["CASES"]


def _residuals(x: Any) -> Any:
    return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])


def _jacobian_cases() -> list[Case]:
    entry = "jacobian"
    rows: list[tuple[str, Callable[[], Any], Outcome]] = [
        (
            "``f`` returns no outputs (m = 0)",
            lambda: FiniteDifference(lambda x: np.zeros(0)).jacobian(GOOD),
            Raises(ObjectiveError, ("no outputs", "m >= 1")),
        ),
        (
            "``f`` returns shape (2, 2)",
            lambda: FiniteDifference(lambda x: np.ones((2, 2))).jacobian(GOOD),
            Raises(ObjectiveError, ("1-D array", "(2, 2)")),
        ),
        (
            "a hand-written Jacobian of shape (2, 2) for 3 outputs",
            lambda: Analytic(
                lambda x: np.ones(3), jacobian=lambda x: np.eye(2)
            ).value_and_jacobian(GOOD),
            Raises(ObjectiveError, ("shape (3, 2)", "returned shape (2, 2)")),
        ),
        (
            "``sparsity`` of shape (3, 3) for a (2, 2) Jacobian",
            lambda: FiniteDifference(_residuals, sparsity=np.eye(3)).jacobian(GOOD),
            Raises(InvalidInputError, ("sparsity has shape (3, 3)", "(m, 2)")),
        ),
        (
            "``sparsity`` 1-D",
            lambda: FiniteDifference(_residuals, sparsity=np.ones(2)),
            Raises(InvalidInputError, ("sparsity", "2-D")),
        ),
        (
            "``grad`` of a vector-valued ``f``",
            lambda: FiniteDifference(_residuals).grad(GOOD),
            Raises(ObjectiveError, ("must return a scalar", "shape (2,)")),
        ),
        (
            "bounds fix a coordinate (lo == hi)",
            lambda: FiniteDifference(_residuals, bounds=[(0, 1), (0.5, 0.5)]).jacobian([0.5, 0.5]),
            Returns("its column is 0, never moved", lambda j: not j[:, 1].any()),
        ),
    ]
    return [Case(entry, label, call, outcome) for label, call, outcome in rows]


def _least_squares_cases() -> list[Case]:
    entry = "least_squares"
    x0 = [-1.2, 1.0]

    def run(**kwargs: Any) -> Callable[[], Any]:
        return lambda: least_squares(FiniteDifference(_residuals), x0, **kwargs)

    def nan_beyond(x: Any) -> Any:
        return _residuals(x) if x[0] < 0.5 else np.full(2, np.nan)

    rows: list[tuple[str, Callable[[], Any], Outcome]] = [
        (
            "``provider`` a plain function",
            lambda: least_squares(_residuals, x0),  # type: ignore[arg-type]
            Raises(MissingCapabilityError, ("vector_value", "function")),
        ),
        ("``loss='l2'``", run(loss="l2"), Raises(InvalidInputError, ("loss", "'l2'"))),
        ("``f_scale=0``", run(f_scale=0), Raises(InvalidInputError, ("f_scale", "0"))),
        ("``max_nfev='10'``", run(max_nfev="10"), Raises(InvalidInputError, ("max_nfev",))),
        (
            "``options={'diff_step': 1e-3}``",
            run(options={"diff_step": 1e-3}),
            Raises(InvalidInputError, ("diff_step", "FiniteDifference(fun, step=...)")),
        ),
        (
            "``method='lm'`` with bounds",
            run(method="lm", bounds=[(-2, 2), (-2, 2)]),
            Raises(InvalidInputError, ("'lm' does not accept bounds",)),
        ),
        (
            "``x0`` outside the bounds",
            run(bounds=[(0, 1), (0, 2)]),
            Raises(InvalidInputError, ("x0[0] = -1.2", "bounds")),
        ),
        (
            "bounds fix a variable (lo == hi)",
            run(bounds=[(-2, 2), (1.0, 1.0)]),
            Returns("solved for the other variable", lambda r: r.success and r.x[1] == 1.0),
        ),
        (
            "residuals NaN beyond x[0] = 0.5 (minimum at 1)",
            lambda: least_squares(FiniteDifference(nan_beyond, "backward"), x0),
            Fails("NON_FINITE", ("residual", "nan")),
        ),
        (
            "residuals NaN at ``x0``",
            lambda: least_squares(FiniteDifference(nan_beyond), [1.0, 1.0]),
            Fails("NON_FINITE", ("at the starting point",)),
        ),
    ]
    return [Case(entry, label, call, outcome) for label, call, outcome in rows]


def _constraint_cases() -> list[Case]:
    entry = "minimize (constraints)"
    f = FiniteDifference(lambda x: float(np.sum(x**2)))
    g = FiniteDifference(lambda x: np.array([x[0] + x[1]]))

    def run(constraints: Any, method: str = "SLSQP") -> Callable[[], Any]:
        return lambda: minimize(f, GOOD, method, constraints=constraints)

    rows: list[tuple[str, Callable[[], Any], Outcome]] = [
        (
            "``Constraint(lb=2, ub=1)``",
            lambda: Constraint(g, lb=2.0, ub=1.0),
            Raises(InvalidInputError, ("inconsistent bounds", "lb > ub")),
        ),
        (
            "``Constraint`` without bounds",
            lambda: Constraint(g),
            Raises(InvalidInputError, ("no finite bound",)),
        ),
        (
            "``NonlinearConstraint(lb=1, ub=0)``",
            run(NonlinearConstraint(np.sum, 1.0, 0.0)),
            Raises(InvalidInputError, ("constraints[0]", "lb > ub")),
        ),
        (
            "a dict with ``type='equal'``",
            run({"type": "equal", "fun": np.sum}),
            Raises(InvalidInputError, ("'eq' or 'ineq'", "'equal'")),
        ),
        (
            "constraints for L-BFGS-B",
            run(Constraint(g, ub=1.0), "L-BFGS-B"),
            Raises(InvalidInputError, ("does not accept constraints", "SLSQP")),
        ),
        (
            "``constraints=5``",
            run(5),
            Raises(InvalidInputError, ("constraints must be", "int")),
        ),
        (
            "an equality ``lb == ub``",
            run(Constraint(g, lb=1.0, ub=1.0)),
            Returns("x0 + x1 = 1", lambda r: r.success and abs(r.x.sum() - 1) < 1e-8),
        ),
    ]
    return [Case(entry, label, call, outcome) for label, call, outcome in rows]


CASES = [*_jacobian_cases(), *_least_squares_cases(), *_constraint_cases()]
