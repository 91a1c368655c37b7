"""The ``gradopt`` command: ``gradopt demo`` fits robust regression every way and compares.

``gradopt demo`` builds the classic robust-regression problem (or reads a CSV file, see
:mod:`gradopt._cli_csv`), fits gradopt's :class:`~gradopt.linear_model.HuberRegressor`
with each gradient provider, scikit-learn's HuberRegressor and ordinary least squares
(see :mod:`gradopt._cli_demo`), and prints one table, with notes on fits skipped (finite
differences on wide data) or failed and on the warnings each fit gave. Every error is
one line on stderr.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from gradopt._cli_csv import DataError
from gradopt._cli_demo import (
    FD_MAX_FEATURES,
    check_fittable,
    csv_problem,
    fit_all,
    one_line,
    render,
    synthetic_problem,
)

__all__ = ["main"]


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def _positive_int(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None


def _fraction(text: str) -> float:
    value = _number(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2), like every other error here."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    demo.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default: 0)")
    demo.add_argument(
        "--data",
        type=Path,
        help="a CSV file (UTF-8) with a header row of distinct names, all values numeric",
    )
    demo.add_argument("--target", help="the CSV column to predict (with --data)")
    demo.add_argument("--epsilon", type=_number, default=1.35, help="Huber threshold (1.35)")
    demo.add_argument("--alpha", type=_number, default=1e-4, help="L2 penalty (1e-4)")
    demo.add_argument(
        "--fd-max-features",
        type=_non_negative_int,
        default=FD_MAX_FEATURES,
        help="skip the finite-difference fit above this many features "
        f"(default: {FD_MAX_FEATURES})",
    )
    return parser


def _demo(args: argparse.Namespace) -> str:
    if (args.data is None) != (args.target is None):
        raise DataError("--data and --target go together")
    if not (math.isfinite(args.epsilon) and args.epsilon >= 1.0):
        raise DataError(f"--epsilon must be a finite number >= 1, got {args.epsilon}")
    if not (math.isfinite(args.alpha) and args.alpha >= 0.0):
        raise DataError(f"--alpha must be a finite number >= 0, got {args.alpha}")
    if args.data is not None:
        problem = csv_problem(args.data, args.target)
        check_fittable(problem, f"--data {str(args.data)!r}")
    else:
        problem = synthetic_problem(
            args.n_samples, args.n_features, args.outlier_fraction, args.seed
        )
        check_fittable(problem, f"--n-samples {args.n_samples}")
    rows, notes = fit_all(problem, args.epsilon, args.alpha, args.fd_max_features)
    return render(problem, rows, args.epsilon, args.alpha, notes)


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
        text = _demo(args)
    except DataError as exc:
        print(f"gradopt {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gradopt {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or an exhausted machine: still one line
        message = f"{one_line(exc)} ({type(exc).__name__})"
        print(f"gradopt {args.command}: error: {message}", file=sys.stderr)
        return 2
    return _write(text)
