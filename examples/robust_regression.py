"""Robust regression: which points are outliers, how sure are the coefficients?

Fits Brownlee's stack-loss data (21 days of a plant oxidising ammonia; the classic
robust-regression example) by least squares, by a Huber M-estimate and by MM (lmrob's
default), printing the summary tables and the robustness weights. Then a synthetic set
where 30% of the rows sit at one far-away leverage point: least squares and the Huber
M-estimate are dragged there, MM is not. Saves ``robust_weights.png`` (the weights of
each fit) when matplotlib is installed (the ``plot`` extra). Runs in about a second.

Run: ``python examples/robust_regression.py``
"""

from __future__ import annotations

import numpy as np

from gradopt.linear_model import RobustRegressor

# Brownlee (1965), as in R's `stackloss` and statsmodels.datasets.stackloss:
# air flow, cooling water temperature, acid concentration; stack loss.
STACKLOSS = np.array(
    [
        [80, 27, 89, 42], [80, 27, 88, 37], [75, 25, 90, 37], [62, 24, 87, 28],
        [62, 22, 87, 18], [62, 23, 87, 18], [62, 24, 93, 19], [62, 24, 93, 20],
        [58, 23, 87, 15], [58, 18, 80, 14], [58, 18, 89, 14], [58, 17, 88, 13],
        [58, 18, 82, 11], [58, 19, 93, 12], [50, 18, 89, 8], [50, 18, 86, 7],
        [50, 19, 72, 8], [50, 19, 79, 8], [50, 20, 80, 9], [56, 20, 82, 15],
        [70, 20, 91, 15],
    ],
    dtype=float,
)  # fmt: skip
FEATURES = ["air_flow", "water_temp", "acid_conc"]


def stackloss() -> dict[str, RobustRegressor]:
    X, y = STACKLOSS[:, :3], STACKLOSS[:, 3]
    try:
        import pandas as pd

        X = pd.DataFrame(X, columns=FEATURES)  # names in the summary
    except ImportError:
        pass
    fits = {
        "least squares": RobustRegressor(loss="least-squares"),
        "Huber M (MAD scale)": RobustRegressor(),
        "MM (S-start, bisquare)": RobustRegressor(method="MM", random_state=0),
    }
    for name, model in fits.items():
        model.fit(X, y)
        print(f"\n--- stack loss, {name}")
        print(model.summary())
    mm = fits["MM (S-start, bisquare)"]
    print("\nMM weights by day:", " ".join(f"{w:.2f}" for w in mm.weights_))
    print("days flagged as outliers by MM:", (np.flatnonzero(mm.outliers_) + 1).tolist())
    return fits


def leverage() -> tuple[np.ndarray, np.ndarray, dict[str, RobustRegressor]]:
    rng = np.random.default_rng(0)
    n, truth = 400, np.array([1.0, 2.0, -1.0])  # intercept, slopes
    X = rng.normal(size=(n, 2))
    y = truth[0] + X @ truth[1:] + 0.5 * rng.normal(size=n)
    bad = rng.choice(n, size=int(0.3 * n), replace=False)
    X[bad] = [10.0, 10.0]
    y[bad] = -50.0 + rng.normal(size=bad.size)
    fits = {
        "least squares": RobustRegressor(loss="least-squares"),
        "Huber M": RobustRegressor(),
        "MM": RobustRegressor(method="MM", random_state=0),
    }
    print("\n--- 30% of the rows at one far leverage point; truth", truth)
    for name, model in fits.items():
        model.fit(X, y)
        found = np.concatenate([[model.intercept_], model.coef_])
        print(
            f"{name:>14}: {np.array2string(found, precision=3)}  "
            f"max error {np.max(np.abs(found - truth)):.3f}, scale {model.scale_:.3f}"
        )
    return X, y, fits


def plot(stack: dict[str, RobustRegressor], synthetic: dict[str, RobustRegressor]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no picture (pip install 'gradopt[plot]').")
        return
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for name, model in stack.items():
        axes[0].plot(np.arange(1, 22), model.weights_, "o-", label=name)
    axes[0].set(xlabel="day", ylabel="robustness weight", title="stack loss")
    for name, model in synthetic.items():
        axes[1].plot(np.sort(model.weights_), label=name)
    axes[1].set(xlabel="rows, by weight", ylabel="robustness weight",
                title="30% far leverage point")  # fmt: skip
    for ax in axes:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig("robust_weights.png", dpi=80)
    print("saved robust_weights.png")


def main() -> None:
    stack = stackloss()
    _, _, synthetic = leverage()
    plot(stack, synthetic)


if __name__ == "__main__":
    main()
