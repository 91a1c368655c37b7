"""gradopt against scipy on the Moré-Garbow-Hillstrom problems: every provider × method.

Each run of ``gradopt.minimize`` is paired with ``scipy.optimize.minimize`` given the
same derivative information (the exact gradient from autograd for the analytic and
autograd providers, ``jac="2-point"``, ``"3-point"`` or ``"cs"`` for the finite
differences, the exact Hessian product where the method uses one). A run

- **matches** when gradopt's f is no higher than scipy's (relative 1e-6, absolute 1e-10);
- is **better** when gradopt's f is lower by more than that and scipy did not reach the
  problem's minimum;
- and each success of gradopt is classed: at one of the problem's minima as MGH report
  them (relative 1e-3, absolute 1e-6); else at the f where scipy's own run stops too
  (the method's own imprecision); else "elsewhere", listed one by one (with finite
  differences on problems whose minimum is 0 these are mostly stops a little short of
  it, but some are well above any minimum: look at the list).

Run ``python -m tests.optimizers.parity`` for the whole table (about a minute); the test
suite runs a part (``tests/optimizers/test_mgh.py``).
"""

from __future__ import annotations

import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.optimize
from autograd import grad, hessian_vector_product
from scipy.optimize._numdiff import approx_derivative

from gradopt import Analytic, Autograd, FiniteDifference, GradientProvider, minimize
from gradopt.exceptions import MissingCapabilityError
from gradopt.optimizers import available_methods
from gradopt.optimizers._scipy_methods import SCIPY_METHODS, HessianUse
from tests.optimizers.mgh import MGH, Problem

PROVIDERS = ("analytic", "forward", "central", "complex", "autograd")
SCIPY_JAC = {"forward": "2-point", "central": "3-point", "complex": "cs"}
METHODS = [m for m in available_methods() if m != "gradient-descent"]
OPTIONS: dict[str, dict[str, Any]] = {"TNC": {"maxfun": 5000}}


def provider(name: str, problem: Problem) -> GradientProvider:
    """A fresh provider of the kind `name` for `problem`."""
    if name == "analytic":
        return Analytic(problem.fun, grad(problem.fun), hessp=hessian_vector_product(problem.fun))
    if name == "autograd":
        return Autograd(problem.fun)
    return FiniteDifference(problem.fun, method=name)  # type: ignore[arg-type]


def scipy_run(problem: Problem, method: str, kind: str) -> scipy.optimize.OptimizeResult:
    """scipy's own run with the derivative information `kind` stands for."""
    spec = SCIPY_METHODS[method.lower()]
    kwargs: dict[str, Any] = {}
    if spec.uses_gradient:
        kwargs["jac"] = SCIPY_JAC.get(kind) or grad(problem.fun)
        if spec.differences_gradients and kind in SCIPY_JAC:  # Newton-CG wants a callable
            scheme = SCIPY_JAC[kind]
            kwargs["jac"] = lambda x: approx_derivative(problem.fun, x, method=scheme)
        if spec.hessian is not HessianUse.NONE and kind in ("analytic", "autograd"):
            hvp = hessian_vector_product(problem.fun)
            if spec.hessian is HessianUse.REQUIRED_DENSE:
                kwargs["hess"] = lambda x: np.column_stack([hvp(x, e) for e in np.eye(x.size)])
            else:
                kwargs["hessp"] = hvp
    return scipy.optimize.minimize(
        problem.fun, problem.x0, method=method, options=OPTIONS.get(method), **kwargs
    )


def near(f: float, value: float) -> bool:
    return abs(f - value) <= 1e-3 * abs(value) + 1e-6


@dataclass(frozen=True)
class Outcome:
    problem: str
    method: str
    provider: str
    verdict: str  # "match", "better", "worse", "n/a"
    claim: str  # gradopt's success: "minimum", "as scipy", "elsewhere"; "" if no success
    ours: float
    theirs: float
    status: str
    scipy_success: bool


def compare(problem: Problem, method: str, kind: str) -> Outcome:
    """One gradopt run against scipy's."""
    spec = SCIPY_METHODS[method.lower()]
    none = Outcome(problem.name, method, kind, "n/a", "", np.nan, np.nan, "", False)
    if not spec.uses_gradient and kind != "analytic":
        return none
    try:
        res = minimize(provider(kind, problem), problem.x0, method, options=OPTIONS.get(method))
    except MissingCapabilityError:
        return none
    try:
        ref = scipy_run(problem, method, kind)
        theirs, scipy_success = float(ref.fun), bool(ref.success)
    except Exception:  # scipy raised (e.g. Powell's "no valid bracket"): no answer
        theirs, scipy_success = np.nan, False
    ours = float(res.fun)
    tol = 1e-6 * max(1.0, abs(theirs)) + 1e-10
    if not np.isfinite(theirs) or ours <= theirs + tol:
        best = min(problem.minima)
        verdict = "better" if ours < theirs - tol and theirs > best + tol else "match"
    else:
        verdict = "worse"
    claim = ""
    if res.success:
        at_minimum = any(near(ours, value) for value in problem.minima)
        claim = "minimum" if at_minimum else "as scipy" if near(ours, theirs) else "elsewhere"
    name = res.status.name
    return Outcome(problem.name, method, kind, verdict, claim, ours, theirs, name, scipy_success)


def run_all(problems: list[Problem] | None = None) -> list[Outcome]:
    """Every problem × method × provider."""
    outcomes = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for problem in problems or list(MGH.values()):
            for method in METHODS:
                for kind in PROVIDERS:
                    outcomes.append(compare(problem, method, kind))
    return outcomes


def main() -> None:
    start = time.perf_counter()
    outcomes = [o for o in run_all() if o.verdict != "n/a"]
    counts = Counter(o.verdict for o in outcomes)
    print(
        f"{len(MGH)} problems, {len(METHODS)} methods, {len(PROVIDERS)} providers: "
        f"{len(outcomes)} runs in {time.perf_counter() - start:.0f} s"
    )
    claims = Counter(o.claim for o in outcomes if o.claim)
    print(
        f"f no higher than scipy's: {counts['match'] + counts['better']} "
        f"(lower, where scipy missed the minimum: {counts['better']}); higher: {counts['worse']}"
    )
    print(
        f"gradopt's successes: {sum(claims.values())}: at a minimum MGH report "
        f"{claims['minimum']}, where scipy's run stops too {claims['as scipy']}, "
        f"elsewhere {claims['elsewhere']}"
    )
    print("gradopt's statuses:", dict(Counter(o.status for o in outcomes)))
    header = f"{'problem':28s} {'method':13s} {'provider':9s} {'gradopt f':>12s} {'scipy f':>12s}"
    sections = [
        (
            "f higher than scipy's, or a success elsewhere",
            lambda o: o.verdict == "worse" or o.claim == "elsewhere",
        ),
        ("f lower than scipy's", lambda o: o.verdict == "better"),
        ("successes scipy claims that gradopt refutes", lambda o: o.status == "NOT_STATIONARY"),
    ]
    for title, chosen in sections:
        print(f"\n{title}:\n{header} status (scipy's success)")
        for o in filter(chosen, outcomes):
            print(
                f"{o.problem:28s} {o.method:13s} {o.provider:9s} {o.ours:12.6g} "
                f"{o.theirs:12.6g} {o.status} ({o.scipy_success})"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
