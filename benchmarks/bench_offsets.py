"""HuberRegressor on data with an offset in X: warnings and the distance to the optimum.

Random problems (n in {50, 200, 1000}, d in {2, 5, 10}, columns scaled by 0.1-10, 10% of
y shifted by 50·N(0, 1)) get an offset in X: every column shifted by the offset (a
third of them), by a random share of it (a third), or not at all. Each is fitted with
the default settings and, as a reference, with tol = 1e-9 by L-BFGS-B and BFGS; the
objective is evaluated in extended precision (np.longdouble) on centred data, so that
the comparison is not blurred by rounding. The table gives, per offset and gradient, how
many fits gave a ConvergenceWarning and how far the default fit is from the best of the
three (relative objective: the largest, and the 90th percentile).

Issue 14: with an offset of 1e6 in X, 6 of 60 default fits warned at the optimum;
none should, and none should be short of it.

Run from the repository root (``--root /path/to/other/checkout`` measures another copy
of gradopt, e.g. before a change)::

    python benchmarks/bench_offsets.py
    python benchmarks/bench_offsets.py --gradients analytic,autograd,finite-difference
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np


def objective(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    """scikit-learn's objective at the fit, in np.longdouble on centred data."""
    L = np.longdouble
    Xl, yl = X.astype(L), y.astype(L)
    mx, my = Xl.mean(axis=0), yl.mean()
    coef = model.coef_.astype(L)
    r = (yl - my) - (Xl - mx) @ coef - (L(model.intercept_) + mx @ coef - my)
    s, eps = L(model.scale_), L(model.epsilon)
    h = np.where(np.abs(r) <= eps * s, r * r / s, 2 * eps * np.abs(r) - eps * eps * s)
    return float(len(y) * s + h.sum() + L(model.alpha) * (coef @ coef))


def problem(seed: int, offset: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, d = int(rng.choice([50, 200, 1000])), int(rng.choice([2, 5, 10]))
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10, size=d)
    X += offset * (seed % 3 == 0) + rng.uniform(-offset, offset, size=d) * (seed % 3 == 1)
    y = X @ rng.normal(size=d) + rng.normal(size=n)
    y[: n // 10] += 50 * rng.normal(size=n // 10)
    return X, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offsets", default="0,1e4,1e6,1e8")
    parser.add_argument("--problems", type=int, default=60)
    parser.add_argument("--gradients", default="analytic")
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[1]))
    args = parser.parse_args()
    sys.path.insert(0, args.root)
    from sklearn.exceptions import ConvergenceWarning

    from gradopt.linear_model import HuberRegressor

    print(f"load average before: {os.getloadavg()}; gradopt from {args.root}")
    print("| offset | gradient | warnings | largest gap to the best | 90th percentile |")
    print("|---|---|---|---|---|")
    for offset in (float(o) for o in args.offsets.split(",")):
        for gradient in args.gradients.split(","):
            warned, gaps = 0, []
            for seed in range(args.problems):
                X, y = problem(seed, offset)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    model = HuberRegressor(gradient=gradient).fit(X, y)
                warned += any(w.category is ConvergenceWarning for w in caught)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tight = [
                        HuberRegressor(solver=s, tol=1e-9, max_iter=5000).fit(X, y)
                        for s in ("lbfgs", "BFGS")
                    ]
                f = objective(model, X, y)
                best = min([f] + [objective(m, X, y) for m in tight])
                gaps.append((f - best) / abs(best))
            print(
                f"| {offset:g} | {gradient} | {warned} / {args.problems} | "
                f"{max(gaps):.1e} | {np.quantile(gaps, 0.9):.1e} |",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
