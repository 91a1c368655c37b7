"""Turning pydantic's validation errors into gradopt errors that name the option.

Options throughout gradopt are frozen pydantic models with ``extra="forbid"``; this is the
one place that builds them from user input, so every bad option is an
:class:`~gradopt.exceptions.InvalidInputError` (a ``ValueError``) naming it.

pydantic's lax mode turns ``"10"`` into 10, ``True`` into 1.0 and ``"yes"`` into True;
the field types here refuse those coercions: a number must be a number (an ``int``,
``float`` or numpy scalar, not a bool or a string) and a flag a bool.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

import numpy as np
from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from gradopt.exceptions import InvalidInputError

__all__ = ["Count", "Flag", "Real", "count", "parse_options", "real"]

Model = TypeVar("Model", bound=BaseModel)


def _a_number(value: Any) -> Any:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ValueError(f"must be a number, not {type(value).__name__}")
    item = getattr(value, "item", None)  # numpy scalars become Python numbers
    return item() if callable(item) else value


def _a_flag(value: Any) -> Any:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"must be True or False, not {type(value).__name__}")
    return bool(value)


def real(**constraints: Any) -> Any:
    """A real number with pydantic's `constraints` (``gt``, ``allow_inf_nan``, ...); bools
    and strings are refused."""
    return Annotated[float, Field(**constraints), BeforeValidator(_a_number)]


def count(**constraints: Any) -> Any:
    """An integer with `constraints` (a float only if integral, e.g. 1e4); bools and
    strings are refused."""
    return Annotated[int, Field(**constraints), BeforeValidator(_a_number)]


Real = Annotated[float, BeforeValidator(_a_number)]
"""A real number, not a bool or a string (constraints: ``Field`` of the model's field)."""
Count = Annotated[int, BeforeValidator(_a_number)]
"""An integer, not a bool or a string."""
Flag = Annotated[bool, BeforeValidator(_a_flag)]
"""True or False (Python or numpy); 1, "yes" and "true" are refused."""


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
