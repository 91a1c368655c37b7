"""``gradopt demo --plot``: the demo's fits drawn, outliers marked.

One panel shows the fits themselves: for one feature the data and each method's line,
for more the coefficients beside the truth. Then one panel per method with its residuals
``y - X coef - intercept`` by sample, on a scale that is linear near zero and
logarithmic beyond (outliers 100 times the noise stay on the picture), the band
``± epsilon · scale`` that a Huber fit treats as inliers shaded (in robust mode, the rows
each fit flags are ringed instead). Marked outliers are the rows the synthetic problem
shifted or, for a CSV file, those gradopt's first fit flags.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradopt._cli_demo import Problem, Row
from gradopt._cli_plot import quiet_symlog

__all__ = ["draw_demo", "figure_size"]

_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:red", "tab:brown"]


def figure_size(rows: list[Row]) -> tuple[float, float]:
    panels = 1 + len(rows)
    return (12.0, 3.6 * ((panels + 2) // 3))


def _residuals(problem: Problem, row: Row) -> Any:
    return problem.y - problem.X @ row.coef - row.intercept


def _marked(problem: Problem, rows: list[Row], epsilon: float) -> tuple[Any, str]:
    """A boolean mask of the outliers to mark, and what they are."""
    mask = np.zeros(problem.y.size, dtype=bool)
    if problem.shifted is not None:
        mask[problem.shifted] = True
        return mask, "planted outliers"
    flagger = next((r for r in rows if r.name.startswith("gradopt") and r.scale), None)
    if flagger is None or flagger.scale is None:
        return mask, "outliers"
    mask = np.abs(_residuals(problem, flagger)) > epsilon * flagger.scale
    return mask, f"outliers by {flagger.name}"


def draw_demo(fig: Any, problem: Problem, rows: list[Row], epsilon: float) -> None:
    """Fill `fig` with the demo's picture (see the module docstring)."""
    with quiet_symlog():
        _draw(fig, problem, rows, epsilon)


def _draw(fig: Any, problem: Problem, rows: list[Row], epsilon: float) -> None:
    panels = 1 + len(rows)
    axes = fig.subplots((panels + 2) // 3, 3, squeeze=False).ravel()
    for ax in axes[panels:]:
        ax.set_visible(False)
    outliers, what = _marked(problem, rows, epsilon)
    if problem.X.shape[1] == 1:
        _data_and_lines(axes[0], problem, rows, outliers, what, _spread(problem.y, outliers))
    else:
        _coefficients(axes[0], problem, rows)
    # Residuals on one scale for every panel: linear up to a few times the best fit's
    # inlier spread, logarithmic beyond.
    residuals = [_residuals(problem, row) for row in rows]
    linthresh = min((_spread(r, outliers) for r in residuals), default=1.0)
    top = max((float(np.max(np.abs(r))) for r in residuals), default=1.0) * 1.5
    for k, (ax, row, r) in enumerate(zip(axes[1:], rows, residuals, strict=False)):
        index = np.arange(r.size)
        ax.plot(index[~outliers], r[~outliers], ".", ms=2.5, color="0.45", label="inliers")
        ax.plot(index[outliers], r[outliers], "x", ms=4, color="tab:red", label=what)
        if row.outliers is not None:  # the fit's own flags (robust mode)
            flag = row.outliers
            ax.plot(index[flag], r[flag], "o", mfc="none", mec="k", ms=5, label="flagged")
        elif row.scale is not None:
            band = epsilon * row.scale
            ax.axhspan(-band, band, color=_COLORS[k % 6], alpha=0.2, label="± epsilon·scale")
        ax.set_yscale("symlog", linthresh=linthresh, linscale=1.5)
        ax.set_ylim(-top, top)
        ax.axhline(0.0, color="k", lw=0.6)
        ax.set_title(f"{row.name}: residuals", fontsize="medium")
        ax.set_xlabel("sample")
        if k % 3 == 2:
            ax.set_ylabel("y - prediction")
        if k == 0:
            ax.legend(fontsize="x-small", loc="lower right")
    fig.suptitle(problem.description, fontsize="medium")


def _spread(values: Any, outliers: Any) -> float:
    """Three standard deviations of the values not marked as outliers (at least tiny)."""
    kept = values[~outliers] if (~outliers).any() else values
    return max(3.0 * float(np.std(kept)), float(np.finfo(np.float64).tiny))


def _data_and_lines(
    ax: Any, problem: Problem, rows: list[Row], outliers: Any, what: str, linthresh: float
) -> None:
    x = problem.X[:, 0]
    ax.plot(x[~outliers], problem.y[~outliers], ".", ms=3, color="0.45", label="data")
    ax.plot(x[outliers], problem.y[outliers], "x", ms=4, color="tab:red", label=what)
    grid = np.linspace(float(x.min()), float(x.max()), 2)
    for k, row in enumerate(rows):
        ax.plot(grid, row.coef[0] * grid + row.intercept, color=_COLORS[k % 6], label=row.name)
    ax.set_yscale("symlog", linthresh=linthresh, linscale=1.5)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("the data and each fit", fontsize="medium")
    ax.legend(fontsize="x-small")


def _coefficients(ax: Any, problem: Problem, rows: list[Row]) -> None:
    d = problem.X.shape[1]
    features = np.arange(d)
    width = 0.8 / (len(rows) + 1)
    if problem.coef is not None:
        ax.bar(features - 0.4 + width / 2, problem.coef, width, color="k", label="truth")
    for k, row in enumerate(rows, start=1):
        ax.bar(
            features - 0.4 + (k + 0.5) * width,
            row.coef,
            width,
            color=_COLORS[(k - 1) % 6],
            label=row.name,
        )
    ax.set_xlabel("feature")
    ax.set_ylabel("coefficient")
    ax.set_title("coefficients", fontsize="medium")
    ax.legend(fontsize="x-small")
