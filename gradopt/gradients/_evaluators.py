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
:class:`~gradopt.exceptions.EvaluationError` (also an instance of the original's type)
with the original chained. Values are checked in :mod:`gradopt.gradients._checks`.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from typing import Any, Protocol

import numpy as np

from gradopt._typing import as_scalar_value
from gradopt.exceptions import EvaluationError, InvalidInputError
from gradopt.gradients._checks import (
    Evaluation,
    batch_values,
    finish,
    fmt,
    name_of,
    raise_remote,
    reraise_here,
)
from gradopt.gradients._remote import (
    ChunkResult,
    ShippedFunction,
    complex_warnings_as_errors,
    install_function,
    run_chunk,
    ship,
)

__all__ = [
    "Evaluator",
    "ExecutorEvaluator",
    "PoolEvaluator",
    "SerialEvaluator",
    "VectorizedEvaluator",
]


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
            reraise_here(exc, ev, f"while evaluating {ev.where(len(raw))}", imaginary)
            raise
        count(len(raw))
        return finish(raw, ev)

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
            what = f"a batch of {k} points ({ev.method} difference at x = {fmt(ev.x)})"
            reraise_here(exc, ev, f"while evaluating {what}", imaginary)
            raise
        count(k)
        return finish(batch_values(out, k), ev)

    def value(self, fun: Callable[..., Any], x: np.ndarray[Any, Any]) -> float:
        return as_scalar_value(batch_values(fun(x[np.newaxis]), 1)[0])


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
        return finish(self._gather(results, chunks, ev), ev)

    def _gather(
        self, results: list[ChunkResult], chunks: list[Any], ev: Evaluation
    ) -> list[Any] | np.ndarray[Any, Any]:
        start = 0
        for result, chunk in zip(results, chunks, strict=True):
            if result.failure is not None:
                raise_remote(result, ev, start, len(chunk), self.vectorized)
            start += len(chunk)
        if self.vectorized:
            return np.concatenate(
                [batch_values(r.values, len(c)) for r, c in zip(results, chunks, strict=True)]
            )
        return [v for r in results for v in r.values]

    def _failed(self, ev: Evaluation, exc: BaseException) -> EvaluationError:
        name = name_of(ev.fun)
        text = f"{type(exc).__name__}: {exc}"
        if "pickl" in text.lower() or "serializ" in text.lower():
            return EvaluationError(f"{name} could not be sent to the workers ({text}).")
        return EvaluationError(
            f"the executor failed while evaluating {name} for the {ev.method} "
            f"difference at x = {fmt(ev.x)} ({text})."
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
    name = name_of(fun)
    try:
        return ship(fun, name)
    except TypeError as exc:
        raise InvalidInputError(
            f"fun={name} cannot be sent to worker processes: it cannot be pickled ({exc}). "
            "Use a module-level function that holds no locks, open files or generators, "
            "or evaluate in threads (executor=ThreadPoolExecutor(...))."
        ) from exc
