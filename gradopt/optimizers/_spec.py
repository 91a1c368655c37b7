"""One run of an optimizer, specified once: :class:`RunSpec` and the runner's signature.

:func:`~gradopt.minimize` (and :func:`~gradopt.least_squares`) check what the caller
gave (the start, bounds, constraints, tolerance, callback, progress flag) once, into a
frozen :class:`RunSpec`, and hand it to a *runner*: any callable
``runner(provider, spec) -> OptimizeResult`` (:class:`Runner`). gradopt's own methods
are runners in a registry; a new optimizer is a runner too, passed as
``minimize(provider, x0, method=runner)``, without writing into a private table. A
runner validates its own ``spec.options`` (scipy's methods against scipy's solvers,
gradient descent against :class:`~gradopt.optimizers.GradientDescentOptions`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np
from scipy.optimize import OptimizeResult

from gradopt._typing import ArrayLike, FloatArray, as_point
from gradopt.exceptions import InvalidInputError
from gradopt.gradients import GradientProvider
from gradopt.gradients._bounds import Box, parse_bounds

__all__ = ["RunSpec", "Runner", "check_tol", "make_spec"]


@dataclass(frozen=True)
class RunSpec:
    """What a run is asked to do, checked once.

    Attributes
    ----------
    x0 : ndarray
        The start, a 1-D float64 array (read-only).
    bounds : Box or None
        The box, parsed as every part of gradopt parses ``bounds=`` (one pair per
        coordinate; ``box.limits(x0.size)`` gives two arrays). Not checked against `x0`:
        a runner that takes bounds does that (methods disagree on clipping).
    constraints : tuple
        scipy constraint objects (``NonlinearConstraint``, ``LinearConstraint``, dicts),
        with :class:`~gradopt.Constraint` already turned into ``NonlinearConstraint``.
    tol : float or None
        A positive tolerance, meaning what the method makes of it.
    options : mapping
        The method's options, as given (read-only); the runner validates them.
    callback : callable or None
        Called after each iteration, as :func:`~gradopt.minimize` documents.
    progress : bool
        Show a progress bar.
    """

    x0: FloatArray
    bounds: Box | None = None
    constraints: tuple[Any, ...] = ()
    tol: float | None = None
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    callback: Callable[..., Any] | None = None
    progress: bool = False

    def limits(self) -> tuple[FloatArray, FloatArray]:
        """The bounds as ``(low, high)`` arrays of the size of `x0` (±inf where open)."""
        n = self.x0.size
        if self.bounds is None:
            return np.full(n, -np.inf), np.full(n, np.inf)
        return self.bounds.limits(n, "x0")


class Runner(Protocol):
    """The signature of an optimizer that :func:`~gradopt.minimize` can run."""

    def __call__(self, provider: GradientProvider, spec: RunSpec) -> OptimizeResult: ...


def check_tol(tol: Any) -> float | None:
    """`tol` if it is None or a positive finite number (not a bool), else an error."""
    if tol is not None and not (
        isinstance(tol, int | float | np.floating)
        and not isinstance(tol, bool)
        and math.isfinite(tol)
        and tol > 0
    ):
        raise InvalidInputError(f"tol must be a positive number or None; got {tol!r}.")
    return None if tol is None else float(tol)


def make_spec(
    x0: ArrayLike,
    bounds: Any = None,
    constraints: tuple[Any, ...] = (),
    tol: Any = None,
    options: Mapping[str, Any] | None = None,
    callback: Callable[..., Any] | None = None,
    progress: bool = False,
) -> RunSpec:
    """Check what a caller gave and freeze it into a :class:`RunSpec`."""
    point = as_point(x0, "x0")
    point.flags.writeable = False
    try:
        box = parse_bounds(bounds)
    except ValueError as exc:
        raise InvalidInputError(f"{exc}.") from None
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise InvalidInputError(
            f"options must be a dict of option names to values; got {type(options).__name__}."
        )
    if callback is not None and not callable(callback):
        raise InvalidInputError(
            f"callback must be callable or None; got {type(callback).__name__}."
        )
    if not isinstance(progress, bool | np.bool_):
        raise InvalidInputError(f"progress must be True or False; got {progress!r}.")
    return RunSpec(
        point,
        box,
        tuple(constraints),
        check_tol(tol),
        MappingProxyType(dict(options)),
        callback,
        bool(progress),
    )
