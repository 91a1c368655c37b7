"""Optimizers × providers: iterations, calls of f and wall time.

Problems: Rosenbrock (d = 10 and 100, from tile([-1.2, 1], d // 2)) and robust linear
regression with the mean-scaled Huber loss (n = 1000, d = 10, 5% outliers; the problem of
tests/optimizers/problems.py). The anchor for gradient descent is the textbook loop
``while norm(g) > 1e-4: w -= 1e-3 * g``, run here by hand in the same process.

Run from the repository root::

    python benchmarks/bench_optimizers.py            # everything (a minute or two)
    python benchmarks/bench_optimizers.py --quick    # d = 10 and Huber only
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gradopt import minimize
from tests.optimizers.problems import Problem, huber_regression, rosenbrock

METHODS = ("L-BFGS-B", "BFGS", "CG", "Newton-CG", "trust-krylov", "gradient-descent")
HESSP = ("autograd",)  # the providers with hessp (for trust-krylov)


def best_time(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of `repeat` runs (one run if a run takes over a second)."""
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = run()
        best = min(best, time.perf_counter() - start)
        if best > 1.0:
            break
    return best, out


def row(*cells: object) -> None:
    """One Markdown table row (text left-aligned, numbers right-aligned)."""
    print("| " + " | ".join(f"{c:<16}" if isinstance(c, str) else f"{c:>8}" for c in cells) + " |")


def header(*names: str) -> None:
    row(*names)
    row(*("---" for _ in names))


def error_of(problem: Problem, x: np.ndarray) -> float:
    if problem.x_star is not None:
        return float(np.linalg.norm(x - problem.x_star))
    return float(np.linalg.norm(problem.grad(x)))  # Huber: the true gradient norm


def bench_problem(
    problem: Problem, repeat: int, gtol: float, gd_max_iter: int, gd_fd: bool = True
) -> None:
    what = "‖x - x*‖" if problem.x_star is not None else "‖g(x)‖"
    print(f"\n## {problem.name} (d = {problem.x0.size})")
    header("method", "provider", "success", "nit", "nfev", "time [ms]", what)
    for method in METHODS:
        for name, make in problem.providers().items():
            if method == "trust-krylov" and name not in HESSP:
                continue
            if method == "gradient-descent" and not gd_fd and name not in ("analytic", "autograd"):
                continue  # thousands of iterations times 100-200 calls of f: minutes
            if method == "gradient-descent":
                options: dict[str, Any] = {"gtol": gtol, "max_iter": gd_max_iter}
            elif method == "Newton-CG":
                options = {}
            else:
                options = {"gtol": gtol}
            seconds, res = best_time(
                lambda m=method, mk=make, o=options: minimize(mk(), problem.x0, m, options=o),
                repeat,
            )
            err = error_of(problem, res.x)
            row(
                method,
                name,
                str(res.success),
                res.nit,
                res.nfev,
                f"{1e3 * seconds:.1f}",
                f"{err:.1e}",
            )


def textbook(
    problem: Problem, step: float, tol: float, with_f: bool = False
) -> tuple[int, np.ndarray]:
    """The anchor: fixed-step gradient descent as written in a textbook (optionally also
    evaluating f at each iterate, as gradopt does to report it)."""
    w = problem.x0.copy()
    g = problem.grad(w)
    k = 0
    while np.linalg.norm(g) > tol:
        w -= step * g
        if with_f:
            problem.fun(w)
        g = problem.grad(w)
        k += 1
    return k, w


def bench_descent_vs_textbook(problem: Problem, repeat: int) -> None:
    print("\n## Gradient descent on the Huber problem: line search vs textbook step 1e-3")
    header("variant", "provider", "success", "nit", "nfev", "time [ms]", "time / anchor")
    t_anchor, (k, _) = best_time(lambda: textbook(problem, 1e-3, 1e-4), repeat)
    row("textbook loop", "analytic", "True", k, 0, f"{1e3 * t_anchor:.1f}", "1.00")
    t_with_f, _ = best_time(lambda: textbook(problem, 1e-3, 1e-4, with_f=True), repeat)
    row(
        "textbook + f",
        "analytic",
        "True",
        k,
        k + 1,
        f"{1e3 * t_with_f:.1f}",
        f"{t_with_f / t_anchor:.3g}",
    )
    fixed = {"line_search": "none", "learning_rate": 1e-3, "gtol": 1e-4, "max_iter": 10**5}
    variants = [
        ("fixed 1e-3", fixed),
        ("armijo + BB", {"gtol": 1e-4}),
        ("armijo", {"gtol": 1e-4, "initial_step": "constant"}),
        ("nesterov 0.9", {"gtol": 1e-4, "momentum": 0.9, "nesterov": True}),
    ]
    for label, options in variants:
        for name in ("analytic", "autograd"):
            make = problem.providers()[name]
            seconds, res = best_time(
                lambda mk=make, o=options: minimize(
                    mk(), problem.x0, "gradient-descent", options=o
                ),
                repeat,
            )
            row(
                label,
                name,
                str(res.success),
                res.nit,
                res.nfev,
                f"{1e3 * seconds:.1f}",
                f"{seconds / t_anchor:.3g}",
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip Rosenbrock d = 100")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads (default 1: on 2 shared cores, threaded BLAS makes the small "
        "matrix products of the Huber problem up to 10x slower)",
    )
    args = parser.parse_args()
    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        run(args)


def run(args: argparse.Namespace) -> None:
    print(
        f"# gradopt optimizers benchmark; load average {os.getloadavg()[0]:.2f}; "
        f"BLAS threads {args.blas_threads}"
    )
    huber = huber_regression()
    bench_descent_vs_textbook(huber, args.repeat)
    bench_problem(huber, args.repeat, gtol=1e-6, gd_max_iter=10_000)
    bench_problem(rosenbrock(10), args.repeat, gtol=1e-6, gd_max_iter=5_000)
    if not args.quick:
        bench_problem(rosenbrock(100), args.repeat, gtol=1e-6, gd_max_iter=5_000, gd_fd=False)


if __name__ == "__main__":
    main()
