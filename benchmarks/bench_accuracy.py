"""Derivative accuracy (issue 5): gradopt's Richardson extrapolation against scipy and
numdifftools, side by side in one process.

For each problem and method: the normwise relative error ``||g - g*||_inf / ||g*||_inf``,
the largest componentwise relative error, the calls of f (points, for a vectorised f), the
best-of-3 time, and for methods that estimate their error the share of components whose
estimate covers the true error and the median ratio estimate / true error (over the
components whose true error is not exactly zero).

Run: ``python benchmarks/bench_accuracy.py`` (needs the ``bench`` extra: numdifftools).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.differentiate import jacobian
from scipy.optimize import rosen, rosen_der
from scipy.optimize._numdiff import approx_derivative

from gradopt import FiniteDifference

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


def main() -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average (1 min): {load:.2f}")
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


if __name__ == "__main__":
    main()
