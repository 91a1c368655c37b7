"""Every gradient provider on the Rosenbrock function, side by side.

Prints, for d = 10 and 100, each provider's largest relative error against the exact
gradient (``scipy.optimize.rosen_der``), the calls of f it made and its time.

Run: ``python examples/providers_side_by_side.py``
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import rosen, rosen_der

from gradopt import Analytic, Autograd, FiniteDifference


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
            "autograd": Autograd(rosen),
        }
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
