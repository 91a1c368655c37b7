"""The step-size lesson: a finite-difference step can be neither too big nor too small.

Prints, for forward and central differences of exp at x = 10, the error at a few steps,
the measured and the predicted best step; then what Richardson extrapolation and its
error estimate give, and how check_gradient catches a small mistake. Saves the classic
log-log picture to ``step_size_study.png`` when matplotlib is installed.

Run: ``python examples/step_size_study.py``
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import rosen, rosen_der

from gradopt import FiniteDifference, check_gradient
from gradopt.analysis import step_error
from gradopt.exceptions import BackendUnavailableError


def main() -> None:
    x0, truth = 10.0, np.exp(10.0)
    results = {m: step_error(np.exp, x0, truth, method=m) for m in ("forward", "central")}
    print(f"d/dx exp(x) at x = {x0:g} (true value {truth:.6g}), absolute error by step h:")
    print(f"{'h':>8} " + " ".join(f"{m:>10}" for m in results))
    for h in (1e-15, 1e-12, 1e-9, 1e-8, 1e-6, 1e-5, 1e-3, 1e-1):
        k = int(np.argmin(np.abs(results["forward"].steps - h)))
        print(f"{h:8.0e} " + " ".join(f"{r.errors[k]:10.1e}" for r in results.values()))
    for method, r in results.items():
        print(
            f"{method:>8}: best h measured {r.best_step:.1e} (error {r.best_error:.1e}), "
            f"predicted {r.predicted_best_step:.1e}; plateau f(x+h) == f(x) for "
            f"{int(r.plateau.sum())} of {r.steps.size} steps"
        )

    g, err = FiniteDifference(np.exp, method="richardson").grad_and_error(x0)
    print(f"richardson: error {abs(g - truth):.1e}, its own estimate {err:.1e} (10 calls of f)")

    x = np.tile([-1.2, 1.0], 50)

    def wrong(x: np.ndarray) -> np.ndarray:
        g = rosen_der(x)
        g[37] *= 1 + 1e-5
        return g

    print("check_gradient, correct rosen_der:", check_gradient(rosen, rosen_der, x))
    print("check_gradient, 1e-5 off at index 37:", check_gradient(rosen, wrong, x))

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from gradopt.plotting import plot_step_error
    except (ImportError, BackendUnavailableError):
        print("matplotlib is not installed: no picture (pip install 'gradopt[plot]').")
        return
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    for ax, r in zip(axes, results.values(), strict=True):
        plot_step_error(r, ax=ax)
    fig.tight_layout()
    fig.savefig("step_size_study.png", dpi=80)
    print("saved step_size_study.png")


if __name__ == "__main__":
    main()
