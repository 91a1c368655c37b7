"""The ``gradopt`` command: ``demo``, ``step-error`` and ``check-grad``.

- ``gradopt demo`` builds the classic robust-regression problem (or reads a CSV file, see
  :mod:`gradopt._cli_csv`), fits gradopt's :class:`~gradopt.linear_model.HuberRegressor`
  with each gradient provider, scikit-learn's HuberRegressor and ordinary least squares
  (see :mod:`gradopt._cli_demo`), and prints one table, with notes on fits skipped
  (finite differences on wide data) or failed and on the warnings each fit gave;
  ``--mode robust`` fits the robust family against leverage points instead
  (:mod:`gradopt._cli_demo_robust`), ``--mode least-squares`` a nonlinear model by
  :func:`gradopt.least_squares` (:mod:`gradopt._cli_demo_lsq`); ``--plot`` draws the fits
  (:mod:`gradopt._cli_demo_plot`).
- ``gradopt step-error`` runs the step-size study (:mod:`gradopt._cli_step_error`).
- ``gradopt check-grad`` checks a hand-written gradient (:mod:`gradopt._cli_check_grad`).

Every error is one line on stderr and exit status 2, never a traceback. Long work shows
a tqdm bar on stderr after a second; ``--quiet`` silences it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gradopt import _cli_check_grad, _cli_step_error
from gradopt._cli_common import (
    CommandError,
    Parser,
    non_negative_int,
    number,
    one_line,
    positive_int,
    progress_bar,
)
from gradopt._cli_demo import (
    FD_MAX_FEATURES,
    check_fittable,
    csv_problem,
    fit_all,
    render,
    run_contenders,
    synthetic_problem,
)
from gradopt._cli_demo_lsq import contenders as lsq_contenders
from gradopt._cli_demo_lsq import exponential_problem
from gradopt._cli_demo_lsq import render as render_lsq
from gradopt._cli_demo_robust import contenders as robust_contenders
from gradopt._cli_demo_robust import leverage_problem
from gradopt._cli_demo_robust import render as render_robust

__all__ = ["main"]


def _fraction(text: str) -> float:
    value = number(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _register_demo(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser(
        "demo",
        parents=parents,
        help="robust regression: gradopt's HuberRegressor with every gradient provider, "
        "scikit-learn's and least squares, in one table",
        description="Robust regression on synthetic data with gross outliers (or your CSV "
        "file): gradopt's HuberRegressor with each gradient provider, scikit-learn's "
        "HuberRegressor and least squares, in one table.",
    )
    demo.add_argument(
        "--mode",
        choices=("huber", "robust", "least-squares"),
        default="huber",
        help="huber: HuberRegressor with every gradient provider, scikit-learn's and least "
        "squares (the default); robust: RobustRegressor's least squares, Huber M, bisquare "
        "M and MM, the shifted rows moved to a far leverage point; least-squares: "
        "y = exp(X·w) fitted by gradopt.least_squares with robust losses and each Jacobian "
        "(synthetic data only, no --plot)",
    )
    demo.add_argument("--n-samples", type=positive_int, default=1000, help="default: 1000")
    demo.add_argument("--n-features", type=positive_int, default=10, help="default: 10")
    demo.add_argument(
        "--outlier-fraction",
        type=_fraction,
        default=0.05,
        help="share of targets shifted by 100*N(0,1) (default: 0.05)",
    )
    demo.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default: 0)")
    demo.add_argument(
        "--data",
        type=Path,
        help="a CSV file (UTF-8) with a header row of distinct names, all values numeric",
    )
    demo.add_argument("--target", help="the CSV column to predict (with --data)")
    demo.add_argument("--epsilon", type=number, help="Huber threshold (1.35; huber mode)")
    demo.add_argument("--alpha", type=number, help="L2 penalty (1e-4; huber mode)")
    demo.add_argument(
        "--fd-max-features",
        type=non_negative_int,
        help="skip the finite-difference fit above this many features "
        f"(default: {FD_MAX_FEATURES}; huber mode)",
    )
    demo.add_argument(
        "--plot",
        type=Path,
        metavar="OUT.png",
        help="draw the fits: the data or coefficients, and each method's residuals with "
        "the outliers marked",
    )


_HUBER_ONLY = {"epsilon": 1.35, "alpha": 1e-4, "fd_max_features": FD_MAX_FEATURES}


def _demo(args: argparse.Namespace) -> tuple[str, int]:
    from gradopt._cli_plot import check_plot_path, save_figure

    if (args.data is None) != (args.target is None):
        raise CommandError("--data and --target go together")
    for name, default in _HUBER_ONLY.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
        elif args.mode != "huber":
            option = "--" + name.replace("_", "-")
            raise CommandError(f"{option} applies to --mode huber, not --mode {args.mode}")
    if not (math.isfinite(args.epsilon) and args.epsilon >= 1.0):
        raise CommandError(f"--epsilon must be a finite number >= 1, got {args.epsilon}")
    if not (math.isfinite(args.alpha) and args.alpha >= 0.0):
        raise CommandError(f"--alpha must be a finite number >= 0, got {args.alpha}")
    if args.mode == "least-squares":
        for option in ("data", "plot"):
            if getattr(args, option) is not None:
                raise CommandError(f"--{option} applies to --mode huber or robust")
    if args.plot is not None:
        check_plot_path(args.plot)
    if args.data is not None:
        problem = csv_problem(args.data, args.target)
        check_fittable(problem, f"--data {str(args.data)!r}")
    else:
        make = {"robust": leverage_problem, "least-squares": exponential_problem}.get(
            args.mode, synthetic_problem
        )
        problem = make(args.n_samples, args.n_features, args.outlier_fraction, args.seed)
        check_fittable(problem, f"--n-samples {args.n_samples}")

    def iterate(fits: list[Any]) -> Any:
        return progress_bar(args.quiet, "demo", " fits", fits)

    if args.mode == "robust":
        fits, notes = robust_contenders(problem, args.seed)
        rows, notes = run_contenders(fits, notes, iterate)
        text = render_robust(problem, rows, notes)
    elif args.mode == "least-squares":
        fits, notes = lsq_contenders(problem)
        rows, notes = run_contenders(fits, notes, iterate)
        text = render_lsq(problem, rows, notes)
    else:
        rows, notes = fit_all(problem, args.epsilon, args.alpha, args.fd_max_features, iterate)
        text = render(problem, rows, args.epsilon, args.alpha, notes)
    if args.plot is not None:
        from gradopt._cli_demo_plot import draw_demo, figure_size

        save_figure(
            lambda fig: draw_demo(fig, problem, rows, args.epsilon),
            args.plot,
            figure_size(rows),
        )
        text += f"\npicture: {args.plot}"
    return text, 0


_COMMANDS: dict[str, Callable[[argparse.Namespace], tuple[str, int]]] = {
    "demo": _demo,
    "step-error": _cli_step_error.run,
    "check-grad": _cli_check_grad.run,
}


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="gradopt",
        description="gradopt: optimize code that computes f, with gradients from anywhere.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bar on stderr (shown on long work)",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    _register_demo(sub, [common])
    _cli_step_error.register(sub, [common])
    _cli_check_grad.register(sub, [common])
    return parser


def _write(text: str) -> int:
    """Print `text`; a reader that went away (``gradopt demo | head -1``) ends it quietly."""
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # Python's documented way: point stdout at devnull so that the flush at exit
        # does not fail again, and exit as a process killed by SIGPIPE would (128 + 13).
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # no file descriptor (captured output)
            pass
        return 141
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``gradopt`` command with `argv` (default: ``sys.argv[1:]``); return its status.

    Every error is one line on stderr and status 2 (never a traceback); an interrupt is
    one line and status 130; a reader that closed the pipe early, status 141 quietly.
    ``check-grad`` returns 1 when the gradient is wrong.

    Examples
    --------
    >>> main(["demo", "--n-samples", "200", "--n-features", "3"])  # doctest: +ELLIPSIS
    synthetic: n = 200, d = 3, 10 targets shifted by 100·N(0,1)
    ...
    gradopt analytic ...
    0
    >>> main(["step-error", "--function", "exp", "--x0", "1", "--method", "central"])
    exp: f(x) = sum(exp(x)), x0 = [1], df/dx_0 = 2.71828182845904... (exact, from the formula)
    method: central
    ...
       1e-05        2.71828182849...   ...e-11      1.06e-10
    ...
    best step measured: h = ...; predicted by the model: h = 8.7e-06; ...
    0
    """
    args = _parser().parse_args(argv)
    try:
        text, status = _COMMANDS[args.command](args)
    except CommandError as exc:
        print(f"gradopt {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gradopt {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or an exhausted machine: still one line
        message = f"{one_line(exc)} ({type(exc).__name__})"
        print(f"gradopt {args.command}: error: {message}", file=sys.stderr)
        return 2
    written = _write(text)
    return written or status
