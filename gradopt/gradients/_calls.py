"""The calls of the user's function a finite difference makes: where, counted, checked.

:class:`Calls` is what :class:`~gradopt.gradients.finite_difference.FiniteDifference`
knows about running f: single values (in this process; on the workers under a timeout; a
batch of one when f is vectorized), the first call that also reads the precision of f's
output, and the points of a scheme, handed to the evaluator the options chose. The
points are counted through the provider's counter; single calls by the caller (a value
the provider returns is counted by BaseProvider).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradopt._typing import FloatArray, as_scalar_value, as_vector_value
from gradopt.gradients._checks import Evaluation, batch_values
from gradopt.gradients._fd_options import FiniteDifferenceOptions
from gradopt.gradients._groups import Groups
from gradopt.gradients._schemes import Scheme

__all__ = ["Calls"]

_EPS = float(np.finfo(np.float64).eps)


class Calls:
    """Runs f for a finite difference as its options say; `count` adds calls to ``nfev``."""

    def __init__(
        self,
        fun: Callable[..., Any],
        options: FiniteDifferenceOptions,
        count: Callable[[int], None],
        points: Callable[[int], int],
    ) -> None:
        self.fun, self.options, self.count = fun, options, count
        self.points_per_derivative = points  # of d coordinates: sizes a pool to start
        self.evaluator = options.make_evaluator()

    def at(self, x: FloatArray, shape: tuple[int, ...], vector: bool) -> Any:
        """What f returns at the 1-D point `x` (unchecked), one call: in this process, or
        on the workers under a timeout, or as a batch of one when vectorized."""
        options = self.options
        if options.bounds is not None:
            options.bounds.arrays(x)  # x must lie in the box
        shaped = x.reshape(shape).copy()  # f may write into its argument
        if not options.vectorized and options.timeout is None:
            return self.fun(shaped)  # in this process, also with an executor
        points = self.points_per_derivative(x.size)
        return self.evaluator.value(self.fun, shaped, points, vector)

    def probe(
        self, x: FloatArray, shape: tuple[int, ...], vector: bool
    ) -> tuple[FloatArray, float]:
        """One call of f at `x` in this process: its value(s), checked, as a 1-D array,
        and the machine epsilon of its output."""
        if self.options.bounds is not None:
            self.options.bounds.arrays(x)
        shaped = x.reshape(shape).copy()
        if self.options.vectorized:
            raw = batch_values(self.fun(shaped[np.newaxis]), 1, vector)[0]
        else:
            raw = self.fun(shaped)
        out = np.asarray(raw)
        eps = float(np.finfo(out.dtype).eps) if out.dtype.kind == "f" else _EPS
        return self.checked(raw, x, shape, vector), eps

    def checked(self, raw: Any, x: FloatArray, shape: tuple[int, ...], vector: bool) -> FloatArray:
        """What f returned at `x`, checked, as a 1-D array (one item for a scalar f)."""
        point = x.reshape(shape)
        if vector:
            return as_vector_value(raw, "the function", point)
        return np.array([as_scalar_value(raw, "the function", point)])

    def points(
        self,
        x: FloatArray,
        h: FloatArray,
        scheme: Scheme,
        groups: Groups,
        shape: tuple[int, ...],
        vector: bool,
    ) -> np.ndarray[Any, Any]:
        """Values of f at every point of `scheme` over `groups`, shape ``(points, m)``.

        The evaluator (serial, vectorized or on an executor) returns them in the scheme's
        order, counted, checked to be finite, and complex for the complex step.
        """
        if groups.count == 0:  # every coordinate fixed by the box
            return np.empty((0, 1))
        # _make is the cheapest way to build a named tuple (this runs once per gradient).
        ev = Evaluation._make((self.fun, scheme, x, h, groups, shape, scheme.imaginary, vector))
        values = self.evaluator.evaluate(ev, self.count)
        return values if vector else values[:, np.newaxis]
