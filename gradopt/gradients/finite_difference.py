"""Gradients by finite differences: forward, backward, central and complex step."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, StrictBool, field_validator, model_validator

from gradopt._options import parse_options
from gradopt._typing import ArrayLike, FloatArray
from gradopt.exceptions import (
    InvalidInputError,
    MissingCapabilityError,
    NonFiniteEvaluationError,
)
from gradopt.gradients._base import BaseProvider
from gradopt.gradients._bounds import Box, parse_bounds
from gradopt.gradients._checks import Evaluation
from gradopt.gradients._evaluators import (
    Evaluator,
    ExecutorEvaluator,
    PoolEvaluator,
    SerialEvaluator,
    VectorizedEvaluator,
)
from gradopt.gradients._richardson import richardson_scheme
from gradopt.gradients._schemes import SCHEMES, Scheme

__all__ = ["METHODS", "FiniteDifference"]

Method = Literal["forward", "backward", "central", "complex", "richardson"]

#: Every finite-difference method by name: the basic formulas and Richardson's table.
METHODS: dict[str, Scheme] = {**SCHEMES, "richardson": richardson_scheme()}


class FiniteDifferenceOptions(BaseModel):
    """Validated options of :class:`FiniteDifference`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    method: Method = "central"
    step: float | tuple[float, ...] | None = None

    @field_validator("step", mode="before")
    @classmethod
    def _positive_step(cls, step: Any) -> Any:
        if step is None:
            return None
        arr = np.asarray(step, dtype=np.float64)
        if arr.ndim > 1 or arr.size == 0:
            raise ValueError(f"step must be a scalar or a 1-D sequence; got shape {arr.shape}")
        if not np.all(np.isfinite(arr) & (arr > 0)):
            raise ValueError(f"step must be positive and finite; got {step!r}")
        return float(arr) if arr.ndim == 0 else tuple(arr.tolist())

    executor: Executor | None = None
    workers: int | None = None
    vectorized: StrictBool = False
    bounds: Box | None = None

    @field_validator("workers", mode="before")
    @classmethod
    def _positive_workers(cls, workers: Any) -> Any:
        if workers is None:
            return None
        try:
            if isinstance(workers, bool):
                raise TypeError
            n = operator.index(workers)
        except TypeError:
            raise ValueError(f"workers must be a positive integer; got {workers!r}") from None
        if n < 1:
            raise ValueError(f"workers must be a positive integer; got {workers!r}")
        return n

    @field_validator("executor", mode="before")
    @classmethod
    def _an_executor(cls, executor: Any) -> Any:
        if executor is not None and not isinstance(executor, Executor):
            raise ValueError(
                "executor must be a concurrent.futures.Executor (a ThreadPoolExecutor, "
                "ProcessPoolExecutor or distributed.Client(...).get_executor()); got "
                f"{type(executor).__name__}"
            )
        return executor

    @field_validator("bounds", mode="before")
    @classmethod
    def _valid_bounds(cls, bounds: Any) -> Any:
        return parse_bounds(bounds)

    @model_validator(mode="after")
    def _one_way_to_parallelize(self) -> FiniteDifferenceOptions:
        if self.executor is not None and self.workers is not None:
            raise ValueError(
                "give either executor or workers, not both (workers=N is a shortcut for a "
                "process pool of N workers that gradopt owns)"
            )
        return self

    def make_evaluator(self) -> Evaluator:
        """The evaluator these options ask for."""
        if self.workers is not None:
            return PoolEvaluator(self.workers, self.vectorized)
        if self.executor is not None:
            return ExecutorEvaluator(self.executor, self.vectorized)
        return VectorizedEvaluator() if self.vectorized else SerialEvaluator()


class FiniteDifference(BaseProvider):
    """Gradient of a black-box function by finite differences.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``.
    method : {"central", "forward", "backward", "complex", "richardson"}, default "central"
        ``"forward"``/``"backward"``: one-sided, error O(h), d calls of f plus f(x)
        (reused when known: exactly d + 1 calls for value and gradient).
        ``"central"``: error O(h^2), 2d calls (+1 for the value).
        ``"complex"``: the complex step ``Im f(x + i h e_j) / h``, exact to rounding,
        d calls; needs a function that carries complex numbers through.
        ``"richardson"``: central differences at the steps ``h, h/2, ..., h/16``
        extrapolated to O(h^10), with an error estimate per component
        (:meth:`grad_and_error`); 10d calls (+1 for the value).
    step : float or sequence of float, optional
        Absolute step, one for all coordinates or one per coordinate. By default each
        method's theoretical optimum relative to ``max(1, |x_j|)`` is used:
        ``sqrt(eps)`` (one-sided), ``eps**(1/3)`` (central), 1e-20 (complex), about
        0.06 (richardson, the largest of its steps).
    executor : concurrent.futures.Executor, optional
        Evaluate the points of each gradient on this executor: a thread or process pool,
        or a Dask cluster's ``distributed.Client(...).get_executor()``. All points are
        submitted together, in about one chunk per worker; the gradient is bit-for-bit
        the serial one. ``value(x)`` is computed in this process. The executor stays
        the caller's to shut down.
    workers : int, optional
        Shortcut for a process pool of `workers` processes that gradopt owns: started at
        the first gradient, shut down by :meth:`close` (or leaving a ``with`` block, or
        garbage collection). f is sent to each worker once (with cloudpickle when plain
        pickle cannot, so lambdas and closures work); an f that cannot be sent gets an
        :class:`~gradopt.exceptions.InvalidInputError` naming it. Not with `executor`.
    vectorized : bool, default False
        ``fun`` takes a batch of points, shape ``(k, *x.shape)``, and returns ``k``
        values: one call per gradient (per chunk with an executor). ``value(x)`` calls it
        with a batch of one. ``nfev`` counts points, as scipy does.
    bounds : sequence of (lo, hi) pairs or scipy.optimize.Bounds, optional
        Keep every evaluation inside the box (None or inf for an open side). A step
        that would leave it turns one-sided: forward/backward steps turn around or
        shorten; central uses the second-order one-sided formula
        ``(-3 f(x) + 4 f(x+h) - f(x+2h)) / 2h`` (same number of calls, plus ``f(x)``).
        ``x`` outside the box is an error.

    Raises
    ------
    EvaluationError
        When f fails at a point on a worker: names the coordinate and the point, with
        the original exception as ``__cause__``, and is an instance of its type too. In
        this process the user's own exception propagates unchanged (plus a note naming
        the coordinate on Python >= 3.11).
    NonFiniteEvaluationError
        When f returns NaN or infinity at a point of the difference (any mode).

    Examples
    --------
    >>> import numpy as np
    >>> p = FiniteDifference(np.sin, method="central")
    >>> float(p.grad(1.0))  # cos(1)
    0.5403023058
    >>> fwd = FiniteDifference(lambda x: np.sum(x**2), method="forward")
    >>> _ = fwd.value_and_grad(np.ones(3))
    >>> fwd.nfev  # d + 1
    4
    >>> g, err = FiniteDifference(np.sin, method="richardson").grad_and_error(1.0)
    >>> bool(abs(g - np.cos(1.0)) <= err < 1e-13)
    True

    On two threads (bit-for-bit the serial gradient), and inside a box:

    >>> from concurrent.futures import ThreadPoolExecutor
    >>> def f(x):
    ...     return np.sum(x**2)
    >>> with ThreadPoolExecutor(2) as pool:
    ...     g = FiniteDifference(f, executor=pool).grad(np.ones(3))
    >>> bool(np.array_equal(g, FiniteDifference(f).grad(np.ones(3))))
    True
    >>> box = FiniteDifference(np.sqrt, bounds=[(0.0, 1.0)])  # never evaluates sqrt(x > 1)
    >>> float(box.grad(1.0))  # 1 / (2 sqrt(x)), from the one-sided formula at the bound
    0.5000000000
    """

    def __init__(
        self,
        fun: Callable[..., Any],
        method: Method = "central",
        step: float | Sequence[float] | None = None,
        *,
        executor: Executor | None = None,
        workers: int | None = None,
        vectorized: bool = False,
        bounds: Any = None,
    ) -> None:
        super().__init__(fun)
        given = {
            "method": method,
            "step": step,
            "executor": executor,
            "workers": workers,
            "vectorized": vectorized,
            "bounds": bounds,
        }
        self.options = parse_options(FiniteDifferenceOptions, given, "FiniteDifference")
        self.scheme: Scheme = METHODS[self.options.method]
        self._box = self.options.bounds
        self._evaluator = self.options.make_evaluator()

    @property
    def method(self) -> str:
        """The finite-difference method in use."""
        return self.options.method

    def steps(self, x: FloatArray) -> FloatArray:
        """The step ``h_j`` used for each coordinate at the 1-D point `x`."""
        step = self.options.step
        if step is None:
            return self.scheme.default_step(x)
        if np.size(step) not in (1, x.size):
            raise InvalidInputError(
                f"step has {np.size(step)} entries but x has {x.size} coordinates."
            )
        h: FloatArray = np.broadcast_to(np.asarray(step, dtype=np.float64), x.shape).copy()
        return h

    def _compute_grad(self, x: FloatArray, f0: float | None) -> tuple[Any, ...]:
        point, x = x, x.reshape(-1)  # the caller's shape (for f), and 1-D (for the steps)
        h = self.steps(x)
        scheme: Any = self.scheme
        if self._box is not None:
            scheme, h = self._box.fit(scheme, x, h)
        computed = None  # f(x), when this gradient computes it (then counted by the base)
        if scheme.uses_f0:
            if f0 is None:
                f0 = computed = self._compute_value(point)
            if not math.isfinite(f0):  # also when value(x) came first and is cached
                raise NonFiniteEvaluationError(
                    f"{self!r}: f(x) = {f0} at x = {x}; a one-sided difference needs it finite."
                )
        values = self._evaluate_points(x, h, scheme, point.shape)
        combine_with_error = getattr(scheme, "combine_with_error", None)
        if combine_with_error is None:
            return computed, scheme.combine(values, f0, h)
        grad, err = combine_with_error(values, f0, h, x=x)
        return computed, grad, err  # the error estimate is cached with the gradient

    def grad_and_error(self, x: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Return the gradient and an estimate of its absolute error per component.

        Only ``method="richardson"`` estimates its error. The estimate is cached with the
        gradient, so ``grad(x)`` then ``grad_and_error(x)`` costs one gradient. It assumes
        f is computed to a few units in the last place; noisier functions (inner solvers,
        simulations) get an estimate that is too small.
        """
        if not hasattr(self.scheme, "combine_with_error"):
            raise MissingCapabilityError(
                f"method={self.method!r} has no error estimate; use method='richardson'."
            )
        grad, err = self._grad_and_extra(x)
        return grad, np.reshape(err, grad.shape).copy()

    def _compute_value(self, x: FloatArray) -> float:
        if self._box is not None:
            self._box.arrays(x.reshape(-1))  # x must lie in the box
        if not self.options.vectorized:
            return self._call(x)  # always in this process, also with an executor
        return self._evaluator.value(self.fun, x.copy())

    def _evaluate_points(
        self,
        x: FloatArray,
        h: FloatArray,
        scheme: Any = None,
        shape: tuple[int, ...] | None = None,
    ) -> np.ndarray[Any, Any]:
        """Values of the user's function at every point of `scheme` (default: the method's).

        `x` is 1-D; each point is handed to f in `shape` (default: ``x.shape``; ``()``
        for a scalar x). The evaluator (serial, vectorized or on an executor) returns the
        values in the scheme's order, counted, checked to be finite, and complex for the
        complex step.
        """
        if scheme is None:
            scheme = self.scheme
            imaginary = scheme.imaginary
        else:  # ``imaginary`` is optional in a duck-typed scheme
            imaginary = bool(getattr(scheme, "imaginary", False))
        # _make is the cheapest way to build a named tuple (this runs once per gradient).
        shape = x.shape if shape is None else shape
        ev = Evaluation._make((self.fun, scheme, x, h, shape, imaginary))
        return self._evaluator.evaluate(ev, self._count)

    # ------------------------------------------------------------ worker lifetime
    def close(self) -> None:
        """Shut down the worker processes of ``workers=N`` (no-op otherwise).

        A given ``executor`` is the caller's and is left running. A later gradient
        starts a new pool.
        """
        self._evaluator.close()

    def __enter__(self) -> FiniteDifference:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
