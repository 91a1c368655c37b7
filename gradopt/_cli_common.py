"""What every ``gradopt`` subcommand shares: the parser, argument types, user functions.

``MODULE:FUNCTION`` arguments name a function of the user's own code. They are parsed by
an allow-list (dotted Python identifiers, one colon, one identifier) and the module is
imported with :func:`importlib.import_module`, the current directory first on the path,
as ``python -m MODULE`` would find it. Importing a module runs its code: the command
runs the user's own code on purpose, as ``python -m`` does, and nothing else (no
``eval``, no file paths, no attribute chains).
"""

from __future__ import annotations

import argparse
import importlib
import keyword
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import numpy as np

from gradopt._typing import FloatArray

__all__ = [
    "BAR_DELAY",
    "CommandError",
    "Parser",
    "comma_floats",
    "counting_progress",
    "function_spec",
    "non_negative_int",
    "number",
    "one_line",
    "positive_int",
    "progress_bar",
    "scalar_value",
    "user_function",
]


class CommandError(Exception):
    """Bad input to a subcommand: reported as one line on stderr, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2), like every other error here."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def one_line(message: object, limit: int = 300) -> str:
    """`message` on one line, cut to `limit` characters."""
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def positive_int(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value


def number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None


def comma_floats(text: str) -> FloatArray:
    """``"1,2.5,-3"`` as a float64 array: finite numbers, at least one."""
    parts = text.split(",")
    values = []
    for k, part in enumerate(parts):
        try:
            value = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be numbers separated by commas, got {part.strip()!r} at position "
                f"{k + 1} of {text!r}"
            ) from None
        if not np.isfinite(value):
            raise argparse.ArgumentTypeError(
                f"must be finite numbers, got {part.strip()} at position {k + 1}"
            )
        values.append(value)
    return np.array(values, dtype=np.float64)


def _is_name(text: str) -> bool:
    return text.isidentifier() and not keyword.iskeyword(text)


def function_spec(text: str) -> tuple[str, str]:
    """Split ``MODULE:FUNCTION`` (an argparse type): dotted identifiers, one colon, one
    identifier. Nothing else is accepted: no paths, no expressions, no attribute chains."""
    module, colon, name = text.partition(":")
    if not (colon and module and all(_is_name(p) for p in module.split(".")) and _is_name(name)):
        raise argparse.ArgumentTypeError(
            f"must be MODULE:FUNCTION (a dotted module name as 'python -m' takes it, a "
            f"colon and a function name, e.g. mymodel:loss), got {text!r}"
        )
    return module, name


def user_function(spec: tuple[str, str], what: str) -> Callable[..., Any]:
    """Import ``MODULE`` (the current directory importable first, as ``python -m``
    would) and return its callable ``FUNCTION``; any failure is a :class:`CommandError`."""
    module_name, name = spec
    label = f"{what} {module_name}:{name}"
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise CommandError(
                f"{label}: no module named {exc.name!r} in the current directory "
                f"({cwd}) or on the Python path"
            ) from None
        raise CommandError(f"{label}: importing {module_name!r} failed: {one_line(exc)}") from None
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        message = f"{one_line(exc)} ({type(exc).__name__})"
        raise CommandError(f"{label}: importing {module_name!r} failed: {message}") from None
    try:
        fun = getattr(module, name)
    except AttributeError:
        raise CommandError(f"{label}: module {module_name!r} has no {name!r}") from None
    if not callable(fun):
        raise CommandError(f"{label}: {name!r} is a {type(fun).__name__}, not a function")
    return fun  # type: ignore[no-any-return]


#: Seconds of work before a progress bar appears (quick commands never show one).
BAR_DELAY = 1.0


def progress_bar(quiet: bool, desc: str, unit: str, iterable: Any = None) -> Any:
    """A tqdm bar on stderr that appears after :data:`BAR_DELAY` seconds; off if `quiet`."""
    from tqdm import tqdm

    return tqdm(
        iterable,
        desc=desc,
        unit=unit,
        delay=BAR_DELAY,
        leave=False,
        file=sys.stderr,
        disable=quiet,
    )


@contextmanager
def counting_progress(
    fun: Callable[..., Any], quiet: bool, desc: str
) -> Iterator[Callable[..., Any]]:
    """`fun` wrapped to advance a progress bar (:func:`progress_bar`) once per call."""
    with progress_bar(quiet, desc, " calls of f") as bar:

        def counted(*args: Any, **kwargs: Any) -> Any:
            bar.update(1)
            return fun(*args, **kwargs)

        yield counted


def scalar_value(fun: Callable[..., Any], x: Any, label: str) -> float:
    """``fun(x)`` as a finite float (by the rule every provider applies to what f
    returns), or a :class:`CommandError` that says what it was."""
    from gradopt._typing import as_scalar_value
    from gradopt.exceptions import ObjectiveError

    try:
        result = as_scalar_value(fun(x), what=label)
    except ObjectiveError as exc:
        raise CommandError(f"at x0, {exc}") from None
    except Exception as exc:
        message = f"{one_line(exc)} ({type(exc).__name__})"
        raise CommandError(f"{label} failed at x0: {message}") from None
    if not np.isfinite(result):
        raise CommandError(f"{label} is not finite at x0: {result}")
    return result
