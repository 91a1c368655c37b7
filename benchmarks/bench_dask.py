"""HuberRegressor on a Dask cluster: X generated on the workers, fit, overheads, memory.

X = randn(n, d) and y = X·w + 0.1·noise with 5% of y shifted by 100·N(0, 1) are built
chunk by chunk on the workers (never in the client). The script prints:

- the fit on the cluster: wall time, iterations, evaluations, the verdict;
- the time of one evaluation (a loss and gradient over every chunk) against its fixed
  cost: the same reduction with a block function that does nothing, and the longest
  task of the evaluation (from the task stream): wall time minus compute;
- the client's peak resident memory (``ru_maxrss``) after the Dask fit, before anything
  is built in the client;
- the same fit in memory (the same X, brought to the client), for comparison, unless
  ``--no-memory``.

Targets (issue 14): at most 20 ms per evaluation beyond the compute; the client under
200 MB.

Run from the repository root (the defaults are the issue's: n = 2e7, d = 20, 3.2 GB, two
workers; about five minutes and 8 GB of RAM)::

    python benchmarks/bench_dask.py
    python benchmarks/bench_dask.py --n 2000000 --workers 2   # a quick look
    python benchmarks/bench_dask.py --scheduler tcp://host:8786   # a real cluster
"""

from __future__ import annotations

import argparse
import importlib
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def data(n: int, d: int, chunk_rows: int, seed: int = 0) -> tuple[Any, Any]:
    """X and y as lazy Dask arrays, generated chunk by chunk where they are computed."""
    import dask.array as da

    rng = da.random.default_rng(seed)
    X = rng.normal(size=(n, d), chunks=(chunk_rows, d))
    w = np.random.default_rng(seed).normal(size=d)
    shifted = rng.random(size=n, chunks=chunk_rows) < 0.05
    y = X @ w + 0.1 * rng.normal(size=n, chunks=chunk_rows)
    y = y + da.where(shifted, 100.0 * rng.normal(size=n, chunks=chunk_rows), 0.0)
    return X, y


def _nothing(X_b: Any, y_b: Any, sw_b: Any) -> float:
    return 0.0


def _one_blas_thread() -> None:
    """On a worker: BLAS on one thread (the work is memory-bound; cores are for workers)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def client_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def evaluation_costs(client: Any, model: Any, X: Any, y: Any, repeats: int) -> dict[str, float]:
    """Median wall time of one evaluation and of an empty reduction (timed alone), and
    the median longest compute of an evaluation's tasks (from the task stream, in
    separate runs: recording the stream costs time of its own)."""
    from distributed import get_task_stream

    from gradopt.linear_model._dask_blocks import DaskBlocks
    from gradopt.linear_model._huber_objective import HuberObjective

    blocks = DaskBlocks(X, y, None)
    objective = HuberObjective(
        blocks, epsilon=model.epsilon, alpha=model.alpha, fit_intercept=True, log_sigma=False
    )
    v = objective.internal(model.coef_, model.intercept_, model.scale_)

    def evaluate(k: int) -> None:
        objective.evaluate(objective.theta(v + 1e-9 * k))  # not the cached point

    walls, empties, longest = [], [], []
    for k in range(repeats):
        start = time.perf_counter()
        evaluate(k)
        walls.append(time.perf_counter() - start)
        start = time.perf_counter()
        blocks.reduce(_nothing)
        empties.append(time.perf_counter() - start)
        with get_task_stream(client) as stream:
            evaluate(k + repeats)
        computes = [
            sum(s["stop"] - s["start"] for s in t["startstops"] if s["action"] == "compute")
            for t in stream.data
            if t.get("startstops")
        ]
        longest.append(max(computes, default=0.0))
    wall, empty, compute = (float(np.median(x)) for x in (walls, empties, longest))
    return {"wall": wall, "empty": empty, "compute": compute, "beyond": wall - compute}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=float, default=2e7)
    parser.add_argument("--d", type=int, default=20)
    parser.add_argument("--chunk-rows", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scheduler", help="address of a running scheduler (else local)")
    parser.add_argument("--repeats", type=int, default=7, help="evaluations timed (7)")
    parser.add_argument("--no-memory", action="store_true", help="skip the in-memory fit")
    args = parser.parse_args()
    n, d = int(args.n), args.d

    from distributed import Client, LocalCluster, wait
    from threadpoolctl import threadpool_limits

    from gradopt.linear_model import HuberRegressor

    print(f"load average before: {os.getloadavg()}; cores: {os.cpu_count()}")
    print(f"n = {n:.3g}, d = {d}: X is {n * d * 8 / 1e9:.2f} GB in chunks of {args.chunk_rows}")
    if args.scheduler:
        cluster = None
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        client.run(_one_blas_thread)
        client.run(importlib.import_module, "gradopt.linear_model")  # workers' imports
        baseline = client_peak_mb()
        start = time.perf_counter()
        X, y = client.persist(list(data(n, d, args.chunk_rows)))
        wait([X, y])
        generated = time.perf_counter() - start
        start = time.perf_counter()
        model = HuberRegressor().fit(X, y)
        seconds = time.perf_counter() - start
        result = model.optimize_result_
        print(f"X and y generated on the workers in {generated:.1f} s")
        print("| run | time [s] | nit | nfev | verdict |")
        print("|---|---|---|---|---|")
        print(
            f"| Dask fit ({len(client.nthreads())} workers) | {seconds:.1f} | {model.n_iter_} "
            f"| {result.nfev} | {result.message[:60]} |"
        )
        costs = evaluation_costs(client, model, X, y, args.repeats)
        peak = client_peak_mb()
        print(
            f"\nper evaluation (median of {args.repeats}): wall {1e3 * costs['wall']:.0f} ms, "
            f"longest task {1e3 * costs['compute']:.0f} ms, beyond the compute "
            f"{1e3 * costs['beyond']:.1f} ms; an empty reduction {1e3 * costs['empty']:.1f} ms"
        )
        print(
            f"client peak resident memory: {peak:.0f} MB ({baseline:.0f} MB after the "
            "imports, before any data)"
        )
        if not args.no_memory:
            X_local, y_local = (a.compute() for a in (X, y))
            with threadpool_limits(1):
                start = time.perf_counter()
                local = HuberRegressor().fit(X_local, y_local)
                local_seconds = time.perf_counter() - start
            gap = np.max(np.abs(local.coef_ - model.coef_)) / np.max(np.abs(local.coef_))
            print(
                f"in memory: {local_seconds:.1f} s, nit {local.n_iter_}, nfev "
                f"{local.optimize_result_.nfev}; coefficients agree to {gap:.1e} (relative)"
            )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
