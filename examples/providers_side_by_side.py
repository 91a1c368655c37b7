"""Every gradient provider on the Rosenbrock function, side by side.

Prints, for d = 10 and 100, each provider's largest relative error against the exact
gradient (``scipy.optimize.rosen_der``), the calls of f it made and its time (the first
call: JAX's includes compiling). The automatic-differentiation providers get Rosenbrock
written with their own numpy (``scipy.optimize.rosen`` calls ``np.asarray`` on its
argument, which autograd can only trace element by element, 100 times slower).

Run: ``python examples/providers_side_by_side.py``
"""

from __future__ import annotations

import importlib.util
import time
from typing import Any

import autograd.numpy as anp
import numpy as np
from scipy.optimize import rosen, rosen_der

from gradopt import Analytic, Autograd, FiniteDifference, Jax


def rosen_with(xp: Any) -> Any:
    """Rosenbrock written with the array module `xp` (autograd.numpy, jax.numpy)."""

    def f(x: Any) -> Any:
        return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    return f


def main() -> None:
    print(f"{'d':>5} {'provider':<22} {'max rel. error':>15} {'calls of f':>11} {'time':>10}")
    for d in (10, 100):
        x = np.tile([-1.2, 1.0], d // 2)
        truth = rosen_der(x)
        providers = {
            "analytic": Analytic(rosen, rosen_der),
            "forward difference": FiniteDifference(rosen, method="forward"),
            "central difference": FiniteDifference(rosen, method="central"),
            "complex step": FiniteDifference(rosen, method="complex"),
            "autograd": Autograd(rosen_with(anp)),
        }
        if importlib.util.find_spec("jax") is not None:  # the `jax` extra
            import jax.numpy as jnp

            providers["jax"] = Jax(rosen_with(jnp))
        for name, provider in providers.items():
            start = time.perf_counter()
            _, g = provider.value_and_grad(x)
            elapsed = time.perf_counter() - start
            error = np.max(np.abs(g - truth) / np.abs(truth))
            print(
                f"{d:>5} {name:<22} {error:>15.1e} {provider.nfev:>11d} {elapsed * 1e3:>8.2f} ms"
            )


if __name__ == "__main__":
    main()
