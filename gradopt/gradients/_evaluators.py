"""Where the points of a finite difference are evaluated: serially, in a batch, or on workers.

A finite-difference scheme lays out all its points up front (they are independent), so an
evaluator may compute them in any order, anywhere, and return the values in order. The
gradient is then combined in the caller's process from the same values, so every evaluator
gives bit-for-bit the serial gradient (for a deterministic f).

- :class:`SerialEvaluator`: one call per point in this process (the default).
- :class:`VectorizedEvaluator`: one call of ``fun(batch)`` with all ``k`` points, shape
  ``(k, *x.shape)``, returning ``k`` values.
- :class:`ExecutorEvaluator`: any ``concurrent.futures.Executor`` (threads, processes,
  ``distributed.Client(...).get_executor()``); :class:`PoolEvaluator` is one with a process
  pool it owns.

Failures name the coordinate and the point. In this process the user's exception keeps its
type (a note is added on Python >= 3.11); from workers it becomes an
:class:`~gradopt.exceptions.EvaluationError` with the original chained.
"""

from __future__ import annotations

import cmath
import os
import sys
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from itertools import islice
from typing import Any, NamedTuple, Protocol

import numpy as np

from gradopt._typing import FloatArray, as_scalar_value
from gradopt.exceptions import (
    ComplexStepError,
    EvaluationError,
    InvalidInputError,
    NonFiniteEvaluationError,
    ObjectiveError,
)
from gradopt.gradients._remote import (
    ChunkResult,
    RemoteTraceback,
    ShippedFunction,
    UnpicklableError,
    complex_warnings_as_errors,
    install_function,
    run_chunk,
    ship,
)

__all__ = [
    "Evaluation",
    "Evaluator",
    "ExecutorEvaluator",
    "PoolEvaluator",
    "SchemeLike",
    "SerialEvaluator",
    "VectorizedEvaluator",
]


class SchemeLike(Protocol):
    """What an evaluator needs from a finite-difference scheme.

    Optional: ``name`` (for messages) and ``imaginary`` (complex step; False if absent).
    """

    def iter_points(self, x: FloatArray, h: FloatArray) -> Iterator[np.ndarray[Any, Any]]: ...

    def points(self, x: FloatArray, h: FloatArray) -> np.ndarray[Any, Any]: ...


class Evaluation(NamedTuple):
    """The points of one gradient: f, the scheme's layout at `x` with steps `h`.

    A named tuple: made once per gradient, so it must be cheap to create.
    """

    fun: Callable[..., Any]
    scheme: SchemeLike
    x: FloatArray
    h: FloatArray
    shape: tuple[int, ...]

    @property
    def imaginary(self) -> bool:
        """Whether the steps are imaginary (complex step)."""
        return bool(getattr(self.scheme, "imaginary", False))

    @property
    def method(self) -> str:
        """The scheme's name, for messages."""
        return str(getattr(self.scheme, "name", type(self.scheme).__name__))

    def point(self, index: int) -> np.ndarray[Any, Any]:
        """The `index`-th point, recomputed (for error messages only)."""
        return next(islice(self.scheme.iter_points(self.x, self.h), index, None))

    def where(self, index: int) -> str:
        """Name the coordinate and the point of evaluation `index`."""
        x, p = self.x, self.point(index)
        moved = np.flatnonzero(p != x)
        base = f"x = {_fmt(x)}"
        if moved.size != 1:
            return f"the point {_fmt(p)} of the {self.method} difference at {base}"
        j = int(moved[0])
        return (
            f"coordinate {j} (x[{j}] = {x[j].item()!r} stepped to {p[j].item()!r}) of the "
            f"{self.method} difference at {base}"
        )


class Evaluator(Protocol):
    """Evaluates the points of a gradient and single values of f."""

    def evaluate(self, ev: Evaluation, count: Callable[[int], None]) -> np.ndarray[Any, Any]:
        """Values at every point, in order, validated; calls counted through `count`."""
        ...

    def value(self, fun: Callable[..., Any], x: np.ndarray[Any, Any]) -> float:
        """``f(x)`` for one point (in the user's shape); one call of f."""
        ...

    def close(self) -> None:
        """Release workers the evaluator owns (none for most)."""
        ...


# ------------------------------------------------------------------------ in this process
class SerialEvaluator:
    """One call of f per point, in order, in this process."""

    def evaluate(self, ev: Evaluation, count: Callable[[int], None]) -> np.ndarray[Any, Any]:
        fun, shape, imaginary = ev.fun, ev.shape, ev.imaginary
        raw: list[Any] = []
        append = raw.append
        try:
            if imaginary:
                with complex_warnings_as_errors():
                    for p in ev.scheme.iter_points(ev.x, ev.h):
                        append(fun(p.reshape(shape)))
            else:  # the hot path for cheap functions: no context manager
                for p in ev.scheme.iter_points(ev.x, ev.h):
                    append(fun(p.reshape(shape)))
        except Exception as exc:
            count(len(raw) + 1)
            _reraise_here(exc, ev, f"while evaluating {ev.where(len(raw))}", imaginary)
            raise
        count(len(raw))
        return _finish(raw, ev)

    def value(self, fun: Callable[..., Any], x: np.ndarray[Any, Any]) -> float:
        return as_scalar_value(fun(x))

    def close(self) -> None:
        """Nothing to release."""


class VectorizedEvaluator(SerialEvaluator):
    """One call ``fun(batch)`` with every point; ``value(x)`` is a batch of one."""

    def evaluate(self, ev: Evaluation, count: Callable[[int], None]) -> np.ndarray[Any, Any]:
        points = ev.scheme.points(ev.x, ev.h)
        k = len(points)
        imaginary = ev.imaginary
        try:
            with complex_warnings_as_errors() if imaginary else nullcontext():
                out = ev.fun(points.reshape((k, *ev.shape)))
        except Exception as exc:
            count(k)
            what = f"a batch of {k} points ({ev.method} difference at x = {_fmt(ev.x)})"
            _reraise_here(exc, ev, f"while evaluating {what}", imaginary)
            raise
        count(k)
        return _finish(_batch_values(out, k), ev)

    def value(self, fun: Callable[..., Any], x: np.ndarray[Any, Any]) -> float:
        return as_scalar_value(_batch_values(fun(x[np.newaxis]), 1)[0])


# ------------------------------------------------------------------------ on workers
class ExecutorEvaluator:
    """Evaluate on any ``concurrent.futures.Executor``; ``value(x)`` runs here.

    All points of a gradient are submitted at once, as about one chunk per worker:
    per-task overhead (pickling, scheduling, a round trip) is paid once per worker
    rather than once per point, and with points of equal cost one chunk each is already
    the best balance (a gradient takes ``ceil(k / workers)`` evaluation times). Results
    are gathered in submission order, so the values are in the scheme's order.
    """

    def __init__(self, executor: Executor | None, vectorized: bool = False) -> None:
        self._given = executor
        self.vectorized = vectorized
        self._target: Callable[..., Any] | ShippedFunction | None = None

    def _executor(self, fun: Callable[..., Any]) -> Executor:
        assert self._given is not None
        if self._target is None:
            in_process = isinstance(self._given, ThreadPoolExecutor)
            self._target = fun if in_process else _ship_or_explain(fun)
        return self._given

    def evaluate(self, ev: Evaluation, count: Callable[[int], None]) -> np.ndarray[Any, Any]:
        executor = self._executor(ev.fun)
        points = ev.scheme.points(ev.x, ev.h)
        chunks = np.array_split(points, min(_worker_count(executor), len(points)))
        target = self._target
        assert target is not None
        portable = isinstance(target, ShippedFunction)
        args = (ev.shape, ev.imaginary, self.vectorized, portable)
        futures: list[Future[ChunkResult]] = []
        try:
            for chunk in chunks:
                futures.append(executor.submit(run_chunk, target, chunk, *args))
        except Exception as exc:
            for fut in futures:
                fut.cancel()
            wait(futures)
            raise self._failed(ev, exc) from exc
        wait(futures)  # every task finishes (or fails) before we return or raise
        results: list[ChunkResult] = []
        for fut in futures:
            try:
                results.append(fut.result())
            except Exception as exc:
                count(sum(r.calls for r in results))
                raise self._failed(ev, exc) from exc
        count(sum(r.calls for r in results))
        return _finish(self._gather(results, chunks, ev), ev)

    def _gather(
        self, results: list[ChunkResult], chunks: list[Any], ev: Evaluation
    ) -> list[Any] | np.ndarray[Any, Any]:
        start = 0
        for result, chunk in zip(results, chunks, strict=True):
            if result.failure is not None:
                _raise_remote(result, ev, start, len(chunk), self.vectorized)
            start += len(chunk)
        if self.vectorized:
            return np.concatenate(
                [_batch_values(r.values, len(c)) for r, c in zip(results, chunks, strict=True)]
            )
        return [v for r in results for v in r.values]

    def _failed(self, ev: Evaluation, exc: BaseException) -> EvaluationError:
        name = _name(ev.fun)
        text = f"{type(exc).__name__}: {exc}"
        if "pickl" in text.lower() or "serializ" in text.lower():
            return EvaluationError(f"{name} could not be sent to the workers ({text}).")
        return EvaluationError(
            f"the executor failed while evaluating {name} for the {ev.method} "
            f"difference at x = {_fmt(ev.x)} ({text})."
        )

    def value(self, fun: Callable[..., Any], x: np.ndarray[Any, Any]) -> float:
        ev = VectorizedEvaluator() if self.vectorized else SerialEvaluator()
        return ev.value(fun, x)

    def close(self) -> None:
        """A given executor belongs to the caller: it is left running."""


class PoolEvaluator(ExecutorEvaluator):
    """A process pool of `workers` processes that gradopt owns.

    Created at the first gradient; f is pickled once and installed in each worker by the
    pool's initializer, so tasks carry only the points. :meth:`close` (or garbage
    collection, or interpreter exit, through ``weakref.finalize``) shuts it down.
    """

    def __init__(self, workers: int, vectorized: bool = False) -> None:
        super().__init__(None, vectorized)
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def _executor(self, fun: Callable[..., Any]) -> Executor:
        if self._pool is None:
            shipped = _ship_or_explain(fun)
            assert shipped.payload is not None
            self._pool = ProcessPoolExecutor(
                self.workers,
                initializer=install_function,
                initargs=(shipped.token, shipped.payload),
            )
            self._target = ShippedFunction(shipped.token, shipped.name)
            self._finalizer = weakref.finalize(self, _shutdown, self._pool)
        return self._pool

    def evaluate(self, ev: Evaluation, count: Callable[[int], None]) -> np.ndarray[Any, Any]:
        try:
            return super().evaluate(ev, count)
        except EvaluationError as exc:
            if isinstance(exc.__cause__, BrokenProcessPool):
                self.close()  # a worker died: start afresh next time
            raise

    def close(self) -> None:
        """Shut the worker processes down (a later gradient starts a new pool)."""
        if self._finalizer is not None:
            self._finalizer()
        self._pool = self._finalizer = None


def _shutdown(pool: ProcessPoolExecutor) -> None:
    pool.shutdown(wait=True, cancel_futures=True)


# ------------------------------------------------------------------------ helpers
def _worker_count(executor: Executor) -> int:
    """Workers behind `executor`: pools' ``_max_workers``, a Dask client's threads, or CPUs."""
    n = getattr(executor, "_max_workers", None)
    if isinstance(n, int) and n > 0:
        return n
    client = getattr(executor, "_client", None)  # distributed's ClientExecutor
    if client is not None:
        try:
            return max(1, int(sum(client.nthreads().values())))
        except Exception:  # pragma: no cover - a client that cannot answer
            pass
    return os.cpu_count() or 1


def _ship_or_explain(fun: Callable[..., Any]) -> ShippedFunction:
    name = _name(fun)
    try:
        return ship(fun, name)
    except TypeError as exc:
        raise InvalidInputError(
            f"fun={name} cannot be sent to worker processes: it cannot be pickled ({exc}). "
            "Use a module-level function that holds no locks, open files or generators, "
            "or evaluate in threads (executor=ThreadPoolExecutor(...))."
        ) from exc


def _name(fun: Callable[..., Any]) -> str:
    name = getattr(fun, "__qualname__", None) or getattr(fun, "__name__", None)
    return repr(name) if name else repr(fun)


def _fmt(x: np.ndarray[Any, Any]) -> str:
    return np.array2string(x, threshold=12, edgeitems=3, separator=", ", max_line_width=10**9)


def _complex_step_error(exc: BaseException) -> ComplexStepError:
    return ComplexStepError(
        f"method='complex' failed: the function does not accept complex input "
        f"({type(exc).__name__}: {exc}). Write it with numpy operations that carry "
        "complex numbers through (no float(), math.*, abs() or assignment into real "
        "arrays), or use method='central'."
    )


def _reraise_here(exc: Exception, ev: Evaluation, note: str, imaginary: bool) -> None:
    """Raise a ComplexStepError for complex-step casts; else annotate the user's `exc`."""
    if imaginary and isinstance(exc, (TypeError, np.exceptions.ComplexWarning)):
        raise _complex_step_error(exc) from exc
    if sys.version_info >= (3, 11):
        exc.add_note(f"gradopt: raised by {_name(ev.fun)} {note}")


def _raise_remote(
    result: ChunkResult, ev: Evaluation, start: int, size: int, vectorized: bool
) -> None:
    exc = result.failure
    assert exc is not None
    if result.traceback:
        exc.__cause__ = RemoteTraceback(result.traceback)
    if ev.imaginary and isinstance(exc, (TypeError, np.exceptions.ComplexWarning)):
        raise _complex_step_error(exc) from exc
    kind = exc.kind if isinstance(exc, UnpicklableError) else type(exc).__name__
    if vectorized:
        where = f"a batch of points {start}..{start + size - 1} of the {ev.method} "
        where += f"difference at x = {_fmt(ev.x)}"
    else:
        where = ev.where(start + len(result.values))
    raise EvaluationError(f"{_name(ev.fun)} raised {kind} at {where}: {exc}") from exc


def _batch_values(out: Any, k: int) -> np.ndarray[Any, Any]:
    arr = np.asarray(out)
    if arr.shape not in ((k,), (k, 1)):
        raise ObjectiveError(
            f"a vectorized function must return {k} values for a batch of {k} points; "
            f"it returned an array of shape {arr.shape}."
        )
    return arr.reshape(k)


def _finish(raw: list[Any] | np.ndarray[Any, Any], ev: Evaluation) -> np.ndarray[Any, Any]:
    """Stack values, check the complex step kept its imaginary part and all are finite."""
    imaginary = ev.imaginary
    values = _as_values(raw, np.complex128 if imaginary else np.float64)
    if imaginary and not (
        np.iscomplexobj(raw) if isinstance(raw, np.ndarray) else any(map(np.iscomplexobj, raw))
    ):
        raise ComplexStepError(
            "method='complex' needs a function that carries complex numbers through, "
            "but this one returned real values for complex input (the imaginary part, "
            "which holds the derivative, was dropped). Use method='central'."
        )
    # A cheap screen first: a NaN or inf anywhere makes the sum (or dot product) non-finite;
    # so may an overflow, and then the exact check finds nothing wrong. Python's sum is the
    # fastest for a few values, numpy's dot for many.
    total = sum(raw) if len(raw) <= 16 else values.dot(values)
    if not cmath.isfinite(total) and not (finite := np.isfinite(values)).all():
        i = int(np.argmin(finite))
        raise NonFiniteEvaluationError(
            f"{_name(ev.fun)} returned {values[i]} at {ev.where(i)}; a finite difference "
            "needs finite values (is the point outside the function's valid range? "
            "FiniteDifference(..., bounds=...) keeps the steps inside a box)."
        )
    return values


def _as_values(
    raw: list[Any] | np.ndarray[Any, Any], dtype: type[np.generic]
) -> np.ndarray[Any, Any]:
    """Stack the outputs of f into a 1-D array, checking each is a scalar."""
    try:
        values = np.asarray(raw, dtype=dtype)
    except (TypeError, ValueError):
        values = np.empty(0)
    if values.shape != (len(raw),):
        if values.size == len(raw):
            return values.reshape(-1)
        for item in raw:  # find the offending value for the error message
            if np.iscomplexobj(item):
                item = np.real(item)
            as_scalar_value(item)
        raise ObjectiveError("the function must return a scalar at every point.")
    return values
