"""``gradopt step-error``: the step-size study of one partial derivative, table and picture.

The study (:func:`gradopt.analysis.step_error`) varies ``x_j`` alone, so every step is
taken exactly as :class:`~gradopt.FiniteDifference` takes it at that coordinate (rounded
to a whole number of units in the last place of ``x_j``). The true derivative comes from
the built-in function's formula, from ``--derivative``, or else from Richardson
extrapolation, whose own error estimate is printed beside it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import rosen, rosen_der

from gradopt._cli_common import (
    CommandError,
    comma_floats,
    counting_progress,
    function_spec,
    non_negative_int,
    number,
    one_line,
    scalar_value,
    user_function,
)
from gradopt._cli_plot import check_plot_path, save_figure
from gradopt._typing import FloatArray

__all__ = ["register", "run"]

METHODS = ("forward", "backward", "central", "complex", "richardson")


@dataclass(frozen=True)
class Builtin:
    """A test function with its exact partial derivatives."""

    fun: Callable[[Any], Any]
    partial: Callable[[FloatArray, int], float]
    formula: str
    min_dim: int = 1


BUILTINS = {
    "sin": Builtin(lambda x: np.sum(np.sin(x)), lambda x, j: float(np.cos(x[j])), "sum(sin(x))"),
    "exp": Builtin(lambda x: np.sum(np.exp(x)), lambda x, j: float(np.exp(x[j])), "sum(exp(x))"),
    "rosen": Builtin(rosen, lambda x, j: float(rosen_der(x)[j]), "Rosenbrock", min_dim=2),
}


def _function(text: str) -> str | tuple[str, str]:
    return text if text in BUILTINS else function_spec(text)


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``step-error`` subcommand to the subparsers `sub`."""
    p = sub.add_parser(
        "step-error",
        parents=parents,
        help="how the error of a finite difference depends on its step h: table and picture",
        description="The step-size study: the error of one partial derivative of f by a "
        "finite difference, over steps h from 1e-16 to 1, beside its truncation and "
        "round-off models (for richardson: its own error estimate). A MODULE:FUNCTION "
        "imports your module (running its top-level code, as 'python -m MODULE' would, "
        "with the current directory importable) and calls FUNCTION(x) with a 1-D float "
        "array; it must return one real number.",
    )
    p.add_argument(
        "--function",
        type=_function,
        default="sin",
        metavar="sin|exp|rosen|MODULE:FUNCTION",
        help="f: sum(sin(x)), sum(exp(x)), scipy's Rosenbrock, or your own (default: sin)",
    )
    p.add_argument(
        "--x0",
        type=comma_floats,
        default=np.array([1.0]),
        metavar="X0[,X1,...]",
        help="the point, e.g. 1 or 1,2,3 (default: 1)",
    )
    p.add_argument("--method", choices=METHODS, default="forward", help="(default: forward)")
    p.add_argument(
        "--component",
        type=non_negative_int,
        default=0,
        metavar="J",
        help="study df/dx_J (default: 0)",
    )
    p.add_argument(
        "--derivative",
        type=number,
        metavar="VALUE",
        help="the true df/dx_J at x0, if known (default: the built-in formula, or "
        "Richardson extrapolation for your own function)",
    )
    p.add_argument("--plot", type=Path, metavar="OUT.png", help="save the log-log picture here")


def _problem(args: argparse.Namespace) -> tuple[Callable[[Any], Any], str, float, str]:
    """f, its label, the true derivative and where that came from."""
    x0, j = args.x0, args.component
    if j >= x0.size:
        raise CommandError(f"--component {j} is out of range for --x0 with {x0.size} coordinates")
    if isinstance(args.function, str):
        builtin = BUILTINS[args.function]
        if x0.size < builtin.min_dim:
            raise CommandError(
                f"--function {args.function} needs at least {builtin.min_dim} coordinates "
                f"in --x0, got {x0.size}"
            )
        fun, label = builtin.fun, f"{args.function}: f(x) = {builtin.formula}"
        truth, source = builtin.partial(x0, j), "exact, from the formula"
    else:
        fun = user_function(args.function, "--function")
        label, truth, source = "{}:{}".format(*args.function), float("nan"), ""
    scalar_value(fun, x0.copy(), label)
    if args.derivative is not None:
        if not np.isfinite(args.derivative):
            raise CommandError(f"--derivative must be finite, got {args.derivative}")
        truth, source = args.derivative, "given by --derivative"
    elif not source:
        from gradopt import FiniteDifference

        try:
            g, err = FiniteDifference(fun, method="richardson").grad_and_error(x0.copy())
        except Exception as exc:
            raise CommandError(f"{label}: no reference derivative: {one_line(exc)}") from None
        truth = float(g[j])
        if not np.isfinite(truth):
            raise CommandError(
                f"{label}: Richardson extrapolation gave {truth} for df/dx_{j} at x0; "
                "give the derivative with --derivative"
            )
        source = f"Richardson extrapolation, ± {float(err[j]):.1e} (give --derivative if known)"
    return fun, label, truth, source


def _along(fun: Callable[[Any], Any], x0: FloatArray, j: int) -> Callable[[Any], Any]:
    """``t -> fun(x0 with x_j = t)``: a partial derivative, stepped as FiniteDifference does."""

    def phi(t: Any) -> Any:
        x = x0.astype(np.result_type(x0, np.asarray(t)))
        x[j] = t
        return fun(x)

    return phi


def run(args: argparse.Namespace) -> tuple[str, int]:
    """Run the study; return the text to print and the exit status."""
    from gradopt.analysis import step_error

    if args.plot is not None:
        check_plot_path(args.plot)
    fun, label, truth, source = _problem(args)
    x0, j = args.x0, args.component
    with counting_progress(fun, args.quiet, "step-error") as counted:
        try:
            result = step_error(_along(counted, x0, j), x0[j], truth, method=args.method)
        except Exception as exc:
            hint = " (--method complex needs f to carry complex numbers through)"
            raise CommandError(
                f"{label} failed during the study: {one_line(exc)} ({type(exc).__name__})"
                + (hint if args.method == "complex" else "")
            ) from None
    text = _render(result, label, x0, j, source)
    if args.plot is not None:
        from gradopt.plotting import plot_step_error

        save_figure(lambda fig: plot_step_error(result, ax=fig.subplots()), args.plot, (7, 4.6))
        text += f"\npicture: {args.plot}"
    return text, 0


def _render(result: Any, label: str, x0: FloatArray, j: int, source: str) -> str:
    from gradopt.gradients.finite_difference import METHODS as SCHEMES

    richardson = result.error_estimates is not None
    point = ",".join(f"{v:g}" for v in x0)
    lines = [
        f"{label}, x0 = [{point}], df/dx_{j} = {result.derivative:.17g} ({source})",
        f"method: {result.method}"
        + (" (h is the first step of its ladder)" if richardson else ""),
    ]
    model = "its estimate" if richardson else "model error"
    header = f"{'h':>8}  {'estimate':>24}  {'abs error':>9}  {model:>12}  note"
    lines += [header, "-" * len(header)]
    for k in _decade_rows(result.steps):
        h, est, err = result.steps[k], result.estimates[k], result.errors[k]
        bound = result.error_estimates[k] if richardson else result.model[k]
        if np.isnan(est):
            note = "step refused (too small at x0)" if richardson else "f not finite"
        elif result.plateau[k]:
            note = "plateau: the difference of f is exactly 0"
        else:
            note = ""
        lines.append(f"{h:8.0e}  {est:24.17g}  {err:9.2e}  {bound:12.2e}  {note}".rstrip())
    default = float(SCHEMES[result.method].default_step(np.array([x0[j]]))[0])
    lines.append(
        f"best step measured: h = {result.best_step:.1e} (error {result.best_error:.1e}); "
        + ("Richardson's default first step" if richardson else "predicted by the model")
        + f": h = {result.predicted_best_step:.1e}; FiniteDifference's default here: "
        f"h = {default:.1e}"
    )
    return "\n".join(lines)


def _decade_rows(steps: FloatArray) -> list[int]:
    """The index of the step nearest each power of ten in the grid, once each."""
    logs = np.log10(steps)
    wanted = np.arange(np.ceil(logs[0]), np.floor(logs[-1]) + 1)
    return sorted({int(np.argmin(np.abs(logs - w))) for w in wanted})
