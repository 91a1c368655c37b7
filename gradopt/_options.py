"""Turning pydantic's validation errors into gradopt errors that name the option.

Options throughout gradopt are frozen pydantic models with ``extra="forbid"``; this is the
one place that builds them from user input, so every bad option is an
:class:`~gradopt.exceptions.InvalidInputError` (a ``ValueError``) naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gradopt.exceptions import InvalidInputError

__all__ = ["parse_options"]

Model = TypeVar("Model", bound=BaseModel)


def parse_options(model: type[Model], options: Mapping[str, Any] | None, what: str) -> Model:
    """Build `model` from `options`, turning pydantic's error into one that names the option.

    Examples
    --------
    >>> from gradopt.optimizers import GradientDescentOptions
    >>> parse_options(GradientDescentOptions, {"max_iters": 5}, "GD")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gradopt.exceptions.InvalidInputError: GD: unknown option 'max_iters' ...
    """
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise InvalidInputError(
            f"options must be a dict of option names to values; got {type(options).__name__}."
        )
    try:
        return model(**options)
    except ValidationError as exc:
        raise InvalidInputError(_explain(exc, model, what)) from None


def _explain(exc: ValidationError, model: type[BaseModel], what: str) -> str:
    problems = []
    for err in exc.errors():
        name = ".".join(str(part) for part in err["loc"])
        if err["type"] == "extra_forbidden":
            valid = ", ".join(model.model_fields)
            problems.append(f"unknown option {name!r} (valid options: {valid})")
        elif name:
            message = err["msg"].removeprefix("Value error, ")
            problems.append(f"option {name!r}={err['input']!r}: {message}")
        else:
            problems.append(err["msg"].removeprefix("Value error, "))
    return f"{what}: " + "; ".join(problems) + "."
