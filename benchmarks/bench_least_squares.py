"""Least squares with the Jacobian from a provider (issue 15): calls of f and time.

On the calibration example (Lotka-Volterra, 4 rates, 162 residuals, a few ms per
simulation) and two Moré-Garbow-Hillstrom data-fitting problems (Osborne 1: 5 parameters,
33 residuals; Bard: 3 parameters, 15 residuals), each solved by

- ``gradopt.least_squares`` with forward, central and parallel (``workers=2``) central
  finite-difference Jacobians,
- scipy's ``least_squares`` with its own ``jac="2-point"`` and ``"3-point"``,
- L-BFGS-B (``gradopt.minimize``) on the sum of squares, with forward and central
  finite-difference gradients,

all from the same start with default tolerances (time: one run, or the best of 5 when f
takes under a millisecond). Calls of f are counted at f itself
(scipy's own counts leave out the Jacobian its 'lm' computes for the result). Targets:
no more calls of f than scipy for the same scheme (forward against '2-point', central
against '3-point'), and at least 3x fewer simulations than L-BFGS-B with the same scheme
on the calibration example.

Run: ``python benchmarks/bench_least_squares.py`` (about a minute; quote ``uptime``).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.optimize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gradopt import FiniteDifference, least_squares, minimize  # noqa: E402
from tests.optimizers.mgh import MGH  # noqa: E402


@dataclass(frozen=True)
class Case:
    name: str
    residuals: Callable[[np.ndarray], np.ndarray]
    x0: np.ndarray
    bounds: Any


class Counted:
    """f with a count of its calls (module-level class: picklable for workers)."""

    def __init__(self, f: Callable[[np.ndarray], Any]) -> None:
        self.f, self.calls = f, 0

    def __call__(self, x: np.ndarray) -> Any:
        self.calls += 1
        return self.f(x)


class SumOfSquares:
    def __init__(self, r: Callable[[np.ndarray], np.ndarray]) -> None:
        self.r = r

    def __call__(self, x: np.ndarray) -> float:
        v = self.r(x)
        return float(v @ v)


def calibration_case() -> Case:
    path = next(iter(sorted(ROOT.glob("examples/*calibrat*.py"))))
    spec = importlib.util.spec_from_file_location("calibration_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # picklable by reference in worker processes
    spec.loader.exec_module(module)
    return Case("calibration (Lotka-Volterra)", module.residuals, module.X0, module.BOUNDS)


def mgh_case(name: str) -> Case:
    problem = MGH[name]
    return Case(f"MGH {name}", _AsFloat(problem.residuals), problem.x0, None)


class _AsFloat:
    def __init__(self, r: Callable[[Any], Any]) -> None:
        self.r = r

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.r(x), dtype=float)


def _run(case: Case, label: str) -> tuple[int, float, float]:
    """(calls of f, seconds, final sum of squares) of one way of solving `case`."""
    r = Counted(case.residuals)
    lo_hi = None
    if case.bounds is not None:
        lo_hi = (np.array([b[0] for b in case.bounds]), np.array([b[1] for b in case.bounds]))
    start = time.perf_counter()
    if label.startswith("gradopt LS"):
        method = "forward" if "forward" in label else "central"
        workers = 2 if "workers" in label else None
        with FiniteDifference(r, method, bounds=case.bounds, workers=workers) as p:
            res = least_squares(p, case.x0, bounds=case.bounds)
            calls, value = p.nfev, 2 * res.cost  # workers count in p, not in r
    elif label.startswith("scipy LS"):
        jac = "2-point" if "2-point" in label else "3-point"
        kwargs = {} if lo_hi is None else {"bounds": lo_hi}
        res = scipy.optimize.least_squares(r, case.x0, jac=jac, **kwargs)
        calls, value = r.calls, 2 * res.cost
    else:  # L-BFGS-B on the sum of squares
        method = "forward" if "forward" in label else "central"
        p = FiniteDifference(SumOfSquares(r), method, bounds=case.bounds)
        res = minimize(p, case.x0, "L-BFGS-B", bounds=case.bounds)
        calls, value = p.nfev, res.fun
    return calls, time.perf_counter() - start, float(value)


LABELS = [
    "gradopt LS forward",
    "scipy LS 2-point",
    "gradopt LS central",
    "scipy LS 3-point",
    "gradopt LS central, workers=2",
    "L-BFGS-B forward, sum of squares",
    "L-BFGS-B central, sum of squares",
]


def main() -> None:
    print(f"load average at start: {os.getloadavg()}, CPUs: {os.cpu_count()}")
    verdicts: list[str] = []
    for case in (calibration_case(), mgh_case("osborne_1"), mgh_case("bard")):
        start = time.perf_counter()
        case.residuals(case.x0)
        one = time.perf_counter() - start
        m = case.residuals(case.x0).size
        print(f"\n{case.name}: d = {case.x0.size}, m = {m}, one call of f {1e3 * one:.2f} ms")
        print(f"  {'method':<34}{'calls of f':>11}{'time (s)':>10}{'sum of squares':>16}")
        rows: dict[str, tuple[int, float, float]] = {}
        repeats = 1 if one > 1e-3 else 5  # cheap f: the best of 5 runs
        for label in LABELS:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                runs = [_run(case, label) for _ in range(repeats)]
            rows[label] = min(runs, key=lambda run: run[1])
            calls, seconds, value = rows[label]
            print(f"  {label:<34}{calls:>11}{seconds:>10.3f}{value:>16.8g}")
        for ours, theirs in (("forward", "2-point"), ("central", "3-point")):
            a, b = rows[f"gradopt LS {ours}"][0], rows[f"scipy LS {theirs}"][0]
            ok = "PASS" if a <= b else "FAIL"
            verdicts.append(f"{ok}  {case.name}: {ours} {a} calls <= scipy {theirs} {b}")
        if case.name.startswith("calibration"):
            for scheme in ("forward", "central"):
                a = rows[f"gradopt LS {scheme}"][0]
                b = rows[f"L-BFGS-B {scheme}, sum of squares"][0]
                ok = "PASS" if b >= 3 * a else "FAIL"
                verdicts.append(
                    f"{ok}  {case.name}: L-BFGS-B {scheme} {b} / least squares {a} = "
                    f"{b / a:.2f}x fewer simulations (target >= 3x)"
                )
    print("\nTargets:")
    for line in verdicts:
        print("  " + line)
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
