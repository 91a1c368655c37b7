"""``check_gradient`` and ``step_error``: bad points, careless functions, bad arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradopt import check_gradient
from gradopt.analysis import step_error
from gradopt.exceptions import InvalidInputError, NonFiniteEvaluationError, ObjectiveError
from tests.bad_input.inputs import (
    GOOD,
    USERS_ERROR,
    bowl,
    bowl_grad,
    careless,
    point_inputs,
    raises,
)
from tests.bad_input.outcomes import Case, Outcome, Raises, Returns

__all__ = ["CASES"]


def _check_gradient_cases() -> list[Case]:
    entry = "check_gradient"

    def ok(check: Any) -> Any:
        return (check.ok, np.round(check.grad, 12).tolist())

    cases = [
        Case(entry, f"``x``: {label}", thunk, outcome)
        for label, thunk, outcome in point_inputs(
            "x", lambda x: ok(check_gradient(bowl, bowl_grad, x))
        )
    ]
    funs = careless("fun", Raises(NonFiniteEvaluationError, ("returned", "nan")))
    cases += [
        Case(entry, label, (lambda f=f: check_gradient(f, bowl_grad, GOOD)), outcome)
        for label, f, outcome in funs
    ]
    mismatch = Returns("``ok=False``", lambda check: check.ok is False)
    grads: list[tuple[str, Callable[..., Any], Outcome]] = [
        ("``grad`` raises ``ValueError``", raises, USERS_ERROR),
        ("``grad`` returns None", lambda x: None, Raises(ObjectiveError, ("grad", "None"))),
        (
            "``grad`` returns shape (3,)",
            lambda x: np.ones(3),
            Raises(ObjectiveError, ("grad must return an array of shape (2,)", "(3,)")),
        ),
        (
            "``grad`` returns strings",
            lambda x: np.array(["1", "2"]),
            Raises(ObjectiveError, ("grad", "<U1")),
        ),
        (
            "``grad`` returns complex",
            lambda x: bowl_grad(x) + 1j,
            Raises(ObjectiveError, ("grad", "complex")),
        ),
        ("``grad`` returns NaN", lambda x: x * np.nan, mismatch),
        ("``grad`` off by 1e-5 relative", lambda x: bowl_grad(x) * (1 + 1e-5), mismatch),
        ("``grad`` not callable", 3, Raises(InvalidInputError, ("grad must be callable",))),
    ]
    cases += [
        Case(entry, label, (lambda g=g: check_gradient(bowl, g, GOOD)), outcome)
        for label, g, outcome in grads
    ]
    args: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
        ("``rtol=-1``", {"rtol": -1}, ("rtol must be a positive number", "-1")),
        ("``rtol=nan``", {"rtol": np.nan}, ("rtol must be a positive number", "nan")),
        ("``rtol=True``", {"rtol": True}, ("rtol must be a positive number", "True")),
        ("``reference='nope'``", {"reference": "nope"}, ("reference must be", "'nope'")),
        ("``reference`` of length 3", {"reference": np.ones(3)}, ("reference must have", "3")),
        ("``reference`` holds NaN", {"reference": [np.nan, 1.0]}, ("reference", "nan")),
        ("``reference`` holds strings", {"reference": ["a", "b"]}, ("reference", "<U1")),
    ]
    cases += [
        Case(
            entry,
            label,
            (lambda kw=kw: check_gradient(bowl, bowl_grad, GOOD, **kw)),
            Raises(InvalidInputError, says),
        )
        for label, kw, says in args
    ]
    return cases


def _step_error_cases() -> list[Case]:
    entry = "step_error"

    def best(x0: Any) -> Any:
        return step_error(np.sin, x0, np.cos(0.5)).best_step

    not_scalar = Raises(InvalidInputError, ("x0 must be a scalar, or give a direction",))
    cases = []
    for label, thunk, outcome in point_inputs("x0", best):
        if label in ("a list", "integers", "a pandas Series"):  # 1-D needs a direction
            outcome = not_scalar
        cases.append(Case(entry, f"``x0``: {label}", thunk, outcome))
    funs = careless("fun", Raises(NonFiniteEvaluationError, ("fun returned nan at x0",)))
    cases += [
        Case(entry, label, (lambda f=f: step_error(f, 0.5, 1.0)), outcome)
        for label, f, outcome in funs
    ]
    args: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
        ("``derivative=nan``", {"derivative": np.nan}, ("derivative must be finite",)),
        ("``derivative='a'``", {"derivative": "a"}, ("derivative must be one real number",)),
        ("``derivative`` an array", {"derivative": [1.0, 2.0]}, ("derivative must be one",)),
        ("``steps`` empty", {"steps": []}, ("steps must be a non-empty 1-D array",)),
        ("``steps`` negative", {"steps": [-1.0]}, ("steps must be positive", "-1.0")),
        ("``steps`` NaN", {"steps": [np.nan]}, ("steps must be positive", "nan")),
        ("``method='nope'``", {"method": "nope"}, ("method must be one of", "'nope'")),
        (
            "``direction`` holds NaN",
            {"x0": GOOD, "direction": [np.nan, 1.0]},
            ("direction must be finite",),
        ),
        (
            "``direction`` of the wrong shape",
            {"x0": GOOD, "direction": [1.0]},
            ("direction must have the shape of x0",),
        ),
    ]
    for label, kw, says in args:
        kwargs = {"fun": bowl, "x0": 0.5, "derivative": -1.0, **kw}
        cases.append(
            Case(entry, label, (lambda k=kwargs: step_error(**k)), Raises(InvalidInputError, says))
        )
    return cases


CASES = _check_gradient_cases() + _step_error_cases()
