"""
JAX against autograd
====================

Both differentiate your numpy-style code exactly, by tracing it. autograd traces every
call in Python, operation by operation, so each gradient costs the Python overhead of
every operation again. JAX traces once per shape of x and compiles the result with XLA;
later calls run the compiled program. :class:`~gradopt.Jax` gives value and gradient
from one compiled call, in float64 whatever JAX's global setting, and Hessian-vector
products for Newton methods.

The same function, written twice: with ``autograd.numpy`` and with ``jax.numpy``.
"""

import time

import autograd.numpy as anp
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from gradopt import Autograd, Jax, minimize


def rosen_with(xp):
    """Rosenbrock written with the array module `xp`."""

    def f(x):
        return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    return f


def best_seconds(provider, x, repeat=7):
    """Best time of value_and_grad, alternating two points so no cache answers."""
    points = [x + 1e-3, x]
    best = np.inf
    for k in range(repeat):
        start = time.perf_counter()
        provider.value_and_grad(points[k % 2])
        best = min(best, time.perf_counter() - start)
    return best


# %%
# The first call, and every call after
# ------------------------------------
# JAX's first call for a shape of x includes tracing and compiling; later calls reuse
# the compiled program. autograd pays its tracing on every call.

dims = [2, 20, 200, 2000]
first, per_call = {"autograd": [], "jax": []}, {"autograd": [], "jax": []}
for d in dims:
    x = np.tile([-1.2, 1.0], d // 2)
    providers = {"autograd": Autograd(rosen_with(anp)), "jax": Jax(rosen_with(jnp))}
    for name, provider in providers.items():
        start = time.perf_counter()
        provider.value_and_grad(x)
        first[name].append(time.perf_counter() - start)
        per_call[name].append(best_seconds(provider, x))
    g_ad, g_jax = (p.grad(x) for p in providers.values())
    assert np.allclose(g_ad, g_jax, rtol=1e-13, atol=1e-10)

print(f"{'d':>6} {'autograd':>12} {'jax':>12} {'jax first call':>16}")
for k, d in enumerate(dims):
    print(
        f"{d:>6} {1e6 * per_call['autograd'][k]:>10.1f}µs {1e6 * per_call['jax'][k]:>10.1f}µs"
        f" {1e3 * first['jax'][k]:>14.1f}ms"
    )

fig, ax = plt.subplots(figsize=(8, 4.4))
for name, color in (("autograd", "tab:orange"), ("jax", "tab:blue")):
    ax.loglog(dims, 1e6 * np.array(per_call[name]), "o-", color=color, label=f"{name}, per call")
ax.loglog(dims, 1e6 * np.array(first["jax"]), "s--", color="tab:blue", label="jax, first call")
ax.set(xlabel="dimension d", ylabel="time of value_and_grad [µs]", title="Rosenbrock")
ax.legend()
ax.grid(alpha=0.3, which="both")
fig.tight_layout()

# %%
# A Newton-type method with Hessian-vector products
# -------------------------------------------------
# Both give ``hessp`` (forward over reverse), so the trust-region Newton-Krylov method
# runs on either; the answers agree, the compiled one is faster per iteration.

x0 = np.tile([-1.2, 1.0], 10)
for name, provider in (("autograd", Autograd(rosen_with(anp))), ("jax", Jax(rosen_with(jnp)))):
    start = time.perf_counter()
    res = minimize(provider, x0, method="trust-krylov")
    print(
        f"{name:>8}: {res.nit} iterations, {res.nhev} Hessian-vector products, "
        f"max |x - 1| = {np.max(np.abs(res.x - 1)):.1e}, {time.perf_counter() - start:.2f} s"
    )

# %%
# Which to choose
# ---------------
# For a function called many times at one size, JAX: after its compile (tens of
# milliseconds here) each gradient costs microseconds. For code that changes shape at
# every call, or Python control flow that depends on values (JAX traces with abstract
# values and refuses ``if x > 0:`` on them), autograd: it follows the Python that runs.

plt.show()
