"""``minimize`` (L-BFGS-B, a scipy method) and gradient descent: bad points, careless
objectives, bad options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import autograd.numpy as anp
import numpy as np

from gradopt import Analytic, Autograd, FiniteDifference, Symbolic, minimize
from gradopt.exceptions import InvalidInputError, MissingCapabilityError
from tests.bad_input.inputs import GOOD, NanAfter, bowl, careless, point_inputs
from tests.bad_input.outcomes import Case, Fails, Outcome, Raises, Returns, Warns

__all__ = ["CASES"]

METHODS = {"minimize (L-BFGS-B)": "L-BFGS-B", "minimize (gradient-descent)": "gradient-descent"}


def _same_minimum(result: Any) -> Any:
    """A run from a point given another way (list, Series, 0-d): compare the minimum."""
    return np.round(np.asarray(result.x), 6)


def _wall(x: Any) -> Any:
    """(x - 1)**2 below 1.5, infinite above: a trial point beyond must shrink the step."""
    return anp.where(x[0] < 1.5, (x[0] - 1.0) ** 2, np.inf)


def _unbounded(method: str) -> Callable[[], Any]:
    def run() -> Any:
        with np.errstate(over="ignore"):  # sum(x) overflows on the way to -inf
            return minimize(Autograd(lambda x: anp.sum(x)), GOOD, method=method)

    return run


def _objective_inputs() -> list[tuple[str, Callable[[str], Any], Outcome]]:
    def run(f: Callable[..., Any]) -> Callable[[str], Any]:
        return lambda method: minimize(FiniteDifference(f), GOOD, method=method)

    nan_after = Fails("NON_FINITE", ("NaN or infinity", "returned nan"))
    rows = [(label, run(f), outcome) for label, f, outcome in careless("f", nan_after)]
    rows[-1] = (
        "``f`` turns NaN after 3 calls",
        lambda method: minimize(FiniteDifference(NanAfter(3)), GOOD, method=method),
        nan_after,
    )
    return rows


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
        ("``tol=True``", run(tol=True), Raises(InvalidInputError, ("tol must be", "True"))),
        ("``tol='1e-6'``", run(tol="1e-6"), Raises(InvalidInputError, ("tol must be", "'1e-6'"))),
        ("``callback=3``", run(callback=3), Raises(InvalidInputError, ("callback must be",))),
        (
            "an unknown option",
            run(options={"nosuch": 1}),
            Raises(InvalidInputError, ("nosuch",)),
        ),
    ]
    rows += [
        (
            "``f`` is infinite beyond 1.5, from -5",
            lambda: minimize(Autograd(_wall), [-5.0], method=method),
            Returns("reaches the minimum 1", lambda r: r.success and abs(r.x[0] - 1) < 1e-6),
        ),
    ]
    if method == "gradient-descent":
        rows += [
            (
                "``nesterov='yes'``",
                run(options={"momentum": 0.5, "nesterov": "yes"}),
                Raises(InvalidInputError, ("'nesterov'='yes'", "must be True or False")),
            ),
            (
                "``f`` unbounded below (``sum(x)``)",
                _unbounded(method),
                Fails("NON_FINITE", ("-inf at a trial point",)),
            ),
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
                "``bounds=5``",
                run(bounds=5),
                Raises(InvalidInputError, ("bounds must be a sequence of (lo, hi) pairs", "int")),
            ),
            (
                "a NaN bound",
                run(bounds=[(0, np.nan), (0, 3)]),
                Raises(InvalidInputError, ("bounds[0] = (0, nan) must satisfy lo <= hi",)),
            ),
            (
                "an upper bound below the lower",
                run(bounds=[(1, 0), (0, 3)]),
                Raises(InvalidInputError, ("the upper bound is below the lower bound",)),
            ),
            (
                "``options={'maxiter': '10'}``",
                run(options={"maxiter": "10"}),
                Raises(InvalidInputError, ("option 'maxiter'='10'", "must be a number")),
            ),
            (
                "``options={'gtol': -1}``",
                run(options={"gtol": -1}),
                Raises(InvalidInputError, ("option 'gtol'=-1",)),
            ),
            (
                "``f`` unbounded below (``sum(x)``)",
                _unbounded(method),
                Fails("MAX_ITER", ("limit was reached",)),
            ),
            (
                "``method='Newton-CG'`` on finite differences",
                lambda: minimize(FiniteDifference(bowl), GOOD, method="Newton-CG"),
                Warns(UserWarning, ("'Newton-CG' on a FiniteDifference provider",)),
            ),
            (
                "a trial point outside ``log``'s domain (Symbolic)",
                lambda: minimize(Symbolic("(log(x) - 1)**2", ["x"]), [0.5], method=method),
                Returns("reaches e", lambda r: r.success and abs(r.x[0] - np.e) < 1e-4),
            ),
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
