"""``gradopt check-grad``: check a hand-written gradient against a trusted reference.

Exit status 0 when every component agrees within ``--rtol`` (after the reference's own
error estimate is taken off, see :func:`gradopt.check_gradient`), 1 when some do not
(the worst are listed), 2 when the check could not be made (bad input, a function that
fails or returns something that is not a number).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from gradopt._cli_common import (
    CommandError,
    comma_floats,
    counting_progress,
    function_spec,
    number,
    one_line,
    scalar_value,
    user_function,
)

__all__ = ["register", "run"]

REFERENCES = ("richardson", "complex", "autograd")
#: Components listed when the check fails.
_SHOWN = 10


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``check-grad`` subcommand to the subparsers `sub`."""
    p = sub.add_parser(
        "check-grad",
        parents=parents,
        help="check a hand-written gradient against a trusted reference (exit 0 right, 1 wrong)",
        description="Compare GRADIENT(x) with a reference gradient of FUNCTION at --x0, "
        "component by component, relatively. Exit status 0 when it is right, 1 when it is "
        "wrong (the worst components are listed), 2 on bad input. MODULE:NAME imports your "
        "module (running its top-level code, as 'python -m MODULE' would, with the current "
        "directory importable). FUNCTION(x) takes a 1-D float array and returns one real "
        "number; GRADIENT(x) returns an array shaped like x.",
    )
    p.add_argument("function", type=function_spec, metavar="MODULE:FUNCTION")
    p.add_argument("gradient", type=function_spec, metavar="MODULE:GRADIENT")
    p.add_argument(
        "--x0", type=comma_floats, required=True, metavar="X0[,X1,...]", help="the point"
    )
    p.add_argument(
        "--reference",
        choices=REFERENCES,
        default="richardson",
        help="richardson: extrapolated central differences with an error estimate (10d "
        "calls of f, any smooth f; the default); complex: the complex step (d calls, f "
        "must carry complex numbers through); autograd: automatic differentiation (f "
        "written with autograd.numpy)",
    )
    p.add_argument(
        "--rtol",
        type=number,
        default=1e-6,
        metavar="RTOL",
        help="largest relative error accepted (default: 1e-6)",
    )


def _reference(fun: Any, x0: Any, kind: str, label: str) -> Any:
    if kind != "autograd":
        return kind
    from gradopt import Autograd

    try:
        return Autograd(fun).grad(x0.copy())
    except Exception as exc:
        raise CommandError(
            f"--reference autograd: {label} could not be differentiated: {one_line(exc)} "
            "(or use --reference richardson)"
        ) from None


def run(args: argparse.Namespace) -> tuple[str, int]:
    """Run the check; return the text to print and the exit status (0 right, 1 wrong)."""
    from gradopt import check_gradient

    if not (np.isfinite(args.rtol) and args.rtol > 0):
        raise CommandError(f"--rtol must be a positive number, got {args.rtol}")
    x0 = args.x0
    f_label, g_label = ("{}:{}".format(*spec) for spec in (args.function, args.gradient))
    fun = user_function(args.function, "FUNCTION")
    grad = user_function(args.gradient, "GRADIENT")
    scalar_value(fun, x0.copy(), f_label)
    reference = _reference(fun, x0, args.reference, f_label)
    with counting_progress(fun, args.quiet, "check-grad") as counted:
        try:
            check = check_gradient(counted, grad, x0.copy(), reference=reference, rtol=args.rtol)
        except Exception as exc:
            hint = (
                " (--reference complex needs f to carry complex numbers through)"
                if args.reference == "complex"
                else ""
            )
            raise CommandError(
                f"the check failed: {one_line(exc)} ({type(exc).__name__}){hint}"
            ) from None
    return _render(check, f_label, g_label, args.reference), 0 if check.ok else 1


def _render(check: Any, f_label: str, g_label: str, reference: str) -> str:
    d = check.grad.size
    worst = f"max relative error {check.max_rel_error:.1e} at index {check.worst}"
    if check.ok:
        return (
            f"OK: {g_label} is the gradient of {f_label} at x0 (d = {d}): {worst}, "
            f"within rtol {check.rtol:g} of the {reference} reference"
        )
    errors = np.where(np.isnan(check.errors), np.inf, check.errors)
    wrong = np.flatnonzero(errors > check.rtol)
    order = wrong[np.argsort(-errors[wrong], kind="stable")]
    lines = [
        f"WRONG: {g_label} is not the gradient of {f_label} at x0 (d = {d}): {len(wrong)} "
        f"component(s) off by more than rtol {check.rtol:g}; {worst}",
        f"{'index':>6}  {'gradient':>24}  {reference + ' reference':>24}  {'± its error':>11}"
        f"  {'rel. error':>10}",
    ]
    for j in order[:_SHOWN]:
        lines.append(
            f"{j:>6}  {check.grad[j]:>24.16g}  {check.reference[j]:>24.16g}  "
            f"{check.reference_error[j]:>11.1e}  {check.errors[j]:>10.1e}"
        )
    if len(order) > _SHOWN:
        lines.append(f"... and {len(order) - _SHOWN} more")
    return "\n".join(lines)
