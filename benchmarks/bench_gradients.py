"""Gradient time and error of gradopt's providers against the usual alternatives.

On the Rosenbrock function at d = 100 and 1000, side by side in one process: a
hand-written forward-difference loop, ``scipy.optimize.approx_fprime``, scipy's
``approx_derivative`` ('2-point', '3-point', 'cs'), plain ``autograd.value_and_grad``, and
gradopt's ``FiniteDifference`` (forward, central, complex) and ``Autograd``.

Then (issue 11) gradopt's ``Jax`` against plain ``jax.jit(jax.value_and_grad(f))`` (the
value and gradient brought back to NumPy, in float64: with x64 on, and with x64 off and
the scoped ``jax.enable_x64`` switch around each call) and against ``Autograd``; and the
bookkeeping of ``BaseProvider``: ``Analytic`` around functions that do nothing, against
calling those functions bare (``--before REV`` adds the Analytic of a git revision, loaded
side by side, e.g. ``--before ac39750`` for the code before issue 11).

Each method is timed timeit-style (``number`` calls per repeat, best repeat reported),
the methods taking turns within each repeat so that machine load hits them alike. Calls
alternate between two points, so a provider's cache of the last point never answers
(every call is a cache miss, as in an optimizer). The error is the largest componentwise
relative error against ``scipy.optimize.rosen_der`` at the classic start point.

Run: ``python benchmarks/bench_gradients.py`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
from scipy.optimize import approx_fprime, rosen, rosen_der
from scipy.optimize._numdiff import approx_derivative

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's gradopt

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
    funcs: dict[str, Callable[[np.ndarray], Any]],
    points: list[np.ndarray],
    repeat: int,
    contexts: dict[str, Callable[[], Any]] | None = None,
) -> dict[str, float]:
    """Best time per call of each function, taking turns within each repeat.

    ``contexts[name]``, if given, makes a context manager entered around each batch of
    that function's calls (e.g. ``jax.enable_x64``).
    """
    contexts = contexts or {}
    number = {}
    for name, fn in funcs.items():  # calibrate: about 20 ms per repeat, at least 2 calls
        with contexts.get(name, contextlib.nullcontext)():
            fn(points[0])  # warm up (JAX compiles here)
            start = time.perf_counter()
            fn(points[1])
            fn(points[0])
            per_call = (time.perf_counter() - start) / 2
        # An even number, so each repeat ends on points[1] and the next starts on
        # points[0]: with an odd one, the first call of a repeat would be a cache hit.
        number[name] = 2 * max(1, int(0.01 / max(per_call, 1e-7)))
    best = dict.fromkeys(funcs, float("inf"))
    for _ in range(repeat):
        for name, fn in funcs.items():
            n = number[name]
            with contexts.get(name, contextlib.nullcontext)():
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


def _flag(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def run_jax(d: int, repeat: int) -> None:
    """Jax against plain jax.jit(jax.value_and_grad(f)) and against Autograd."""
    import jax
    import jax.numpy as jnp

    from gradopt import Jax

    def rosen_jnp(x: Any) -> Any:
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    plain = jax.jit(jax.value_and_grad(rosen_jnp))

    def plain_to_numpy(x: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = plain(x)  # what an optimizer needs: numbers on the host
        return float(f), np.asarray(g)

    def plain_scoped(x: np.ndarray) -> tuple[float, np.ndarray]:
        with jax.enable_x64(True):
            return plain_to_numpy(x)

    provider, ad = Jax(rosen_jnp), Autograd(rosen_ag)
    funcs = {
        "plain jax.jit(value_and_grad), x64 on": plain_to_numpy,
        "gradopt Jax, x64 on": provider.value_and_grad,
        "plain jax.jit, enable_x64 per call": plain_scoped,
        "gradopt Jax, x64 off (scoped switch)": provider.value_and_grad,
        "gradopt Autograd": ad.value_and_grad,
    }
    x64 = {name: (lambda: jax.enable_x64(True)) for name in funcs if "x64 on" in name}
    x0 = np.tile([-1.2, 1.0], d // 2)
    x1 = x0 + np.random.default_rng(0).uniform(-1e-3, 1e-3, d)
    truth = rosen_der(x0)
    with jax.enable_x64(True):
        errors = {
            n: float(np.max(np.abs(gradient_of(fn(x0)) - truth) / np.abs(truth)))
            for n, fn in funcs.items()
        }
    t = best_times(funcs, [x0, x1], repeat, x64)
    print(f"\nrosen, d = {d}: JAX {jax.__version__} on {jax.devices()[0].platform}")
    print(f"| {'method':<38} | {'max rel. error':>14} | {'time':>10} |")
    print(f"|{'-' * 40}|{'-' * 16}|{'-' * 12}|")
    for name in funcs:
        print(f"| {name:<38} | {errors[name]:>14.1e} | {_fmt(t[name]):>10} |")
    on = (t["gradopt Jax, x64 on"] - t["plain jax.jit(value_and_grad), x64 on"]) * 1e6
    off = t["gradopt Jax, x64 off (scoped switch)"] - t["plain jax.jit, enable_x64 per call"]
    speedup = t["gradopt Autograd"] / t["gradopt Jax, x64 off (scoped switch)"]
    print(f"  Jax - plain, x64 on: {on:+.1f} µs (<= 3 µs) {_flag(on <= 3)}")
    print(f"  Jax - plain, x64 off: {off * 1e6:+.1f} µs (<= 3 µs) {_flag(off * 1e6 <= 3)}")
    target = 5.0 if d == 100 else 1.0
    print(f"  Autograd / Jax: {speedup:.1f}x (>= {target:g}x) {_flag(speedup >= target)}")


def _gradopt_at(rev: str) -> Any:
    """gradopt as of git revision `rev`, importable beside this one (as gradopt_<rev>)."""
    import atexit
    import importlib
    import io
    import shutil
    import subprocess
    import tarfile
    import tempfile

    root = Path(__file__).resolve().parents[1]
    name = f"gradopt_{rev}"
    where = Path(tempfile.mkdtemp(prefix="gradopt-before-"))
    atexit.register(shutil.rmtree, where, ignore_errors=True)
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", rev, "gradopt"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(where, filter="data")
    (where / "gradopt").rename(where / name)
    for source in (where / name).rglob("*.py"):  # its imports of itself, renamed
        text = source.read_text()
        for old, new in (
            ("from gradopt.", f"from {name}."),
            ("from gradopt import", f"from {name} import"),
            ("import gradopt\n", f"import {name}\n"),
            ('"gradopt.', f'"{name}.'),
        ):
            text = text.replace(old, new)
        source.write_text(text)
    sys.path.insert(0, str(where))
    return importlib.import_module(name)


def run_bookkeeping(d: int, repeat: int, before: str | None = None) -> None:
    """BaseProvider's cost: Analytic around functions that do nothing, against them bare
    (and against the Analytic of git revision `before`, when given)."""
    import gradopt

    zeros = np.zeros(d)

    def nothing(x: np.ndarray) -> float:
        return 0.0

    def nothing_grad(x: np.ndarray) -> np.ndarray:
        return zeros

    def nothing_both(x: np.ndarray) -> tuple[float, np.ndarray]:
        return 0.0, zeros

    versions = {"": gradopt} if before is None else {"": gradopt, before: _gradopt_at(before)}
    funcs: dict[str, Callable[[np.ndarray], Any]] = {
        "bare value_and_grad": nothing_both,
        "bare grad": nothing_grad,
        "bare f": nothing,
    }
    hits = {}
    for label, module in versions.items():
        fused = module.Analytic(nothing, value_and_grad=nothing_both)
        separate = module.Analytic(nothing, nothing_grad)
        funcs[f"Analytic{label} value_and_grad"] = fused.value_and_grad
        funcs[f"Analytic{label} grad"] = separate.grad
        funcs[f"Analytic{label} value"] = separate.value
        hits[label] = module.Analytic(nothing, value_and_grad=nothing_both).value_and_grad
    x0 = np.linspace(-1.0, 1.0, d)
    t = best_times(funcs, [x0, x0 + 1e-3], repeat)
    hit = best_times(hits, [x0, x0], repeat)
    print(f"\nprovider bookkeeping, d = {d} (every call a new point)")
    for what in ("value_and_grad", "grad", "value"):
        bare = t["bare f" if what == "value" else f"bare {what}"]
        extra = (t[f"Analytic {what}"] - bare) * 1e6
        bound = f"(<= 2 µs) {_flag(extra <= 2)}" if what == "value_and_grad" and d == 100 else ""
        row = f"  {what:<15} {_fmt(bare):>9} bare, +{extra:.2f} µs in a provider {bound}"
        if before is not None:
            row += f"; at {before}: +{(t[f'Analytic{before} {what}'] - bare) * 1e6:.2f} µs"
        print(row)
    print("  cache hit       " + ", ".join(f"{k or 'now'}: {_fmt(v)}" for k, v in hit.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=7, help="repeats (best is kept)")
    parser.add_argument(
        "--only", choices=["providers", "jax", "bookkeeping"], help="run one part only"
    )
    parser.add_argument(
        "--before", metavar="REV", help="also time the bookkeeping of git revision REV"
    )
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; numpy {np.__version__}")
    for d in args.dims:
        if args.only in (None, "providers"):
            ratios(d, run(d, args.repeat))
        if args.only in (None, "jax"):
            if importlib.util.find_spec("jax") is None:
                print("\n(jax is not installed: pip install '.[jax]' for the JAX rows)")
            else:
                run_jax(d, args.repeat)
        if args.only in (None, "bookkeeping"):
            run_bookkeeping(d, args.repeat, args.before)
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
