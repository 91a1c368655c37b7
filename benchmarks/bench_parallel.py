"""Parallel finite differences (issue 6): speed-ups on an expensive f, overhead on a cheap one.

Part 1: one central-difference gradient of a ~20 ms compute-bound simulation (a pure-Python
loop that holds the GIL, so threads could not help) at d = 8 and 32: serial, with
``workers=2`` (a process pool gradopt owns), and on a Dask ``LocalCluster`` with 2 worker
processes. The pool and cluster start-up is measured separately and excluded from the
per-gradient times (it is paid once).

Part 2: the cost of the evaluator machinery when no executor is given, on cheap functions:
the current ``FiniteDifference`` against the implementation of commit a58bedd (loaded from
git, run side by side in this process) and against a hand-written forward-difference loop.

Run: ``python benchmarks/bench_parallel.py`` (about a minute; record ``uptime`` with it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import types
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import rosen

from gradopt import FiniteDifference

REPEATS = 3


def simulation(params: np.ndarray, steps: int) -> float:
    """Euler steps of a chain of damped oscillators, in pure Python (holds the GIL)."""
    p = [float(v) for v in params]
    d = len(p)
    pos = [0.1 * (i + 1) for i in range(d)]
    vel = [0.0] * d
    dt = 1e-3
    energy = 0.0
    for _ in range(steps):
        for i in range(d):
            left = pos[i - 1] if i else 0.0
            force = -p[i] * pos[i] - 0.1 * vel[i] + 0.05 * (left - pos[i])
            vel[i] += dt * force
            pos[i] += dt * vel[i]
        energy += pos[0] * pos[0]
    return energy * dt


def calibrated(d: int, target: float = 0.020) -> Callable[[np.ndarray], float]:
    """A simulation of `d` parameters whose run costs about `target` seconds."""
    x = np.linspace(0.5, 1.5, d)
    steps = 200
    elapsed = _best(lambda: simulation(x, steps), 3)
    steps = max(1, int(steps * target / elapsed))
    return _Sim(steps)


class _Sim:
    """Picklable (module-level class) so worker processes receive it by reference."""

    def __init__(self, steps: int) -> None:
        self.steps = steps

    def __call__(self, params: np.ndarray) -> float:
        return simulation(params, self.steps)


def _best(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def one_gradient(provider: FiniteDifference, x: np.ndarray) -> float:
    def run() -> None:
        provider._clear_cache()  # a fresh gradient every time
        provider.grad(x)

    return _best(run, REPEATS)


def part1() -> None:
    print(f"Part 1: one central-difference gradient of a ~20 ms simulation (best of {REPEATS})")
    try:
        import distributed
    except ImportError:  # pragma: no cover
        distributed = None
    cluster = client = None
    if distributed is not None:
        start = time.perf_counter()
        cluster = distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        )
        client = distributed.Client(cluster)
        print(f"  Dask LocalCluster start-up: {time.perf_counter() - start:.2f} s")
    try:
        print(
            f"  {'d':>3} {'f (ms)':>7} {'serial (s)':>11} {'workers=2':>10} {'speed-up':>9}"
            f" {'Dask 2 workers':>15} {'speed-up':>9}"
        )
        for d in (8, 32):
            f = calibrated(d)
            x = np.linspace(0.5, 1.5, d)
            cost = _best(lambda f=f, x=x: f(x), 3)
            serial = FiniteDifference(f)
            t_serial = one_gradient(serial, x)
            with FiniteDifference(f, workers=2) as pool:
                start = time.perf_counter()
                g_pool = pool.grad(x)
                startup = time.perf_counter() - start - t_serial / 2
                t_pool = one_gradient(pool, x)
            assert np.array_equal(g_pool, serial.grad(x))
            row = (
                f"  {d:>3} {1e3 * cost:>7.1f} {t_serial:>11.3f} {t_pool:>10.3f} "
                f"{t_serial / t_pool:>8.2f}x"
            )
            if client is not None:
                dask = FiniteDifference(f, executor=client.get_executor())
                dask.grad(x)  # warm: ship f to the workers once
                t_dask = one_gradient(dask, x)
                assert np.array_equal(dask.grad(x), serial.grad(x))
                row += f" {t_dask:>15.3f} {t_serial / t_dask:>8.2f}x"
            print(row + f"   (pool start-up about {max(startup, 0.0):.2f} s)")
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _old_finite_difference() -> Any:
    """FiniteDifference as of commit a58bedd (before evaluators), or None without git."""
    try:
        src = subprocess.run(
            ["git", "show", "a58bedd:gradopt/gradients/finite_difference.py"],
            capture_output=True,
            text=True,
            check=True,
            cwd=os.path.dirname(os.path.abspath(__file__)),
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("fd_a58bedd")
    sys.modules[module.__name__] = module
    exec(compile(src, "fd_a58bedd.py", "exec"), module.__dict__)
    return module.FiniteDifference


def hand_forward(f: Callable[[np.ndarray], float], x: np.ndarray) -> tuple[float, np.ndarray]:
    """The textbook loop: h = sqrt(eps) max(1, |x_j|), d + 1 calls."""
    f0 = f(x)
    g = np.empty_like(x)
    h = np.sqrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(x))
    for j in range(x.size):
        xj = x.copy()
        xj[j] += h[j]
        g[j] = (f(xj) - f0) / h[j]
    return f0, g


def _median_ratio(
    a: Callable[[], Any], b: Callable[[], Any], number: int, rounds: int = 7
) -> tuple[float, float, float]:
    """Time a and b interleaved; return (median time a, median time b, median ratio a/b)."""
    ta, tb = [], []
    for _ in range(rounds):
        for fn, out in ((a, ta), (b, tb)):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            out.append((time.perf_counter() - start) / number)
    ratios = np.array(ta) / np.array(tb)
    return float(np.median(ta)), float(np.median(tb)), float(np.median(ratios))


def part2() -> None:
    print("\nPart 2: no-executor overhead on a cheap f (median of 7 interleaved rounds)")
    Old = _old_finite_difference()
    cases: list[tuple[str, Callable[..., Any], Any, str]] = [
        ("rosen d=100", rosen, np.tile([-1.2, 1.0], 50), "forward"),
        ("rosen d=100", rosen, np.tile([-1.2, 1.0], 50), "central"),
        ("rosen d=1000", rosen, np.tile([-1.2, 1.0], 500), "forward"),
        ("rosen d=1000", rosen, np.tile([-1.2, 1.0], 500), "central"),
        ("sin, scalar x", np.sin, 1.0, "central"),
    ]
    print(
        f"  {'function':<14} {'method':<8} {'now':>10} {'a58bedd':>10} {'ratio':>7}"
        f" {'hand loop':>10} {'ratio':>7}"
    )
    for name, f, x, method in cases:
        new = FiniteDifference(f, method)

        def run_new(new: Any = new, x: Any = x) -> None:
            new._clear_cache()
            new.value_and_grad(x)

        number = 20 if np.size(x) >= 1000 else 200
        row = f"  {name:<14} {method:<8}"
        if Old is not None:
            old = Old(f, method)

            def run_old(old: Any = old, x: Any = x) -> None:
                old._x = None
                old.value_and_grad(x)

            t_new, t_old, ratio = _median_ratio(run_new, run_old, number)
            row += f" {1e3 * t_new:>8.3f}ms {1e3 * t_old:>8.3f}ms {ratio:>6.3f}x"
        else:
            row += f" {'':>10} {'(no git)':>10} {'':>7}"
        if method == "forward":
            xa = np.atleast_1d(np.asarray(x, dtype=float))
            t_new, t_hand, ratio = _median_ratio(
                run_new, lambda f=f, xa=xa: hand_forward(f, xa), number
            )
            row += f" {1e3 * t_hand:>8.3f}ms {ratio:>6.3f}x"
        print(row)


def main() -> None:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"load average at start: {load}, CPUs: {os.cpu_count()}")
    part2()
    print()
    part1()
    print(f"\nload average at end: {os.getloadavg() if hasattr(os, 'getloadavg') else None}")


if __name__ == "__main__":
    main()
