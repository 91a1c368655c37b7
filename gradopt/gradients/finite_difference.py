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
from gradopt._typing import ArrayLike, FloatArray, as_scalar_value
from gradopt.exceptions import (
    InvalidInputError,
    MissingCapabilityError,
    NonFiniteEvaluationError,
)
from gradopt.gradients._base import BaseProvider
from gradopt.gradients._bounds import Box, parse_bounds
from gradopt.gradients._checks import Evaluation, batch_values
from gradopt.gradients._evaluators import (
    Evaluator,
    ExecutorEvaluator,
    SerialEvaluator,
    VectorizedEvaluator,
    unpicklable_executor,
)
from gradopt.gradients._pool import PoolEvaluator
from gradopt.gradients._richardson import richardson_scheme
from gradopt.gradients._schemes import SCHEMES, Scheme
from gradopt.gradients._steps import check_imaginary_part, check_resolvable, fits_float32

__all__ = ["METHODS", "FiniteDifference"]

Method = Literal["forward", "backward", "central", "complex", "richardson"]

_EPS = float(np.finfo(np.float64).eps)

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
        if np.asarray(step).dtype.kind not in "iuf":  # no "0.1", no True
            raise ValueError(f"step must be a number or a sequence of numbers; got {step!r}")
        arr = np.asarray(step, dtype=np.float64)
        if arr.ndim > 1 or arr.size == 0:
            raise ValueError(f"step must be a scalar or a 1-D sequence; got shape {arr.shape}")
        if not np.all(np.isfinite(arr) & (arr > 0)):
            raise ValueError(f"step must be positive and finite; got {step!r}")
        return float(arr) if arr.ndim == 0 else tuple(arr.tolist())

    executor: Executor | None = None
    workers: int | None = None
    timeout: float | None = None
    vectorized: StrictBool = False
    bounds: Box | None = None

    @field_validator("timeout", mode="before")
    @classmethod
    def _positive_timeout(cls, timeout: Any) -> Any:
        if timeout is None:
            return None
        if isinstance(timeout, bool) or not isinstance(timeout, int | float | np.number):
            raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
        if not (math.isfinite(timeout) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
        return float(timeout)

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
        if self.timeout is not None and self.executor is None and self.workers is None:
            raise ValueError(
                "timeout needs workers=N or executor=...: an evaluation running in this "
                "process cannot be stopped from outside it (workers=1 runs f in one worker "
                "process, which can)"
            )
        return self

    def __getstate__(self) -> dict[Any, Any]:
        if self.executor is not None:
            raise TypeError(unpicklable_executor(self.executor))
        return super().__getstate__()

    def make_evaluator(self) -> Evaluator:
        """The evaluator these options ask for."""
        if self.workers is not None:
            return PoolEvaluator(self.workers, self.vectorized, self.timeout)
        if self.executor is not None:
            return ExecutorEvaluator(self.executor, self.vectorized, self.timeout)
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
        ``"richardson"``: central differences at five steps from ``h`` down to
        ``h / 13`` extrapolated to O(h^10), with an error estimate per component
        (:meth:`grad_and_error`); 10d calls (+1 for the value) when the table converges,
        10 more for each component (and round) whose table has not, at smaller steps.
    step : float or sequence of float, optional
        Absolute step, one for all coordinates or one per coordinate. The difference is
        divided by the step actually taken, ``(x + h) - x``. A step that leaves fewer
        than 64 units in the last place of ``x_j`` between the points is an error. By
        default each method's theoretical optimum relative to ``max(1, |x_j|)`` is
        used: ``sqrt(eps)`` (one-sided), ``eps**(1/3)`` (central), 1e-20 (complex), with
        the ``eps`` of f's output (float32 output is detected and gets larger steps);
        richardson starts at 1/16 whatever ``x`` (the largest step of its ladder) and
        goes on to smaller steps where its table does not converge.
    executor : concurrent.futures.Executor, optional
        Evaluate the points of each gradient on this executor: a thread or process pool,
        or a Dask cluster's ``distributed.Client(...).get_executor()``. All points are
        submitted together, in about one chunk per worker; the gradient is bit-for-bit
        the serial one. ``value(x)`` is computed in this process (on the executor
        under a `timeout`). The executor stays the caller's to shut down.
    workers : int, optional
        Shortcut for a process pool that gradopt owns, of ``min(workers, points per
        gradient, CPUs this process may use)`` processes (a larger `workers` is clamped,
        so ``workers=10**6`` starts as many as there are CPUs): started at the first
        evaluation, when every worker has answered (else all are stopped and an
        :class:`~gradopt.exceptions.EvaluationError` says why), and stopped by
        :meth:`close` (or leaving a ``with`` block, garbage collection, interpreter exit,
        a timeout or Ctrl-C). f is sent to each worker once (with cloudpickle when plain
        pickle cannot, so lambdas and closures work); an f that cannot be sent gets an
        :class:`~gradopt.exceptions.InvalidInputError` naming it. Not with `executor`.
        A pickled provider leaves the pool behind; the copy starts its own.
    timeout : float, optional
        Seconds one evaluation of f may take on the workers (needs `workers` or
        `executor`; refused without them, since an evaluation in this process cannot be
        stopped: use ``workers=1``). Each point is then sent as a task of its own, and
        ``value(x)`` runs on the workers too. An evaluation past it raises
        :class:`~gradopt.exceptions.EvaluationTimeoutError` naming the coordinate and
        the point; with `workers`, the pool is stopped (the hung worker terminated,
        with any program it started) and the next evaluation starts a new one. A thread,
        or a process of your own executor, cannot be stopped and keeps running.
    vectorized : bool, default False
        ``fun`` takes a batch of points, shape ``(k, *x.shape)``, and returns ``k``
        values: one call per gradient (per chunk with an executor). ``value(x)`` calls it
        with a batch of one. ``nfev`` counts points, as scipy does.
    bounds : sequence of (lo, hi) pairs or scipy.optimize.Bounds, optional
        Keep every evaluation inside the box (None or inf for an open side). A step
        that would leave it shortens or turns: forward/backward steps turn around or
        shorten; central shortens to the smaller room on either side, or where that
        room is too small uses the second-order one-sided formula
        ``(-3 f(x) + 4 f(x+h) - f(x+2h)) / 2h`` (same number of calls, plus ``f(x)``);
        richardson shortens its ladder. ``x`` outside the box is an error, and so is
        a box too narrow for a step of 64 units in the last place of ``x_j``.

    Raises
    ------
    EvaluationError
        When f fails at a point on a worker: names the coordinate and the point, with
        the original exception as ``__cause__``, and is an instance of its type too. In
        this process the user's own exception propagates unchanged (plus a note naming
        the coordinate on Python >= 3.11).
    NonFiniteEvaluationError
        When f returns NaN or infinity at a point of the difference (any mode).
    InvalidInputError
        When the step actually taken is too small to mean anything (see `step`).
    ComplexStepError
        With ``method="complex"``, when f drops imaginary parts: it refuses complex
        input, returns real values, or returns values whose imaginary part is exactly 0
        at every point while f changes along x at first order (checked with two real
        evaluations, four when f changes at all, only when the whole gradient came out
        exactly 0).

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
    >>> bool(abs(g - np.cos(1.0)) <= err < 1e-12)
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
        timeout: float | None = None,
        vectorized: bool = False,
        bounds: Any = None,
    ) -> None:
        super().__init__(fun)
        given = {
            "method": method,
            "step": step,
            "executor": executor,
            "workers": workers,
            "timeout": timeout,
            "vectorized": vectorized,
            "bounds": bounds,
        }
        self.options = parse_options(FiniteDifferenceOptions, given, "FiniteDifference")
        self.scheme: Scheme = METHODS[self.options.method]
        self._eps: float | None = None  # machine epsilon of f's output, once known
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
            return self.scheme.default_step(x, self._eps or _EPS)
        if np.size(step) not in (1, x.size):
            raise InvalidInputError(
                f"step has {np.size(step)} entries but x has {x.size} coordinates."
            )
        h: FloatArray = np.broadcast_to(np.asarray(step, dtype=np.float64), x.shape).copy()
        return h

    def _compute_grad(self, x: FloatArray, f0: float | None) -> tuple[Any, ...]:
        point, x = x, x.reshape(-1)  # the caller's shape (for f), and 1-D (for the steps)
        known = f0 is not None
        scheme, h = self._layout(x)
        f0, seen = self._f0(point, scheme, f0)
        values = self._evaluate_points(x, h, scheme, point.shape)
        imaginary = bool(getattr(scheme, "imaginary", False))
        if self._eps is None and not imaginary:
            # f's output precision, once: values that all fit float32 exactly (as float32
            # output does, and float64 output almost never) make f's dtype worth a look.
            self._eps = _EPS
            if fits_float32(values):
                if seen is None:
                    value, seen = self._probe(point)
                    if f0 is None:
                        f0 = value  # returned below, so counted by BaseProvider
                    else:
                        self._count(1)
                self._eps = max(seen, _EPS)
            if self._eps > _EPS and self.options.step is None:
                scheme, h = self._layout(x)  # steps sized for f's precision
                f0, _ = self._f0(point, scheme, f0)
                values = self._evaluate_points(x, h, scheme, point.shape)
        if imaginary and not np.any(values.imag):

            def value_at(p: FloatArray) -> float:
                self._count(1)
                return self._compute_value(p.reshape(point.shape))

            check_imaginary_part(x, values, value_at, self._box)
        computed = None if known else f0  # f(x) if this gradient called f for it
        extrapolate = getattr(scheme, "extrapolate", None)
        if extrapolate is None:
            return computed, scheme.combine(values, f0, h)

        def evaluate(sub: Any) -> np.ndarray[Any, Any]:
            return self._evaluate_points(x, h, sub, point.shape)

        grad, err = extrapolate(x, h, values, evaluate, eps=self._eps or _EPS)
        return computed, grad, err  # the error estimate is cached with the gradient

    def _layout(self, x: FloatArray) -> tuple[Any, FloatArray]:
        """The scheme (adjusted to the box) and the steps actually taken at `x`."""
        given = self.steps(x)
        scheme: Any = self.scheme
        h = given
        if self._box is not None:
            scheme, h = self._box.fit(scheme, x, given)
        if not getattr(scheme, "imaginary", False):
            h = scheme.taken(x, h)
            check_resolvable(x, given, h, self._box, self.options.step)
        return scheme, h

    def _f0(
        self, x: FloatArray, scheme: Any, f0: float | None
    ) -> tuple[float | None, float | None]:
        """``f(x)`` if the scheme needs it, and the epsilon of f's output if f was called.

        `x` is in the caller's shape; a call of f made here is counted by the caller.
        """
        seen = None
        if not scheme.uses_f0:
            return f0, seen
        if f0 is None:
            f0, seen = self._probe(x) if self._eps is None else (self._compute_value(x), None)
        if not math.isfinite(f0):  # also when value(x) came first and is cached
            raise NonFiniteEvaluationError(
                f"{self!r}: f(x) = {f0} at x = {x}; a one-sided difference needs it finite."
            )
        return f0, seen

    def _probe(self, x: FloatArray) -> tuple[float, float]:
        """One call of f at `x` (in this process, in the caller's shape; counted by the
        caller): its value and its output's epsilon."""
        if self._box is not None:
            self._box.arrays(x.reshape(-1))
        shaped = x.copy()
        if self.options.vectorized:
            raw = batch_values(self.fun(shaped[np.newaxis]), 1)[0]
        else:
            raw = self.fun(shaped)
        value = as_scalar_value(raw, "the function", x)  # what f returned, as returned
        out = np.asarray(raw)
        eps = float(np.finfo(out.dtype).eps) if out.dtype.kind == "f" else _EPS
        return value, eps

    def grad_and_error(self, x: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Return the gradient and an estimate of its absolute error per component.

        Only ``method="richardson"`` estimates its error. The estimate is cached with the
        gradient, so ``grad(x)`` then ``grad_and_error(x)`` costs one gradient. It assumes
        f is computed to a few units in the last place; noisier functions (inner solvers,
        simulations) get an estimate that is too small.
        """
        if not hasattr(self.scheme, "extrapolate"):
            raise MissingCapabilityError(
                f"method={self.method!r} has no error estimate; use method='richardson'."
            )
        grad, err = self._grad_and_extra(x)
        return grad, np.reshape(err, grad.shape).copy()

    def _compute_value(self, x: FloatArray) -> float:
        if self._box is not None:
            self._box.arrays(x.reshape(-1))  # x must lie in the box
        options = self.options
        if not options.vectorized and options.timeout is None:
            return self._call(x)  # in this process, also with an executor
        # on the workers under a timeout; a batch of one when vectorized
        points = getattr(self.scheme, "evaluations_per_gradient", lambda d: d)(x.size)
        return self._evaluator.value(self.fun, x.copy(), points)

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
