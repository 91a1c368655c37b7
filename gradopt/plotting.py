"""Figures with matplotlib (the ``plot`` extra), imported only when a figure is drawn."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradopt.analysis import StepErrorResult
from gradopt.exceptions import BackendUnavailableError

__all__ = ["plot_step_error"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise BackendUnavailableError(
            "plotting needs matplotlib: pip install 'gradopt[plot]'"
        ) from exc
    return plt


def plot_step_error(result: StepErrorResult, ax: Any = None) -> Any:
    """Draw the classic log-log picture of a step-size study.

    The measured error against h, the truncation and round-off model lines, the
    predicted and the measured best step, and (shaded) the plateau where the difference
    quotient is exactly zero because ``f(x + h) == f(x)`` in floating point. For a
    Richardson study, its own error estimate instead of the model lines.

    Parameters
    ----------
    result : StepErrorResult
        From :func:`gradopt.analysis.step_error`.
    ax : matplotlib Axes, optional
        Where to draw; by default a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from gradopt.analysis import step_error
    >>> ax = plot_step_error(step_error(np.exp, 1.0, np.e))
    >>> [line.get_label() for line in ax.get_lines()][:3]
    ['measured error', 'truncation model', 'round-off model']
    """
    if not isinstance(result, StepErrorResult):
        raise TypeError(f"result must be a StepErrorResult; got {type(result).__name__}.")
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.4))
    h = result.steps
    tiny = np.finfo(np.float64).tiny
    # An error of exactly 0 cannot be drawn on a log axis: leave a gap.
    errors = np.where(result.errors > 0, result.errors, np.nan)
    ax.loglog(h, errors, "o-", ms=2.5, lw=1, color="k", label="measured error")
    if result.error_estimates is None:
        ax.loglog(
            h,
            np.maximum(result.truncation, tiny),
            "--",
            color="tab:blue",
            label="truncation model",
        )
        ax.loglog(
            h, np.maximum(result.roundoff, tiny), "--", color="tab:red", label="round-off model"
        )
        predicted = "predicted best h"
    else:  # Richardson: no two-curve model, its own error estimate instead
        ax.loglog(h, result.error_estimates, "--", color="tab:purple", label="its error estimate")
        predicted = "default first step"
    if np.isfinite(result.predicted_best_step) and result.predicted_best_step > 0:
        ax.axvline(
            result.predicted_best_step,
            color="tab:green",
            ls=":",
            label=f"{predicted} = {result.predicted_best_step:.1e}",
        )
    ax.axvline(
        result.best_step,
        color="tab:orange",
        ls="-.",
        label=f"measured best h = {result.best_step:.1e}",
    )
    if np.any(result.plateau):
        edge = float(h[result.plateau].max())
        ax.axvspan(float(h[0]), edge, color="0.85", zorder=0, label="plateau: f(x+h) == f(x)")
    finite = errors[np.isfinite(errors)]
    if finite.size:
        top = max(float(finite.max()), abs(result.derivative)) * 10
        ax.set_ylim(max(float(finite.min()) / 10, 1e-18), top)
    ax.set_ylabel("absolute error")
    if result.error_estimates is None:
        ax.set_xlabel("step h")
        ax.set_title(f"{result.method} difference at x = {result.x0:g}")
    else:
        ax.set_xlabel("first step h of the ladder")
        ax.set_title(f"Richardson extrapolation at x = {result.x0:g}")
    ax.legend(fontsize="small", loc="best")
    return ax
