"""Derivative accuracy (issues 5 and 10): gradopt against scipy and numdifftools, side by
side in one process.

Part 1, gradients of seven problems: for each method the normwise relative error
``||g - g*||_inf / ||g*||_inf``, the largest componentwise relative error, the calls of f
(points, for a vectorised f), the best-of-3 time, and for methods that estimate their error
the share of components whose estimate covers the true error and the median ratio
estimate / true error (over the components whose true error is not exactly zero).

Part 2, the external suites of ``tests/gradients/external_cases.py`` (numdifftools' and
scipy's derivative test cases), every ``scipy.stats`` continuous distribution (pdf as the
derivative of cdf at median + 0.1, as scipy's own test) and sweeps over x where f's
scale is not x's: per suite and method, the cases answered accurately (normwise relative
error <= 1e-6, against ``1e-7 (|f(x)| + 1)`` for a gradient at rounding level), refused
with an error, and for the methods that estimate their error the
cases where the estimate covered the true error in every component (less the reference's
own error, as in the tests), with the worst under-estimate. numdifftools and
``scipy.differentiate.derivative`` run with their defaults (they know no bounds: cases with
a box are left out for them).

Run: ``python benchmarks/bench_accuracy.py`` (needs the ``bench`` extra: numdifftools);
``--part 1`` or ``--part 2`` for one part only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats
from scipy.differentiate import derivative, jacobian
from scipy.optimize import rosen, rosen_der
from scipy.optimize._numdiff import approx_derivative

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gradopt import FiniteDifference
from tests.gradients.external_cases import Case, all_cases

try:
    import numdifftools as nd
except ImportError:  # pragma: no cover - bench extra
    nd = None

Array = np.ndarray
RNG = np.random.default_rng(0)


def _problems() -> dict[str, tuple[Callable[[Any], Any], Callable[[Array], Array], Array]]:
    """name -> (f written with numpy along axis 0, so it also takes (d, m) arrays, g*, x)."""
    return {
        "sin at 1": (lambda x: np.sin(x[0]), lambda x: np.cos(x), np.array([1.0])),
        "exp*sin d=100": (
            lambda x: np.sum(np.exp(x) * np.sin(x), axis=0),
            lambda x: np.exp(x) * (np.sin(x) + np.cos(x)),
            np.linspace(-2.0, 2.0, 100),
        ),
        "rosen d=100": (rosen, rosen_der, np.tile([-1.2, 1.0], 50)),
        # At (-1.2, 1, ...) most values of f are computed almost exactly; not at random x.
        "rosen random": (rosen, rosen_der, RNG.uniform(-2.0, 2.0, 100)),
        "logsumexp d=50": (
            lambda x: np.log(np.sum(np.exp(x), axis=0)),
            lambda x: np.exp(x) / np.sum(np.exp(x)),
            RNG.normal(size=50),
        ),
        "runge d=20": (
            lambda x: np.sum(1 / (1 + 25 * x**2), axis=0),
            lambda x: -50 * x / (1 + 25 * x**2) ** 2,
            RNG.uniform(-1, 1, 20),
        ),
        "exp(10x) d=20": (
            lambda x: np.sum(np.exp(10 * x), axis=0),
            lambda x: 10 * np.exp(10 * x),
            RNG.uniform(-1, 1, 20),
        ),
    }


class Counted:
    """Wrap f, counting calls and points (a vectorised call evaluates many points)."""

    def __init__(self, f: Callable[[Any], Any]) -> None:
        self.f, self.calls, self.points = f, 0, 0

    def __call__(self, x: Any) -> Any:
        x = np.asarray(x)
        self.calls += 1
        self.points += 1 if x.ndim <= 1 else int(np.prod(x.shape[1:]))
        return self.f(x)


def _methods() -> dict[str, Callable[[Counted, Array], tuple[Array, Array | None]]]:
    def gradopt_fd(method: str) -> Callable[[Counted, Array], tuple[Array, Array | None]]:
        def run(f: Counted, x: Array) -> tuple[Array, Array | None]:
            p = FiniteDifference(f, method=method)  # type: ignore[arg-type]
            if method == "richardson":
                return p.grad_and_error(x)
            return p.grad(x), None

        return run

    methods: dict[str, Callable[[Counted, Array], tuple[Array, Array | None]]] = {
        "gradopt richardson": gradopt_fd("richardson"),
        "gradopt central": gradopt_fd("central"),
        "gradopt complex": gradopt_fd("complex"),
        "scipy approx_derivative 3-point": lambda f, x: (
            approx_derivative(f, x, method="3-point"),
            None,
        ),
        "scipy approx_derivative cs": lambda f, x: (approx_derivative(f, x, method="cs"), None),
    }

    def differentiate(f: Counted, x: Array) -> tuple[Array, Array | None]:
        res = jacobian(f, x)
        return res.df, res.error

    methods["scipy.differentiate.jacobian (vectorised f)"] = differentiate
    if nd is not None:

        def numdiff(f: Counted, x: Array) -> tuple[Array, Array | None]:
            out = nd.Gradient(f, full_output=True)(x)
            return np.atleast_1d(out[0]), np.atleast_1d(out[1])

        methods["numdifftools Gradient"] = numdiff
    return methods


def part1() -> None:
    header = (
        f"{'problem':<15} {'method':<44} {'norm. rel':>9} {'comp. rel':>9} {'calls':>6} "
        f"{'time ms':>8} {'covered':>8} {'est/true':>9}"
    )
    print(header)
    print("-" * len(header))
    for pname, (fun, der, x) in _problems().items():
        truth = der(x)
        for mname, run in _methods().items():
            counted = Counted(fun)
            g, est = run(counted, x)
            calls = counted.points
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                run(Counted(fun), x)
                times.append(time.perf_counter() - t0)
            err = np.abs(np.reshape(g, -1) - truth)
            norm = err.max() / np.abs(truth).max()
            comp = np.max(err / np.abs(truth))
            cover = ratio = ""
            if est is not None:
                est = np.reshape(est, -1)
                cover = f"{np.mean(est >= err):.0%}"
                # Median over components with a nonzero true error (rosen's is exactly 0
                # on about half of them with gradopt's dyadic steps).
                nonzero = err > 0
                ratio = f"{np.median(est[nonzero] / err[nonzero]):.1e}" if nonzero.any() else "-"
            print(
                f"{pname:<15} {mname:<44} {norm:9.1e} {comp:9.1e} {calls:6d} "
                f"{1e3 * min(times):8.2f} {cover:>8} {ratio:>9}"
            )
        print()


# ------------------------------------------------------------------------------ part 2

TOOLS = ("forward", "backward", "central", "complex", "richardson", "numdifftools", "scipy")


@dataclass
class Outcome:
    refused: bool
    rel: float = float("nan")  # normwise relative error
    covered: bool | None = None  # estimate >= error in every component
    under: float = 0.0  # worst error / estimate
    calls: float = 0.0  # calls of f per component


def _shaped(case: Case) -> tuple[Callable[[Array], Any], Array]:
    shape = np.shape(case.x)
    return (lambda z: case.fun(np.reshape(z, shape))), np.atleast_1d(np.asarray(case.x, float))


def _run(tool: str, case: Case) -> tuple[Array, Array | None, int]:
    f, x = _shaped(case)
    counted = Counted(f)
    if tool == "numdifftools":
        out = nd.Gradient(counted, full_output=True)(x)
        return np.reshape(out[0], -1), np.reshape(out[1], -1), counted.points
    if tool == "scipy":
        g, e = np.empty(x.size), np.empty(x.size)
        for j in range(x.size):

            def along(t: Array, j: int = j) -> Array:
                flat = np.ravel(t)
                vals = []
                for tj in flat:
                    z = x.copy()
                    z[j] = tj
                    vals.append(counted(z))
                return np.reshape(np.array(vals, dtype=float), np.shape(t))

            res = derivative(along, x[j])
            g[j], e[j] = float(res.df), float(res.error)
        return g, e, counted.points
    p = FiniteDifference(counted, tool, step=case.step, bounds=case.bounds)  # type: ignore[arg-type]
    if tool == "richardson":
        g, e = p.grad_and_error(x)
        return np.reshape(g, -1), np.reshape(e, -1), counted.points
    return np.reshape(p.grad(x), -1), None, counted.points


def outcome(tool: str, case: Case) -> Outcome | None:
    if case.bounds is not None and tool in ("numdifftools", "scipy"):
        return None  # no bounds there
    truth = np.reshape(case.grad(case.x), -1)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            g, est, calls = _run(tool, case)
    except Exception:
        return Outcome(refused=True)
    err = np.abs(g - truth)
    # Normwise relative error; a gradient at rounding level (0, or cos' at 2e-14) is
    # measured against the rounding of f instead: 1e-7 (|f(x)| + 1) in place of ||g*||.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        size = abs(float(np.real(case.fun(case.x))))
    scale = max(float(np.max(np.abs(truth))), 1e-7 * (np.nan_to_num(size) + 1))
    rel = float(np.max(err) / scale) if np.all(np.isfinite(g)) else float("inf")
    result = Outcome(False, rel, calls=calls / truth.size)
    if est is not None:
        excess = err - case.ref_rtol * np.abs(truth)
        result.covered = bool(np.all(excess <= est))
        with np.errstate(all="ignore"):
            ratio = np.where(excess > est, excess / est, 0.0)
        result.under = float(np.max(np.nan_to_num(ratio, nan=np.inf), initial=0.0))
    return result


def _stats_cases() -> list[Case]:
    from scipy.stats._distr_params import distcont  # every distribution scipy tests

    cases = []
    for name, params in distcont:
        dist = getattr(stats, name)(*params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x = float(dist.median()) + 0.1
        note = {"kstwobign": 2e-10}.get(name, 1e-12)  # scipy's pdf is off there (mpmath)
        cases.append(Case("scipy.stats", f"{name}{params}", dist.cdf, dist.pdf, x, ref_rtol=note))
    return cases


def _sweep_cases() -> list[Case]:
    cases = [c for c in all_cases() if c.suite == "sweep"]
    for lo, hi, space in ((100, 1000, np.linspace), (1e3, 1e5, np.geomspace)):
        for x in space(lo, hi, 200):
            cases.append(Case(f"sin on [{lo:g}, {hi:g}]", f"at {x:g}", np.sin, np.cos, float(x)))
    return cases


def part2() -> None:
    suites: dict[str, list[Case]] = {}
    for case in all_cases():
        if case.suite not in ("scipy.stats", "sweep"):
            suites.setdefault(case.suite, []).append(case)
    suites["scipy.stats (every distribution)"] = _stats_cases()
    for case in _sweep_cases():
        suites.setdefault(case.suite, []).append(case)
    header = (
        f"{'suite':<34} {'method':<13} {'cases':>5} {'accurate':>9} {'refused':>8} "
        f"{'median err':>10} {'covered':>9} {'worst under':>11} {'calls/comp':>10}"
    )
    print(header)
    print("-" * len(header))
    for suite, cases in suites.items():
        for tool in TOOLS:
            if tool == "numdifftools" and nd is None:
                continue
            t0 = time.perf_counter()
            outs = [o for o in (outcome(tool, c) for c in cases) if o is not None]
            elapsed = time.perf_counter() - t0
            answered = [o for o in outs if not o.refused]
            accurate = sum(o.rel <= 1e-6 for o in answered)
            refused = len(outs) - len(answered)
            med = np.median([o.rel for o in answered]) if answered else float("nan")
            cov = under = ""
            if answered and answered[0].covered is not None:
                cov = f"{sum(bool(o.covered) for o in answered)}/{len(answered)}"
                worst = max(o.under for o in answered)
                under = "-" if worst == 0 else f"{worst:.2g}x" if worst < 1e6 else "> 1e6x"
            calls = np.mean([o.calls for o in answered]) if answered else float("nan")
            name = {"scipy": "scipy.diff."}.get(tool, tool)
            print(
                f"{suite[:34]:<34} {name:<13} {len(outs):5d} {accurate:9d} {refused:8d} "
                f"{med:10.1e} {cov:>9} {under:>11} {calls:10.1f}  ({elapsed:.1f} s)"
            )
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", type=int, choices=(1, 2), default=None)
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average (1 min): {load:.2f}")
    if args.part in (None, 1):
        part1()
    if args.part in (None, 2):
        part2()


if __name__ == "__main__":
    main()
