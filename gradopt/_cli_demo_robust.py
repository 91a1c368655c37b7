"""``gradopt demo --mode robust``: the robust family against bad leverage points.

The synthetic problem of the Huber demo, with its shifted rows also moved to one far
leverage point (``x = 10`` in every feature, ``y = -50``): least squares and the
M-estimates (Huber, bisquare from a Huber start) are pulled towards it, MM (an
S-estimate first, 50% breakdown) is not. Fitted by
:class:`~gradopt.linear_model.RobustRegressor` with each method and by scikit-learn's
``HuberRegressor``; a CSV file gets the same fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from gradopt._cli_demo import Contender, Problem, Row, synthetic_problem, text_table

__all__ = ["contenders", "leverage_problem", "render"]

LEVERAGE_X = 10.0
LEVERAGE_Y = -50.0


def leverage_problem(
    n_samples: int, n_features: int, outlier_fraction: float, seed: int
) -> Problem:
    """The Huber demo's problem, its shifted rows moved to one far leverage point."""
    problem = synthetic_problem(n_samples, n_features, outlier_fraction, seed)
    bad = problem.shifted if problem.shifted is not None else np.array([], dtype=np.intp)
    rng = np.random.default_rng(seed + 1)
    problem.X[bad] = LEVERAGE_X
    problem.y[bad] = LEVERAGE_Y + rng.normal(size=bad.size)
    problem.description = (
        f"synthetic: n = {n_samples}, d = {n_features}, {bad.size} rows moved to a far "
        f"leverage point (x = {LEVERAGE_X:g} in every feature, y = {LEVERAGE_Y:g} + noise)"
    )
    return problem


def _row(name: str, model: Any, seconds: float) -> Row:
    flagged = getattr(model, "outliers_", None)
    return Row(
        name,
        model.coef_,
        float(model.intercept_),
        float(model.scale_),
        seconds,
        model.n_iter_,
        outliers=None if flagged is None else np.asarray(flagged, dtype=bool),
    )


def contenders(problem: Problem, seed: int) -> tuple[list[Contender], list[str]]:
    """The fits of the robust demo, in the order they are printed."""
    from sklearn.linear_model import HuberRegressor as SklearnHuber

    from gradopt.linear_model import RobustRegressor

    models = {
        "least squares": RobustRegressor(loss="least-squares"),
        "Huber M (MAD scale)": RobustRegressor(),
        "bisquare M": RobustRegressor(loss="bisquare"),
        "MM (S start, bisquare)": RobustRegressor(method="MM", random_state=seed),
        "scikit-learn Huber": SklearnHuber(),
    }
    fits = [
        Contender(name, partial(model.fit, problem.X, problem.y), partial(_row, name))
        for name, model in models.items()
    ]
    return fits, []


def render(problem: Problem, rows: list[Row], notes: Sequence[str] = ()) -> str:
    """The robust demo's table as text, with the notes below it."""
    header = ["method", "coef error", "scale", "flagged", "planted flagged", "nit", "time [ms]"]
    lines = []
    planted = problem.shifted
    for row in rows:
        if problem.coef is not None:
            gap = np.linalg.norm(row.coef - problem.coef) / np.linalg.norm(problem.coef)
            error = f"{gap:.2e}"
        else:
            error = "n/a"
        flagged = "-" if row.outliers is None else str(int(row.outliers.sum()))
        if row.outliers is None or planted is None:
            found = "-"
        else:
            found = f"{int(row.outliers[planted].sum())} of {planted.size}"
        lines.append(
            [
                row.name,
                error,
                "-" if row.scale is None else f"{row.scale:.4g}",
                flagged,
                found,
                "-" if row.nit is None else str(row.nit),
                f"{1e3 * row.seconds:.1f}",
            ]
        )
    preamble = [
        problem.description,
        "coef error: ||coef - truth|| / ||truth||;  flagged: rows each fit calls outliers "
        "(outliers_); planted flagged: how many of the moved rows are among them",
    ]
    return text_table(preamble, header, lines, notes)
