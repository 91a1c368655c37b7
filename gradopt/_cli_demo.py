"""What ``gradopt demo`` fits and prints: the problem, the contenders, the table."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from gradopt._cli_common import one_line
from gradopt._cli_csv import MAX_CELLS, DataError, read_csv
from gradopt._typing import FloatArray

__all__ = [
    "FD_MAX_FEATURES",
    "Contender",
    "Problem",
    "Row",
    "check_fittable",
    "check_size",
    "contenders",
    "csv_problem",
    "fit_all",
    "render",
    "run_contenders",
    "synthetic_problem",
    "text_table",
]


#: Above this many features the finite-difference contender is skipped (with a note):
#: central differences cost 2·(d + 2) evaluations of the loss per gradient.
FD_MAX_FEATURES = 100
#: A fit faster than this (seconds) is run twice and timed at its better run.
_REPEAT_BELOW = 1.0


@dataclass
class Problem:
    """Data for the demo; `coef`, `intercept` and the `shifted` rows are the truth when
    known."""

    X: FloatArray
    y: FloatArray
    coef: FloatArray | None
    intercept: float | None
    description: str
    shifted: np.ndarray[Any, np.dtype[np.intp]] | None = None


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
    outliers: np.ndarray[Any, np.dtype[np.bool_]] | None = None  # the fit's own flags


@dataclass
class Contender:
    """One fit of the demo: how to run it and how to read its row off the model."""

    name: str
    fit: Callable[[], Any]
    row: Callable[[Any, float], Row]


def check_size(n_samples: int, n_features: int) -> None:
    """Refuse synthetic data larger than the demo's limit, before drawing it."""
    if n_samples * n_features > MAX_CELLS:
        raise DataError(
            f"--n-samples {n_samples} x --n-features {n_features} is more than "
            f"{MAX_CELLS:,} numbers (the demo's limit)"
        )


def synthetic_problem(
    n_samples: int, n_features: int, outlier_fraction: float, seed: int
) -> Problem:
    """``y = X·w + 0.1·noise``, a fraction of targets shifted by ``100·N(0, 1)``."""
    check_size(n_samples, n_features)
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
        np.sort(shifted),
    )


def csv_problem(path: Path, target: str) -> Problem:
    """Read a CSV file with a header row; every column must be numeric."""
    table = read_csv(path, target)
    n, d = table.X.shape
    return Problem(table.X, table.y, None, None, f"{path}: n = {n}, d = {d}")


def check_fittable(problem: Problem, source: str) -> None:
    """Refuse data the comparison cannot mean anything on, before any fit warns."""
    n = problem.y.shape[0]
    if n < 2:
        raise DataError(f"{source} has {n} data row(s): the demo needs at least 2")
    if np.all(problem.y == problem.y[0]):
        raise DataError(
            f"{source}: the target is constant ({problem.y[0]:g} in every row): "
            "there is nothing to fit"
        )


def _timed(fit: Callable[[], Any]) -> tuple[Any, float]:
    """The fitted model and its wall time: the better of two fits when one is quick
    (the first warms caches up), else the one fit (wide or long data: no second run)."""
    start = time.perf_counter()
    model = fit()
    seconds = time.perf_counter() - start
    if seconds < _REPEAT_BELOW:
        start = time.perf_counter()
        model = fit()
        seconds = min(seconds, time.perf_counter() - start)
    return model, seconds


def _gradopt_row(name: str) -> Callable[[Any, float], Row]:
    def row(model: Any, seconds: float) -> Row:
        res = model.optimize_result_
        coef, intercept, scale = model.coef_, model.intercept_, model.scale_
        return Row(name, coef, intercept, scale, seconds, model.n_iter_, res.nfev, res.njev)

    return row


def contenders(
    problem: Problem, epsilon: float, alpha: float, fd_max_features: int
) -> tuple[list[Contender], list[str]]:
    """The fits to run, in the order they are printed, and notes on those left out."""
    from sklearn.linear_model import HuberRegressor as SklearnHuber
    from sklearn.linear_model import LinearRegression

    from gradopt.linear_model import HuberRegressor

    X, y = problem.X, problem.y
    d = X.shape[1]
    fits, notes = [], []
    for gradient in ("analytic", "autograd", "finite-difference"):
        name = f"gradopt {gradient}"
        if gradient == "finite-difference" and d > fd_max_features:
            notes.append(
                f"{name}: skipped: d = {d} features > --fd-max-features {fd_max_features} "
                f"(central differences cost 2·(d + 2) = {2 * (d + 2)} evaluations of the "
                "loss per gradient)"
            )
            continue
        estimator = HuberRegressor(epsilon=epsilon, alpha=alpha, gradient=gradient)
        fits.append(Contender(name, partial(estimator.fit, X, y), _gradopt_row(name)))
    sk = SklearnHuber(epsilon=epsilon, alpha=alpha)
    fits.append(
        Contender(
            "scikit-learn Huber",
            partial(sk.fit, X, y),
            lambda m, t: Row("scikit-learn Huber", m.coef_, m.intercept_, m.scale_, t, m.n_iter_),
        )
    )
    fits.append(
        Contender(
            "least squares (OLS)",
            partial(LinearRegression().fit, X, y),
            lambda m, t: Row("least squares (OLS)", m.coef_, float(m.intercept_), None, t),
        )
    )
    return fits, notes


def fit_all(
    problem: Problem,
    epsilon: float,
    alpha: float,
    fd_max_features: int = FD_MAX_FEATURES,
    iterate: Callable[[list[Contender]], Iterable[Contender]] = iter,
) -> tuple[list[Row], list[str]]:
    """Fit every contender: the rows in the order they are printed, and notes (fits
    skipped or failed, and the warnings each fit gave, one line each). `iterate` wraps
    the list of fits (a progress bar)."""
    fits, notes = contenders(problem, epsilon, alpha, fd_max_features)
    return run_contenders(fits, notes, iterate)


def run_contenders(
    fits: list[Contender],
    notes: list[str],
    iterate: Callable[[list[Contender]], Iterable[Contender]] = iter,
) -> tuple[list[Row], list[str]]:
    """Fit each contender in turn, timed, its warnings and failures made notes."""
    rows = []
    for contender in iterate(fits):
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
            warnings.simplefilter("always")
            try:
                model, seconds = _timed(contender.fit)
            except Exception as exc:  # e.g. scikit-learn #27777: its line search fails
                notes.append(f"{contender.name}: failed: {one_line(exc)}")
                continue
            finally:
                seen = dict.fromkeys(
                    f"{w.category.__name__}: {one_line(w.message)}" for w in caught
                )
                notes.extend(f"{contender.name}: {text}" for text in seen)
        rows.append(contender.row(model, seconds))
    return rows, notes


def _objective(problem: Problem, row: Row, epsilon: float, alpha: float) -> float:
    """scikit-learn's Huber objective at the row's fit (sigma optimised when it has none)."""
    from scipy.optimize import minimize_scalar

    from gradopt.linear_model import huber_loss_and_gradient

    def at(sigma: float) -> float:
        params = np.concatenate([row.coef, [row.intercept, sigma]])
        return huber_loss_and_gradient(params, problem.X, problem.y, epsilon, alpha)[0]

    with np.errstate(all="ignore"):  # a non-finite objective shows as inf or nan
        if row.scale is not None:
            return at(row.scale)
        best = minimize_scalar(lambda s: at(float(np.exp(s))), bracket=(-5.0, 5.0))
    return float(best.fun)


def render(
    problem: Problem, rows: list[Row], epsilon: float, alpha: float, notes: Sequence[str] = ()
) -> str:
    """The comparison table as text, with the notes below it."""
    with np.errstate(all="ignore"):  # a failed fit's nan shows as nan
        return _render(problem, rows, epsilon, alpha, notes)


def _render(
    problem: Problem, rows: list[Row], epsilon: float, alpha: float, notes: Sequence[str]
) -> str:
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
    preamble = [
        problem.description,
        f"objective: scikit-learn's Huber loss (epsilon = {epsilon}, alpha = {alpha}; "
        "OLS at its best sigma), lower is better",
        "coef error: ||coef - truth|| / ||truth||;  "
        "vs sklearn: max |coef - sklearn's| / max |sklearn's|;  "
        f"time: the better of two fits when one takes under {_REPEAT_BELOW:g} s",
    ]
    return text_table(preamble, header, lines, notes)


def text_table(
    preamble: Sequence[str],
    header: Sequence[str],
    lines: Sequence[Sequence[str]],
    notes: Sequence[str] = (),
) -> str:
    """Lines of text above a table (first column left-aligned, the others right) and the
    notes below it: how every demo mode prints."""
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]

    def fmt(cells: Sequence[str]) -> str:
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([cells[0].ljust(widths[0]), *rest])

    out = [
        *preamble,
        fmt(header),
        fmt(["-" * w for w in widths]),
        *(fmt(line) for line in lines),
    ]
    if notes:
        out += ["notes:", *(f"  {note}" for note in notes)]
    return "\n".join(out)
