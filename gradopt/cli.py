"""The ``gradopt`` command: ``gradopt demo`` fits robust regression every way and compares.

``gradopt demo`` builds the classic robust-regression problem (or reads a CSV file), fits
gradopt's :class:`~gradopt.linear_model.HuberRegressor` with each gradient provider,
scikit-learn's HuberRegressor and ordinary least squares, and prints one table.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from gradopt._typing import FloatArray

__all__ = ["main"]


class DemoInputError(Exception):
    """A problem with the demo's input, reported as one line on stderr."""


@dataclass
class Problem:
    """Data for the demo; `coef` and `intercept` are the truth when known."""

    X: FloatArray
    y: FloatArray
    coef: FloatArray | None
    intercept: float | None
    description: str


@dataclass
class Row:
    name: str
    coef: FloatArray
    intercept: float
    scale: float | None
    seconds: float
    nit: int | None = None
    nfev: int | None = None
    ngev: int | None = None


def synthetic_problem(
    n_samples: int, n_features: int, outlier_fraction: float, seed: int
) -> Problem:
    """``y = X·w + 0.1·noise``, a fraction of targets shifted by ``100·N(0, 1)``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    coef = rng.normal(size=n_features)
    y = X @ coef + 0.1 * rng.normal(size=n_samples)
    n_out = round(outlier_fraction * n_samples)
    shifted = rng.choice(n_samples, size=n_out, replace=False)
    y[shifted] += 100.0 * rng.normal(size=n_out)
    return Problem(
        X,
        y,
        coef,
        0.0,
        f"synthetic: n = {n_samples}, d = {n_features}, {n_out} targets shifted by 100·N(0,1)",
    )


def csv_problem(path: Path, target: str) -> Problem:
    """Read a CSV file with a header row; every column must be numeric."""
    try:
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
    except OSError as exc:
        raise DemoInputError(f"cannot read --data {str(path)!r}: {exc.strerror}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DemoInputError(f"--data {str(path)!r} is not a readable CSV file: {exc}") from exc
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise DemoInputError(f"--data {str(path)!r} needs a header row and at least one data row")
    header = [name.strip() for name in rows[0]]
    if target not in header:
        raise DemoInputError(
            f"--target {target!r} is not a column of {str(path)!r}; columns: {', '.join(header)}"
        )
    values = np.empty((len(rows) - 1, len(header)))
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DemoInputError(f"{path}: line {i} has {len(row)} fields, expected {len(header)}")
        for j, cell in enumerate(row):
            try:
                values[i - 2, j] = float(cell)
            except ValueError:
                raise DemoInputError(
                    f"{path}: line {i}, column {header[j]!r}: {cell!r} is not a number"
                ) from None
    if not np.all(np.isfinite(values)):
        raise DemoInputError(f"{path}: the data hold NaN or infinite values")
    t = header.index(target)
    X = np.delete(values, t, axis=1)
    if X.shape[1] == 0:
        raise DemoInputError(f"{path}: no feature columns besides the target {target!r}")
    return Problem(X, values[:, t], None, None, f"{path}: n = {X.shape[0]}, d = {X.shape[1]}")


def _timed(fit: Callable[[], Any]) -> tuple[Any, float]:
    """The fitted model and the better wall time of two fits (the first one warms up)."""
    best, model = np.inf, None
    for _ in range(2):
        start = time.perf_counter()
        model = fit()
        best = min(best, time.perf_counter() - start)
    return model, best


def fit_all(problem: Problem, epsilon: float, alpha: float) -> list[Row]:
    """Fit every contender; rows in the order they are printed."""
    from sklearn.linear_model import HuberRegressor as SklearnHuber
    from sklearn.linear_model import LinearRegression

    from gradopt.linear_model import HuberRegressor

    rows = []
    for gradient in ("analytic", "autograd", "finite-difference"):
        estimator = HuberRegressor(epsilon=epsilon, alpha=alpha, gradient=gradient)
        model, seconds = _timed(partial(estimator.fit, problem.X, problem.y))
        res = model.optimize_result_
        rows.append(
            Row(
                f"gradopt {gradient}",
                model.coef_,
                model.intercept_,
                model.scale_,
                seconds,
                model.n_iter_,
                res.nfev,
                res.njev,
            )
        )
    try:
        sk, seconds = _timed(
            lambda: SklearnHuber(epsilon=epsilon, alpha=alpha).fit(problem.X, problem.y)
        )
    except ValueError as exc:  # e.g. its L-BFGS-B line search failing (scikit-learn #27777)
        print(f"gradopt demo: scikit-learn's HuberRegressor failed: {exc}", file=sys.stderr)
    else:
        rows.append(
            Row("scikit-learn Huber", sk.coef_, sk.intercept_, sk.scale_, seconds, sk.n_iter_)
        )
    ols, seconds = _timed(lambda: LinearRegression().fit(problem.X, problem.y))
    rows.append(Row("least squares (OLS)", ols.coef_, float(ols.intercept_), None, seconds))
    return rows


def _objective(problem: Problem, row: Row, epsilon: float, alpha: float) -> float:
    """scikit-learn's Huber objective at the row's fit (sigma optimised when it has none)."""
    from scipy.optimize import minimize_scalar

    from gradopt.linear_model import huber_loss_and_gradient

    def at(sigma: float) -> float:
        params = np.concatenate([row.coef, [row.intercept, sigma]])
        return huber_loss_and_gradient(params, problem.X, problem.y, epsilon, alpha)[0]

    if row.scale is not None:
        return at(row.scale)
    best = minimize_scalar(lambda s: at(float(np.exp(s))), bracket=(-5.0, 5.0))
    return float(best.fun)


def render(problem: Problem, rows: list[Row], epsilon: float, alpha: float) -> str:
    """The comparison table as text."""
    reference = next((r for r in rows if r.name == "scikit-learn Huber"), None)
    header = [
        "method",
        "coef error",
        "objective",
        "nit",
        "nfev",
        "ngev",
        "time [ms]",
        "vs sklearn",
    ]
    lines = []
    for row in rows:
        if problem.coef is not None:
            error = f"{np.linalg.norm(row.coef - problem.coef) / np.linalg.norm(problem.coef):.2e}"
        else:
            error = "n/a"
        if reference is None:
            agreement = "n/a"
        elif row is reference:
            agreement = "reference"
        else:
            gap = np.max(np.abs(row.coef - reference.coef)) / max(
                np.max(np.abs(reference.coef)), 1e-300
            )
            agreement = f"{gap:.1e}"
        lines.append(
            [
                row.name,
                error,
                f"{_objective(problem, row, epsilon, alpha):.12g}",
                "-" if row.nit is None else str(row.nit),
                "-" if row.nfev is None else str(row.nfev),
                "-" if row.ngev is None else str(row.ngev),
                f"{1e3 * row.seconds:.1f}",
                agreement,
            ]
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]

    def fmt(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join(
            [first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))]
        )

    out = [
        problem.description,
        f"objective: scikit-learn's Huber loss (epsilon = {epsilon}, alpha = {alpha}; "
        "OLS at its best sigma), lower is better",
        "coef error: ||coef - truth|| / ||truth||;  "
        "vs sklearn: max |coef - sklearn's| / max |sklearn's|",
        fmt(header),
        fmt(["-" * w for w in widths]),
        *(fmt(line) for line in lines),
    ]
    return "\n".join(out)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradopt",
        description="gradopt: optimize code that computes f, with gradients from anywhere.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="robust regression: gradopt's HuberRegressor with every gradient provider, "
        "scikit-learn's and least squares, in one table",
    )
    demo.add_argument("--n-samples", type=_positive_int, default=1000, help="default: 1000")
    demo.add_argument("--n-features", type=_positive_int, default=10, help="default: 10")
    demo.add_argument(
        "--outlier-fraction",
        type=_fraction,
        default=0.05,
        help="share of targets shifted by 100*N(0,1) (default: 0.05)",
    )
    demo.add_argument("--seed", type=_seed, default=0, help="random seed (default: 0)")
    demo.add_argument("--data", type=Path, help="a CSV file with a header row, all numeric")
    demo.add_argument("--target", help="the CSV column to predict (with --data)")
    demo.add_argument("--epsilon", type=float, default=1.35, help="Huber threshold (1.35)")
    demo.add_argument("--alpha", type=float, default=1e-4, help="L2 penalty (1e-4)")
    return parser


def _demo(args: argparse.Namespace) -> str:
    if (args.data is None) != (args.target is None):
        raise DemoInputError("--data and --target go together")
    if not (math.isfinite(args.epsilon) and args.epsilon >= 1.0):
        raise DemoInputError(f"--epsilon must be a finite number >= 1, got {args.epsilon}")
    if not (math.isfinite(args.alpha) and args.alpha >= 0.0):
        raise DemoInputError(f"--alpha must be a finite number >= 0, got {args.alpha}")
    if args.data is not None:
        problem = csv_problem(args.data, args.target)
    else:
        problem = synthetic_problem(
            args.n_samples, args.n_features, args.outlier_fraction, args.seed
        )
    rows = fit_all(problem, args.epsilon, args.alpha)
    return render(problem, rows, args.epsilon, args.alpha)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``gradopt`` command with `argv` (default: ``sys.argv[1:]``); return its status.

    Examples
    --------
    >>> main(["demo", "--n-samples", "200", "--n-features", "3"])  # doctest: +ELLIPSIS
    synthetic: n = 200, d = 3, 10 targets shifted by 100·N(0,1)
    ...
    gradopt analytic ...
    0
    """
    args = _parser().parse_args(argv)
    try:
        print(_demo(args))
    except DemoInputError as exc:
        print(f"gradopt {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0
