"""gradopt's HuberRegressor against scikit-learn's (and statsmodels' RLM), side by side.

Problem: X = randn(n, d), y = X·w + 0.1·noise, 5% of y shifted by 100·N(0, 1). For each
(n, d), with one BLAS thread and with the default, it prints fit time (best of a few
runs), the ratio to scikit-learn's time, peak memory of the fit (tracemalloc: numpy's
allocations, in a separate untimed run), iterations, evaluations and the agreement of
the coefficients with scikit-learn's (max |Δcoef| / max |coef|). statsmodels' RLM with
HuberT runs at the two smallest sizes (a benchmark-only dependency: the ``bench`` extra).

Targets (issue 4): the analytic path at most 0.35x scikit-learn's time at (1e5, 10) and
(1e6, 20) with coefficients equal to 1e-6; the autograd path faster than scikit-learn
for n >= 1e5; peak memory no higher than scikit-learn's. Issue 11: the JAX path
(``gradient="jax"``, when jax is installed) within 1.3x of the analytic path and faster
than scikit-learn at (1e5, 10) and (1e6, 20). Its first fit at each shape compiles (timed
and printed apart, "jax, first fit"); the row is the best of the later fits. Its peak
counts numpy's allocations only: XLA's buffers are not traced.

Run from the repository root::

    python benchmarks/bench_huber.py            # all sizes (about a minute)
    python benchmarks/bench_huber.py --quick    # without (1e6, 20)
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import HuberRegressor as SklearnHuber
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gradopt.linear_model import HuberRegressor

SIZES = [(1_000, 10), (100_000, 10), (100_000, 100), (1_000_000, 20)]
RLM_MAX_N = 100_000


def problem(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)
    shifted = rng.choice(n, size=n // 20, replace=False)
    y[shifted] += 100.0 * rng.normal(size=shifted.size)
    return X, y


def best_time(fit: Callable[[], Any], budget: float = 3.0) -> tuple[float, Any]:
    """Best wall time over up to 5 runs, fewer when a run is slow."""
    best, out, spent = np.inf, None, 0.0
    for _ in range(5):
        start = time.perf_counter()
        out = fit()
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
        if spent > budget:
            break
    return best, out


def peak_memory(fit: Callable[[], Any]) -> float:
    """Peak bytes allocated (numpy included) during one fit, above what existed before."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fit()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return float(peak - base)


def contenders(X: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], Any]]:
    fits: dict[str, Callable[[], Any]] = {
        "scikit-learn": lambda: SklearnHuber().fit(X, y),
        "gradopt analytic": lambda: HuberRegressor().fit(X, y),
        "gradopt autograd": lambda: HuberRegressor(gradient="autograd").fit(X, y),
    }
    if importlib.util.find_spec("jax") is not None:
        fits["gradopt jax"] = lambda: HuberRegressor(gradient="jax").fit(X, y)
    if X.shape[0] <= RLM_MAX_N:
        import statsmodels.api as sm

        def rlm() -> Any:
            return sm.RLM(y, sm.add_constant(X), M=sm.robust.norms.HuberT()).fit()

        fits["statsmodels RLM"] = rlm
    return fits


def coef_of(model: Any) -> np.ndarray:
    if hasattr(model, "coef_"):
        return np.asarray(model.coef_)
    return np.asarray(model.params[1:])  # statsmodels: constant first


def counts(model: Any) -> tuple[str, str]:
    if hasattr(model, "optimize_result_"):
        return str(model.n_iter_), str(model.optimize_result_.nfev)
    if hasattr(model, "n_iter_"):
        return str(model.n_iter_), "-"
    return str(model.fit_history["iteration"]), "-"  # statsmodels IRLS


def run_size(n: int, d: int, threads: int | None) -> None:
    X, y = problem(n, d)
    fits = contenders(X, y)
    results: dict[str, tuple[float, Any, float]] = {}
    with threadpool_limits(limits=threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if "gradopt jax" in fits and threads == 1:  # compiles once per shape
            start = time.perf_counter()
            fits["gradopt jax"]()
            first = 1e3 * (time.perf_counter() - start)
            print(f"| ({n:.0e}, {d}) | | gradopt jax, first fit | {first:.1f} | | | | | | |")
        for name, fit in fits.items():
            seconds, model = best_time(fit)
            results[name] = (seconds, model, peak_memory(fit))
    ref_seconds, ref_model, ref_peak = results["scikit-learn"]
    ref_coef = coef_of(ref_model)
    label = "1 thread" if threads == 1 else "default threads"
    for name, (seconds, model, peak) in results.items():
        nit, nfev = counts(model)
        gap = np.max(np.abs(coef_of(model) - ref_coef)) / np.max(np.abs(ref_coef))
        print(
            f"| ({n:.0e}, {d}) | {label} | {name} | {1e3 * seconds:.1f} | "
            f"{seconds / ref_seconds:.2f} | {peak / 1e6:.1f} | {peak / ref_peak:.2f} | "
            f"{nit} | {nfev} | {gap:.1e} |"
        )
    if "gradopt jax" in results:
        ratio = results["gradopt jax"][0] / results["gradopt analytic"][0]
        faster = results["gradopt jax"][0] < ref_seconds
        flags = f"{'ok' if ratio <= 1.3 else 'MISSED'}, faster than sklearn: {faster}"
        print(f"| ({n:.0e}, {d}) | {label} | jax / analytic: {ratio:.2f} (<= 1.3: {flags}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip (1e6, 20)")
    parser.add_argument("--sizes", nargs="+", help="only these sizes, e.g. 100000x10 1000000x20")
    args = parser.parse_args()
    sizes = SIZES[:-1] if args.quick else SIZES
    if args.sizes:
        sizes = [(int(n), int(d)) for n, d in (s.split("x") for s in args.sizes)]
    print(f"load average before: {os.getloadavg()}; cores: {os.cpu_count()}")
    if importlib.util.find_spec("jax") is not None:
        import jax

        print(f"JAX {jax.__version__} on {jax.devices()[0].platform}")
    print(
        "| (n, d) | BLAS | method | time [ms] | vs sklearn | peak [MB] | vs sklearn | "
        "nit | nfev | coef vs sklearn |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, d in sizes:
        for threads in (1, None):
            run_size(n, d, threads)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
