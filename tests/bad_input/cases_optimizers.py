"""``minimize`` (L-BFGS-B, a scipy method) and gradient descent: bad points, careless
objectives, bad options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradopt import Analytic, Autograd, FiniteDifference, minimize
from gradopt.exceptions import InvalidInputError, MissingCapabilityError, ObjectiveError
from tests.bad_input.inputs import (
    GOOD,
    Boom,
    NanAfter,
    bowl,
    point_inputs,
    raises,
    returns_array,
    returns_complex,
    returns_none,
    returns_string,
)
from tests.bad_input.outcomes import Case, Fails, Outcome, Raises

__all__ = ["CASES"]

METHODS = {"minimize (L-BFGS-B)": "L-BFGS-B", "minimize (gradient-descent)": "gradient-descent"}


def _same_minimum(result: Any) -> Any:
    """A run from a point given another way (list, Series, 0-d): compare the minimum."""
    return np.round(np.asarray(result.x), 6)


def _objective_inputs() -> list[tuple[str, Callable[[], Any], Outcome]]:
    def run(f: Callable[..., Any]) -> Callable[[str], Any]:
        return lambda method: minimize(FiniteDifference(f), GOOD, method=method)

    return [
        ("``f`` raises ``ValueError``", run(raises), Raises(Boom, ("boom",))),
        ("``f`` returns None", run(returns_none), Raises(ObjectiveError, ("must return", "None"))),
        ("``f`` returns shape (2,)", run(returns_array), Raises(ObjectiveError, ("shape (2,)",))),
        ("``f`` returns ``'5.0'``", run(returns_string), Raises(ObjectiveError, ("str",))),
        ("``f`` returns ``1+2j``", run(returns_complex), Raises(ObjectiveError, ("complex",))),
        (
            "``f`` turns NaN after 3 calls",
            lambda method: minimize(FiniteDifference(NanAfter(3)), GOOD, method=method),
            Fails("NON_FINITE", ("NaN or infinity", "returned nan")),
        ),
    ]


def _option_inputs(method: str) -> list[tuple[str, Callable[[], Any], Outcome]]:
    def run(**kwargs: Any) -> Callable[[], Any]:
        return lambda: minimize(Autograd(bowl), GOOD, method=method, **kwargs)

    rows: list[tuple[str, Callable[[], Any], Outcome]] = [
        (
            "``provider`` a plain function",
            lambda: minimize(bowl, GOOD, method=method),  # type: ignore[arg-type]
            Raises(InvalidInputError, ("provider must be a GradientProvider", "function")),
        ),
        ("``tol=-1``", run(tol=-1), Raises(InvalidInputError, ("tol must be", "-1"))),
        ("``tol='1e-6'``", run(tol="1e-6"), Raises(InvalidInputError, ("tol must be", "'1e-6'"))),
        ("``callback=3``", run(callback=3), Raises(InvalidInputError, ("callback must be",))),
        (
            "an unknown option",
            run(options={"nosuch": 1}),
            Raises(InvalidInputError, ("nosuch",)),
        ),
    ]
    if method == "gradient-descent":
        rows += [
            (
                "``learning_rate=-1``",
                run(options={"learning_rate": -1}),
                Raises(InvalidInputError, ("learning_rate", "-1")),
            ),
            (
                "``gtol=nan``",
                run(options={"gtol": np.nan}),
                Raises(InvalidInputError, ("gtol", "nan")),
            ),
            (
                "``bounds`` given",
                run(bounds=[(0, 1), (0, 3)]),
                Raises(InvalidInputError, ("does not accept bounds",)),
            ),
        ]
    else:
        rows += [
            (
                "``bounds`` of the wrong length",
                run(bounds=[(0, 1)]),
                Raises(InvalidInputError, ("bounds must hold one (low, high) pair", "got 1")),
            ),
            (
                "``x0`` outside ``bounds``",
                run(bounds=[(0, 0.4), (0, 3)]),
                Raises(InvalidInputError, ("x0[0] = 0.5 is not within its bounds",)),
            ),
            (
                "scipy's ``workers`` option",
                run(options={"workers": 2}),
                Raises(InvalidInputError, ("workers",)),
            ),
            (
                "``method='trust-ncg'``, provider without ``hessp``",
                lambda: minimize(Analytic(bowl, lambda x: 2 * (x - 1)), GOOD, method="trust-ncg"),
                Raises(MissingCapabilityError, ("trust-ncg", "no hessp")),
            ),
            (
                "an unknown method",
                lambda: minimize(Autograd(bowl), GOOD, method="nope"),
                Raises(InvalidInputError, ("unknown method 'nope'",)),
            ),
        ]
    return rows


def _cases() -> list[Case]:
    cases = []
    for entry, method in METHODS.items():

        def run(x0: Any, method: str = method) -> Any:
            return _same_minimum(minimize(Autograd(bowl), x0, method=method))

        for label, thunk, outcome in point_inputs("x0", run):
            cases.append(Case(entry, f"``x0``: {label}", thunk, outcome))
        for label, call, outcome in _objective_inputs():
            cases.append(Case(entry, label, (lambda c=call, m=method: c(m)), outcome))
        for label, thunk, outcome in _option_inputs(method):
            cases.append(Case(entry, label, thunk, outcome))
    return cases


CASES = _cases()
