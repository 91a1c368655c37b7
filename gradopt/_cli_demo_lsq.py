"""``gradopt demo --mode least-squares``: nonlinear least squares with gross outliers.

The targets follow ``y = exp(X·w) + 0.1·noise``, ``X`` drawn with rows of unit expected
norm, and a fraction of them is shifted by ``10·N(0, 1)``. :func:`gradopt.least_squares`
fits ``w`` from ``w = 0`` with the plain sum of squares and with scipy's robust losses
(``soft_l1``, ``cauchy``), its Jacobian by central differences or by autograd; scipy's own
``least_squares`` with its ``2-point`` Jacobian is the reference for the cauchy loss, and
L-BFGS-B on the sum of squares shows what a Gauss-Newton model saves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from gradopt._cli_demo import Contender, Problem, Row, check_size, text_table
from gradopt._typing import FloatArray

__all__ = ["F_SCALE", "contenders", "exponential_problem", "render"]

#: Where the robust losses set in: a few times the noise (0.1).
F_SCALE = 0.2
_REFERENCE = "scipy cauchy, 2-point"


def exponential_problem(
    n_samples: int, n_features: int, outlier_fraction: float, seed: int
) -> Problem:
    """``y = exp(X·w) + 0.1·noise``, a fraction of targets shifted by ``10·N(0, 1)``."""
    check_size(n_samples, n_features)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)) / np.sqrt(n_features)
    coef = rng.normal(size=n_features)
    y = np.exp(X @ coef) + 0.1 * rng.normal(size=n_samples)
    n_out = round(outlier_fraction * n_samples)
    shifted = rng.choice(n_samples, size=n_out, replace=False)
    y[shifted] += 10.0 * rng.normal(size=n_out)
    description = (
        f"synthetic: y = exp(X·w) + 0.1·noise, n = {n_samples}, d = {n_features}, "
        f"{n_out} targets shifted by 10·N(0,1); every fit starts at w = 0"
    )
    return Problem(X, y, coef, None, description, np.sort(shifted))


def _residuals(xp: Any, X: FloatArray, y: FloatArray) -> Callable[[Any], Any]:
    return lambda w: xp.exp(X @ w) - y


def _row(name: str, result: Any, seconds: float) -> Row:
    # scipy's least_squares counts no iterations: no "nit" in its result
    nit, njev = result.get("nit"), result.get("njev")
    return Row(name, np.asarray(result.x), 0.0, None, seconds, nit, result.nfev, njev)


def _scipy_fit(X: FloatArray, y: FloatArray) -> Any:
    import scipy.optimize

    return scipy.optimize.least_squares(
        _residuals(np, X, y), np.zeros(X.shape[1]), loss="cauchy", f_scale=F_SCALE
    )


def contenders(problem: Problem) -> tuple[list[Contender], list[str]]:
    """The fits of the least-squares demo, in the order they are printed."""
    import autograd.numpy as anp

    from gradopt import Autograd, FiniteDifference, least_squares, minimize

    X, y = problem.X, problem.y
    x0 = np.zeros(X.shape[1])
    residuals = _residuals(np, X, y)

    def fit(provider: Callable[[], Any], loss: str) -> Any:
        return least_squares(provider(), x0, loss=loss, f_scale=F_SCALE)

    def sum_of_squares(w: FloatArray) -> float:
        r = residuals(w)
        return float(r @ r)

    def central() -> Any:
        return FiniteDifference(residuals, "central")

    def exact() -> Any:
        return Autograd(_residuals(anp, X, y))

    runs: dict[str, Callable[[], Any]] = {
        "sum of squares, central": partial(fit, central, "linear"),
        "soft_l1, central": partial(fit, central, "soft_l1"),
        "cauchy, central": partial(fit, central, "cauchy"),
        "cauchy, autograd": partial(fit, exact, "cauchy"),
        _REFERENCE: partial(_scipy_fit, X, y),
        "L-BFGS-B, sum of squares": lambda: minimize(
            FiniteDifference(sum_of_squares, "central"), x0, method="L-BFGS-B"
        ),
    }
    return [Contender(name, run, partial(_row, name)) for name, run in runs.items()], []


def render(problem: Problem, rows: list[Row], notes: Sequence[str] = ()) -> str:
    """The least-squares demo's table as text, with the notes below it."""
    reference = next((r for r in rows if r.name == _REFERENCE), None)
    header = ["method", "coef error", "vs scipy", "nit", "nfev", "njev", "time [ms]"]
    lines = []
    for row in rows:
        error = "n/a"
        if problem.coef is not None:
            error = f"{np.linalg.norm(row.coef - problem.coef) / np.linalg.norm(problem.coef):.2e}"
        agreement = "-"
        if reference is not None and row.name.startswith("cauchy"):
            scale = max(float(np.max(np.abs(reference.coef))), 1e-300)
            agreement = f"{np.max(np.abs(row.coef - reference.coef)) / scale:.1e}"
        elif row is reference:
            agreement = "reference"
        counts = [row.nit, row.nfev, row.ngev]
        lines.append(
            [
                row.name,
                error,
                agreement,
                *("-" if c is None else str(c) for c in counts),
                f"{1e3 * row.seconds:.1f}",
            ]
        )
    preamble = [
        problem.description,
        f"gradopt.least_squares with each loss (f_scale = {F_SCALE}) and Jacobian; coef error: "
        "||w - truth|| / ||truth||;  vs scipy: max |w - scipy's| / max |scipy's| (cauchy)",
        "nfev: calls of the residuals, those of the differences included (scipy's own "
        "count leaves its 2-point Jacobian's out); njev: Jacobians (L-BFGS-B: gradients)",
    ]
    return text_table(preamble, header, lines, notes)
