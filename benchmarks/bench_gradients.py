"""Gradient time and error of gradopt's providers against the usual alternatives.

On the Rosenbrock function at d = 100 and 1000, side by side in one process: a
hand-written forward-difference loop, ``scipy.optimize.approx_fprime``, scipy's
``approx_derivative`` ('2-point', '3-point', 'cs'), plain ``autograd.value_and_grad``, and
gradopt's ``FiniteDifference`` (forward, central, complex) and ``Autograd``.

Each method is timed timeit-style (``number`` calls per repeat, best repeat reported),
the methods taking turns within each repeat so that machine load hits them alike. Calls
alternate between two points, so a provider's cache of the last point never answers
(every call is a cache miss, as in an optimizer). The error is the largest componentwise
relative error against ``scipy.optimize.rosen_der`` at the classic start point.

Run: ``python benchmarks/bench_gradients.py`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
from scipy.optimize import approx_fprime, rosen, rosen_der
from scipy.optimize._numdiff import approx_derivative

from gradopt import Autograd, FiniteDifference

SQRT_EPS = float(np.sqrt(np.finfo(np.float64).eps))


def rosen_ag(x: Any) -> Any:
    """Rosenbrock written with autograd.numpy (scipy's rosen, traceable)."""
    return anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def hand_forward(f: Callable[[Any], float], x: np.ndarray) -> tuple[float, np.ndarray]:
    """The forward-difference loop everyone writes, with h = sqrt(eps) * max(1, |x_j|)."""
    f0 = f(x)
    g = np.empty_like(x)
    for j in range(x.size):
        xh = x.copy()
        xh[j] += SQRT_EPS * max(1.0, abs(x[j]))
        g[j] = (f(xh) - f0) / (xh[j] - x[j])
    return f0, g


def methods() -> dict[str, tuple[Callable[[np.ndarray], Any], str]]:
    """name -> (x -> gradient or (value, gradient), calls of f as text)."""
    fwd = FiniteDifference(rosen, method="forward")
    central = FiniteDifference(rosen, method="central")
    cstep = FiniteDifference(rosen, method="complex")
    ad = Autograd(rosen_ag)
    plain_ad = autograd.value_and_grad(rosen_ag)
    return {
        "hand-written forward loop": (lambda x: hand_forward(rosen, x), "d+1"),
        "scipy approx_fprime": (lambda x: approx_fprime(x, rosen), "d+1"),
        "scipy approx_derivative 2-point": (
            lambda x: approx_derivative(rosen, x, method="2-point"),
            "d+1",
        ),
        "scipy approx_derivative 3-point": (
            lambda x: approx_derivative(rosen, x, method="3-point"),
            "2d",
        ),
        "scipy approx_derivative cs": (lambda x: approx_derivative(rosen, x, method="cs"), "d"),
        "plain autograd.value_and_grad": (plain_ad, "1 traced"),
        "gradopt FiniteDifference forward": (fwd.value_and_grad, "d+1"),
        "gradopt FiniteDifference central": (central.grad, "2d"),
        "gradopt FiniteDifference complex": (cstep.grad, "d"),
        "gradopt Autograd": (ad.value_and_grad, "1 traced"),
    }


def gradient_of(result: Any) -> np.ndarray:
    return np.asarray(result[1] if isinstance(result, tuple) else result, dtype=np.float64)


def best_times(
    funcs: dict[str, Callable[[np.ndarray], Any]], points: list[np.ndarray], repeat: int
) -> dict[str, float]:
    """Best time per call of each function, taking turns within each repeat."""
    number = {}
    for name, fn in funcs.items():  # calibrate: about 20 ms per repeat, at least 2 calls
        start = time.perf_counter()
        fn(points[0])
        fn(points[1])
        per_call = (time.perf_counter() - start) / 2
        # An even number, so each repeat ends on points[1] and the next starts on
        # points[0]: with an odd one, the first call of a repeat would be a cache hit.
        number[name] = 2 * max(1, int(0.01 / max(per_call, 1e-7)))
    best = dict.fromkeys(funcs, float("inf"))
    for _ in range(repeat):
        for name, fn in funcs.items():
            n = number[name]
            start = time.perf_counter()
            for i in range(n):
                fn(points[i & 1])  # alternate: never the cached point
            best[name] = min(best[name], (time.perf_counter() - start) / n)
    return best


def run(d: int, repeat: int) -> dict[str, float]:
    x0 = np.tile([-1.2, 1.0], d // 2)
    x1 = x0 + np.random.default_rng(0).uniform(-1e-3, 1e-3, d)
    truth = rosen_der(x0)
    table = methods()
    errors = {
        name: float(np.max(np.abs(gradient_of(fn(x0)) - truth) / np.abs(truth)))
        for name, (fn, _) in table.items()
    }
    times = best_times({name: fn for name, (fn, _) in table.items()}, [x0, x1], repeat)
    f_time = best_times({"f": rosen}, [x0, x1], repeat)["f"]
    print(f"\nrosen, d = {d} (one call of f: {f_time * 1e6:.1f} µs)")
    print(f"| {'method':<34} | {'max rel. error':>14} | {'calls of f':>10} | {'time':>10} |")
    print(f"|{'-' * 36}|{'-' * 16}|{'-' * 12}|{'-' * 12}|")
    for name, (_, calls) in table.items():
        print(f"| {name:<34} | {errors[name]:>14.1e} | {calls:>10} | {_fmt(times[name]):>10} |")
    return times


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f} µs"


def ratios(d: int, t: dict[str, float]) -> None:
    print(f"\nratios at d = {d} (target in brackets)")
    ours = "gradopt FiniteDifference "
    rows = [
        ("FD forward / hand-written loop", "forward", "hand-written forward loop", 1.15),
        ("FD forward / approx_derivative 2-point", "forward", "2-point", 1.0),
        ("FD central / approx_derivative 3-point", "central", "3-point", 1.0),
        ("FD complex / approx_derivative cs", "complex", "cs", 1.0),
    ]
    for label, method, anchor, target in rows:
        key = anchor if anchor in t else f"scipy approx_derivative {anchor}"
        r = t[ours + method] / t[key]
        flag = "ok" if r <= target else "MISSED"
        print(f"  {label:<40} {r:6.2f}  (<= {target:.2f}) {flag}")
    extra = (t["gradopt Autograd"] - t["plain autograd.value_and_grad"]) * 1e6
    flag = "ok" if extra <= 10 else "MISSED"
    print(f"  {'Autograd - plain autograd':<40} {extra:+6.1f} µs (<= 10 µs) {flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=7, help="repeats (best is kept)")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; numpy {np.__version__}")
    for d in args.dims:
        ratios(d, run(d, args.repeat))


if __name__ == "__main__":
    main()
