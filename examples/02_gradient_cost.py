"""
The cost of a gradient
======================

Every gradient provider answers ``value_and_grad(x)``; what differs is what it costs.
A finite difference calls f once per coordinate (forward, complex step) or twice
(central), Richardson ten times; automatic differentiation traces *one* call of f and
walks the trace backwards, whatever the dimension (JAX compiles that trace once per shape
of x, so each later call runs compiled code); a hand-written or symbolic gradient costs
what its formula costs. Here is the count of calls of f and the time, against the
dimension d, for the Rosenbrock function.
"""

import itertools
import time

import autograd.numpy as anp
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import rosen, rosen_der

from gradopt import Analytic, Autograd, FiniteDifference, Jax, Symbolic


def rosen_with(xp):
    """Rosenbrock written with the array module `xp` (autograd.numpy, jax.numpy): scipy's
    rosen converts x with np.asarray, which automatic differentiation cannot trace."""

    def f(x):
        return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    return f


def rosen_symbolic(d):
    """Rosenbrock as a formula in x0 .. x{d-1}, for Symbolic (sympy compiles it once)."""
    names = [f"x{i}" for i in range(d)]
    terms = [f"100*({b} - {a}**2)**2 + (1 - {a})**2" for a, b in itertools.pairwise(names)]
    return Symbolic(" + ".join(terms), names)


PROVIDERS = {
    "analytic (rosen_der)": lambda d: Analytic(rosen, rosen_der),
    "forward difference": lambda d: FiniteDifference(rosen, method="forward"),
    "central difference": lambda d: FiniteDifference(rosen, method="central"),
    "complex step": lambda d: FiniteDifference(rosen, method="complex"),
    "richardson": lambda d: FiniteDifference(rosen, method="richardson"),
    "autograd": lambda d: Autograd(rosen_with(anp)),
    "jax (compiled)": lambda d: Jax(rosen_with(jnp)),
    "symbolic (sympy)": rosen_symbolic,
}
DIMS = [2, 4, 16, 64, 256]
SYMBOLIC_MAX_D = 16  # compiling the formula grows with d; the evaluation does not


def seconds_per_gradient(provider, x, repeat=5):
    """Best time of value_and_grad, alternating two points so the cache never answers."""
    points = [x + 1e-3, x]  # x itself was the last point: start elsewhere
    best = np.inf
    for k in range(repeat):
        start = time.perf_counter()
        provider.value_and_grad(points[k % 2])
        best = min(best, time.perf_counter() - start)
    return best


calls = {name: [] for name in PROVIDERS}
seconds = {name: [] for name in PROVIDERS}
for d in DIMS:
    x = np.tile([-1.2, 1.0], d // 2)
    for name, make in PROVIDERS.items():
        if name.startswith("symbolic") and d > SYMBOLIC_MAX_D:
            continue
        provider = make(d)
        value, grad = provider.value_and_grad(x)
        assert np.allclose(grad, rosen_der(x), rtol=1e-5, atol=1e-6), name
        calls[name].append((d, provider.nfev))
        seconds[name].append((d, seconds_per_gradient(provider, x)))

# %%
# Calls of f for one value and gradient
# -------------------------------------
# ``nfev`` counts every call of the user's function, including those a finite difference
# makes (as scipy counts). Forward differences cost d + 1, central 2d + 1, the complex
# step d + 1, Richardson 10d + 1; autograd, JAX, the analytic and the symbolic gradient
# one.

print(f"{'provider':<22}" + "".join(f"{f'd = {d}':>9}" for d in DIMS))
for name, row in calls.items():
    counts = dict(row)
    print(f"{name:<22}" + "".join(f"{counts.get(d, '-'):>9}" for d in DIMS))

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4))
for name in PROVIDERS:
    d, n = np.array(calls[name]).T
    left.loglog(d, n, "o-", ms=4, label=name)
    d, t = np.array(seconds[name]).T
    right.loglog(d, 1e6 * t, "o-", ms=4, label=name)
left.set(xlabel="dimension d", ylabel="calls of f per value and gradient")
right.set(xlabel="dimension d", ylabel="time per value and gradient [µs]")
left.legend(fontsize="small")
for ax in (left, right):
    ax.grid(alpha=0.3, which="both")
fig.tight_layout()

# %%
# Time
# ----
# The finite differences grow linearly with d, since each call of f costs about the same;
# autograd's one traced call is slower than one plain call of f (it records every
# operation), so below a few dimensions a finite difference is as fast, and beyond it
# autograd wins by orders of magnitude. JAX's compiled call is faster still (its first
# call for a shape, not timed here, compiles: see :ref:`JAX against autograd
# <sphx_glr_auto_examples_07_jax_vs_autograd.py>`). The analytic gradient is the fastest
# of all: when you have it, use it (and check it, see :ref:`the derivative-checking
# example <sphx_glr_auto_examples_08_derivative_checking.py>`).

d_last = DIMS[-1]
for name in PROVIDERS:
    times = dict(seconds[name])
    if d_last in times:
        print(f"{name:<22} d = {d_last}: {1e6 * times[d_last]:9.1f} µs")

plt.show()
