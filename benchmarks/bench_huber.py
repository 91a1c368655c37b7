"""gradopt's HuberRegressor against scikit-learn's, interleaved in one process.

Problem: X = randn(n, d), y = X·w + 0.1·noise, 5% of y shifted by 100·N(0, 1). For each
(n, d), with one BLAS thread, the fits run in turns (scikit-learn, gradopt analytic,
gradopt autograd, scikit-learn, ...) so that a busy machine slows them alike; each
gradopt time is divided by the scikit-learn time of its own round and the table gives
the median and the best of those ratios, the median time, iterations, evaluations, the
objective against scikit-learn's (gradopt must never be worse) and the agreement of the
coefficients. Peak memory (tracemalloc: numpy's allocations) is measured in separate,
untimed fits, as a share of the size of X (X itself is not counted). statsmodels' RLM
with HuberT joins with ``--rlm`` where n·d <= 1e6 (a ``bench`` extra).

Targets (issue 14): the analytic fit at most 0.2x scikit-learn's time at (1e6, 20) and
0.25x at (1e5, 10), its peak memory beyond X at most 10% of X's size; never a worse
objective than scikit-learn's. Issue 11: the JAX path (``gradient="jax"``, when jax is
installed) within 1.3x of the analytic path and faster than scikit-learn at (1e5, 10)
and (1e6, 20). Its first fit at each shape compiles (timed and printed apart, "jax,
first fit"); its rows are the later, interleaved fits. Its peak counts numpy's
allocations only: XLA's buffers are not traced.

Run from the repository root::

    python benchmarks/bench_huber.py              # all sizes, 7 rounds (about 2 minutes)
    python benchmarks/bench_huber.py --quick      # without (1e5, 100) and (1e6, 20)
    python benchmarks/bench_huber.py --repeats 15 --sizes 1e6x20
    python benchmarks/bench_huber.py --sizes 1e5x10,1e6x20 --only analytic jax  # issue 11
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

from gradopt.linear_model import HuberRegressor, huber_loss_and_gradient

SIZES = [(1_000, 10), (100_000, 10), (100_000, 100), (1_000_000, 20)]
QUICK = SIZES[:2]
RLM_MAX_ENTRIES = 1_000_000


def problem(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)
    shifted = rng.choice(n, size=n // 20, replace=False)
    y[shifted] += 100.0 * rng.normal(size=shifted.size)
    return X, y


def peak_memory(fit: Callable[[], Any]) -> float:
    """Peak bytes allocated (numpy included) during one fit, above what existed before."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fit()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return float(peak - base)


def contenders(
    X: np.ndarray, y: np.ndarray, rlm: bool, only: list[str] | None = None
) -> dict[str, Callable[[], Any]]:
    fits: dict[str, Callable[[], Any]] = {
        "scikit-learn": lambda: SklearnHuber().fit(X, y),
        "gradopt analytic": lambda: HuberRegressor().fit(X, y),
        "gradopt autograd": lambda: HuberRegressor(gradient="autograd").fit(X, y),
    }
    if importlib.util.find_spec("jax") is not None:
        fits["gradopt jax"] = lambda: HuberRegressor(gradient="jax").fit(X, y)
    if rlm and X.size <= RLM_MAX_ENTRIES:
        import statsmodels.api as sm

        def fit_rlm() -> Any:
            return sm.RLM(y, sm.add_constant(X), M=sm.robust.norms.HuberT()).fit()

        fits["statsmodels RLM"] = fit_rlm
    if only:  # scikit-learn stays: every ratio is to it
        fits = {k: f for k, f in fits.items() if k == "scikit-learn" or k.split()[-1] in only}
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


def objective(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    """scikit-learn's objective at the model's fit (NaN for statsmodels: another scale)."""
    if not hasattr(model, "scale_"):
        return float("nan")
    params = np.concatenate([model.coef_, [model.intercept_, model.scale_]])
    return float(huber_loss_and_gradient(params, X, y, 1.35, 1e-4)[0])


def run_size(n: int, d: int, repeats: int, rlm: bool, only: list[str] | None) -> None:
    X, y = problem(n, d)
    fits = contenders(X, y, rlm, only)
    times: dict[str, list[float]] = {name: [] for name in fits}
    models: dict[str, Any] = {}
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, fit in fits.items():  # warm up (imports, caches; jax compiles)
            start = time.perf_counter()
            models[name] = fit()
            if name == "gradopt jax":
                first = 1e3 * (time.perf_counter() - start)
                print(f"| ({n:.0e}, {d}) | gradopt jax, first fit | {first:.1f} | | | | | | | |")
        for _ in range(repeats):
            for name, fit in fits.items():
                start = time.perf_counter()
                models[name] = fit()
                times[name].append(time.perf_counter() - start)
        peaks = {name: peak_memory(fit) for name, fit in fits.items()}
    ref = times["scikit-learn"]
    ref_coef, ref_objective = (
        coef_of(models["scikit-learn"]),
        objective(models["scikit-learn"], X, y),
    )
    for name, model in models.items():
        ratios = np.array(times[name]) / np.array(ref)
        nit, nfev = counts(model)
        gap = np.max(np.abs(coef_of(model) - ref_coef)) / np.max(np.abs(ref_coef))
        excess = objective(model, X, y) / ref_objective - 1
        print(
            f"| ({n:.0e}, {d}) | {name} | {1e3 * float(np.median(times[name])):.1f} | "
            f"{float(np.median(ratios)):.3f} | {float(np.min(ratios)):.3f} | "
            f"{peaks[name] / X.nbytes:.1%} | {nit} | {nfev} | {excess:+.1e} | {gap:.1e} |",
            flush=True,
        )
    if "gradopt jax" in times and "gradopt analytic" in times:
        # per round (the two ran back to back), then the median and the best round
        rounds = np.array(times["gradopt jax"]) / np.array(times["gradopt analytic"])
        ratio, best = float(np.median(rounds)), float(np.min(rounds))
        faster = float(np.median(times["gradopt jax"])) < float(np.median(ref))
        flags = f"{'ok' if ratio <= 1.3 else 'MISSED'}, faster than sklearn: {faster}"
        print(
            f"| ({n:.0e}, {d}) | jax / analytic: median {ratio:.2f}, best {best:.2f} "
            f"(<= 1.3: {flags}) |"
        )


def parse_sizes(text: str) -> list[tuple[int, int]]:
    return [(int(float(n)), int(d)) for n, d in (item.split("x") for item in text.split(","))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only (1e3, 10) and (1e5, 10)")
    parser.add_argument("--sizes", type=parse_sizes, help="e.g. 1e6x20,1e5x10")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds (7)")
    parser.add_argument("--rlm", action="store_true", help="add statsmodels' RLM (slow)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["analytic", "autograd", "jax"],
        help="these gradopt gradients only (scikit-learn always runs: the reference)",
    )
    args = parser.parse_args()
    sizes = args.sizes or (QUICK if args.quick else SIZES)
    print(f"load average before: {os.getloadavg()}; cores: {os.cpu_count()}; 1 BLAS thread")
    print(
        "| (n, d) | method | median time [ms] | median ratio | best ratio | peak beyond X "
        "/ X | nit | nfev | objective vs sklearn | coef vs sklearn |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, d in sizes:
        run_size(n, d, args.repeats, args.rlm, args.only)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
