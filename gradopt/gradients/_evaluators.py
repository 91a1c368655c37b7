"""Where the points of a finite difference are evaluated: serially, in a batch, or on workers.

A finite-difference scheme lays out all its points up front (they are independent), so an
evaluator may compute them in any order, anywhere, and return the values in order. The
gradient is then combined in the caller's process from the same values, so every evaluator
gives bit-for-bit the serial gradient (for a deterministic f).

- :class:`SerialEvaluator`: one call per point in this process (the default).
- :class:`VectorizedEvaluator`: one call of ``fun(batch)`` with all ``k`` points, shape
  ``(k, *x.shape)``, returning ``k`` values.
- :class:`ExecutorEvaluator`: any ``concurrent.futures.Executor`` (threads, processes,
  ``distributed.Client(...).get_executor()``); :class:`~gradopt.gradients._pool.PoolEvaluator`
  is one with a process pool that gradopt owns.

Failures name the coordinate and the point. In this process the user's exception keeps its
type (a note is added on Python >= 3.11); from workers it becomes an
:class:`~gradopt.exceptions.EvaluationError` (also an instance of the original's type,
with its attributes) with the original chained. Values are checked in
:mod:`gradopt.gradients._checks`, the same way in every mode.

With a ``timeout``, each point goes to the workers as its own task, at most one per
worker at a time, so each evaluation has its own clock from the moment it is handed to a
free worker; ``value(x)`` then runs on the workers too. An evaluation past its time raises
:class:`~gradopt.exceptions.EvaluationTimeoutError`.
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from itertools import pairwise
from typing import Any, Protocol

import numpy as np

from gradopt.exceptions import EvaluationError, EvaluationTimeoutError, InvalidInputError
from gradopt.gradients._checks import (
    Evaluation,
    batch_values,
    chunk_where,
    finish,
    fmt,
    name_of,
    raise_remote,
    reraise_here,
)
from gradopt.gradients._groups import Groups
from gradopt.gradients._remote import (
    ChunkResult,
    ShippedFunction,
    complex_warnings_as_errors,
    run_chunk,
    ship,
)

__all__ = [
    "Evaluator",
    "ExecutorEvaluator",
    "SerialEvaluator",
    "VectorizedEvaluator",
    "ship_or_explain",
    "unpicklable_executor",
]


class Evaluator(Protocol):
    """Evaluates the points of a gradient and single values of f."""

    def evaluate(self, ev: Evaluation, count: Callable[[int], None]) -> np.ndarray[Any, Any]:
        """Values at every point, in order, validated; calls counted through `count`."""
        ...

    def value(
        self,
        fun: Callable[..., Any],
        x: np.ndarray[Any, Any],
        points: int = 1,
        vector: bool = False,
    ) -> Any:
        """What ``f(x)`` returns for one point (in the user's shape), unchecked; one call.

        `points` is the number of points of a gradient at `x`, for sizing a pool that
        this call may have to start; `vector` says f returns a 1-D array of outputs.
        """
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
                    for p in ev.scheme.iter_points(ev.x, ev.h, ev.groups):
                        append(fun(p.reshape(shape)))
            else:  # the hot path for cheap functions: no context manager
                for p in ev.scheme.iter_points(ev.x, ev.h, ev.groups):
                    append(fun(p.reshape(shape)))
        except Exception as exc:
            count(len(raw) + 1)
            reraise_here(exc, ev, f"while evaluating {ev.where(len(raw))}", imaginary)
            raise
        count(len(raw))
        return finish(raw, ev)

    def value(
        self,
        fun: Callable[..., Any],
        x: np.ndarray[Any, Any],
        points: int = 1,
        vector: bool = False,
    ) -> Any:
        return fun(x)

    def close(self) -> None:
        """Nothing to release."""


class VectorizedEvaluator(SerialEvaluator):
    """One call ``fun(batch)`` with every point; ``value(x)`` is a batch of one."""

    def evaluate(self, ev: Evaluation, count: Callable[[int], None]) -> np.ndarray[Any, Any]:
        points = ev.scheme.points(ev.x, ev.h, ev.groups)
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
        return finish(batch_values(out, k, ev.vector), ev)

    def value(
        self,
        fun: Callable[..., Any],
        x: np.ndarray[Any, Any],
        points: int = 1,
        vector: bool = False,
    ) -> Any:
        return batch_values(fun(x[np.newaxis]), 1, vector)[0]


# ------------------------------------------------------------------------ on workers
class ExecutorEvaluator:
    """Evaluate on any ``concurrent.futures.Executor``; ``value(x)`` runs here.

    All points of a gradient are submitted at once, as about one chunk per worker:
    per-task overhead (pickling, scheduling, a round trip) is paid once per worker
    rather than once per point, and with points of equal cost one chunk each is already
    the best balance (a gradient takes ``ceil(k / workers)`` evaluation times). Results
    are put back in the scheme's order.

    With a `timeout` (seconds), each point is a task of its own, at most one per worker
    in flight, and ``value(x)`` runs on the executor too. A task past its time raises
    :class:`~gradopt.exceptions.EvaluationTimeoutError`; a thread, or a process of an
    executor gradopt does not own, cannot be stopped and runs on.
    """

    _after_timeout = (
        "the evaluation may still be running on your executor (gradopt cannot stop a "
        "thread, nor a process it does not own)"
    )

    def __init__(
        self, executor: Executor | None, vectorized: bool = False, timeout: float | None = None
    ) -> None:
        self._given = executor
        self.vectorized = vectorized
        self.timeout = timeout
        self._target: Callable[..., Any] | ShippedFunction | None = None

    # ---------------------------------------------------------------- the interface
    def evaluate(self, ev: Evaluation, count: Callable[[int], None]) -> np.ndarray[Any, Any]:
        points = ev.scheme.points(ev.x, ev.h, ev.groups)
        return finish(self._run(ev, points, count, len(points)), ev)

    def value(
        self,
        fun: Callable[..., Any],
        x: np.ndarray[Any, Any],
        points: int = 1,
        vector: bool = False,
    ) -> Any:
        if self.timeout is None:
            here = VectorizedEvaluator() if self.vectorized else SerialEvaluator()
            return here.value(fun, x, points, vector)
        flat = np.asarray(x, dtype=np.float64).reshape(-1)
        at_x = (fun, _AtX(), flat, np.zeros_like(flat), Groups.each(0), x.shape, False, vector)
        raw = self._run(Evaluation._make(at_x), flat[np.newaxis], lambda n: None, points)
        return raw[0]  # counted and checked by the caller

    def close(self) -> None:
        """A given executor belongs to the caller: it is left running."""

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError(unpicklable_executor(self._given))

    # ------------------------------------------------------------ for subclasses
    @contextmanager
    def _session(self, fun: Callable[..., Any], points: int) -> Iterator[tuple[Executor, int]]:
        """The executor and its number of workers, for one evaluation of `points` points."""
        assert self._given is not None
        if self._target is None:
            in_process = isinstance(self._given, ThreadPoolExecutor)
            self._target = fun if in_process else ship_or_explain(fun)
        yield self._given, _worker_count(self._given)

    def _abandon(self, executor: Executor) -> None:
        """After a timeout or an interrupt: stop what can be stopped (here, nothing)."""

    def _failed(self, ev: Evaluation, exc: BaseException, executor: Executor) -> EvaluationError:
        name = name_of(ev.fun)
        text = f"{type(exc).__name__}: {exc}"
        if "pickl" in text.lower() or "serializ" in text.lower():
            return EvaluationError(f"{name} could not be sent to the workers ({text}).")
        return EvaluationError(
            f"the executor failed while evaluating {name} for the {ev.method} "
            f"difference at x = {fmt(ev.x)} ({text})."
        )

    # ------------------------------------------------------------ the evaluation
    def _run(
        self, ev: Evaluation, points: np.ndarray[Any, Any], count: Callable[[int], None], hint: int
    ) -> list[Any] | np.ndarray[Any, Any]:
        """Values at `points` in order (unchecked), or the error naming the point."""
        with self._session(ev.fun, hint) as (executor, width):
            results = self._dispatch(executor, width, ev, points, count)
        ordered = [results[start] for start in sorted(results)]
        if not self.vectorized:
            return [v for _, _, r in ordered for v in r.values]
        parts = [batch_values(r.values, stop - start, ev.vector) for start, stop, r in ordered]
        arrays = [p for p in parts if isinstance(p, np.ndarray)]
        if len(arrays) == len(parts) and len({a.dtype for a in arrays}) == 1:
            return np.concatenate(arrays)
        return [v for part in parts for v in part]  # checked one by one

    def _chunks(self, k: int, width: int) -> deque[tuple[int, int]]:
        """``(start, stop)`` of each task: one point each under a timeout, else one chunk
        per worker."""
        if self.timeout is not None and not self.vectorized:
            return deque((i, i + 1) for i in range(k))
        n = min(width, k)
        q, r = divmod(k, n)  # as np.array_split: the first r chunks hold one more
        edges = [0]
        for i in range(n):
            edges.append(edges[-1] + q + (i < r))
        return deque(pairwise(edges))

    def _dispatch(
        self,
        executor: Executor,
        width: int,
        ev: Evaluation,
        points: np.ndarray[Any, Any],
        count: Callable[[int], None],
    ) -> dict[int, tuple[int, int, ChunkResult]]:
        """Run the tasks, at most `width` at a time; every call of f is counted.

        Returns the results by start index. A failure of f stops the submission of
        further tasks; those running finish, then it is raised (the first in order).
        A timeout or an interrupt cancels what has not started and abandons the rest.
        """
        target = self._target
        assert target is not None
        args = (ev.shape, ev.imaginary, self.vectorized, isinstance(target, ShippedFunction))
        timeout = self.timeout
        todo = self._chunks(len(points), width)
        running: dict[Future[ChunkResult], tuple[int, int, float]] = {}
        results: dict[int, tuple[int, int, ChunkResult]] = {}
        broken: BaseException | None = None
        try:
            while todo or running:
                while todo and broken is None and len(running) < width:
                    start, stop = todo.popleft()
                    try:
                        fut = executor.submit(run_chunk, target, points[start:stop], *args)
                    except Exception as exc:
                        broken = exc
                        break
                    deadline = math.inf if timeout is None else time.monotonic() + timeout
                    running[fut] = (start, stop, deadline)
                if not running:
                    break
                limit = None
                if timeout is not None:
                    limit = max(0.0, min(d for *_, d in running.values()) - time.monotonic())
                done, _ = wait(running, timeout=limit, return_when=FIRST_COMPLETED)
                for fut in done:
                    start, stop, _ = running.pop(fut)
                    try:
                        result = fut.result()
                    except Exception as exc:
                        broken = broken or exc
                        continue
                    results[start] = (start, stop, result)
                    if result.failure is not None:
                        todo.clear()
                if not done and timeout is not None:
                    now = time.monotonic()
                    late = [
                        task for fut, task in running.items() if task[2] <= now and not fut.done()
                    ]
                    if late:
                        raise self._timed_out(ev, *min(late)[:2])
        except BaseException:  # a timeout, KeyboardInterrupt: stop now, count what ran
            for fut in running:
                fut.cancel()
            count(_calls(results) + sum(e - s for s, e, _ in running.values()))
            self._abandon(executor)
            raise
        count(_calls(results))
        if broken is not None:
            raise self._failed(ev, broken, executor) from broken
        for start, stop, result in sorted(results.values(), key=lambda r: r[0]):
            if result.failure is not None:
                raise_remote(result, ev, start, stop - start, self.vectorized)
        return results

    def _timed_out(self, ev: Evaluation, start: int, stop: int) -> EvaluationTimeoutError:
        return EvaluationTimeoutError(
            f"{name_of(ev.fun)} did not return within timeout={self.timeout:g} s at "
            f"{chunk_where(ev, start, stop)}; {self._after_timeout}."
        )


# ------------------------------------------------------------------------ helpers
class _AtX:
    """The "scheme" of ``value(x)``: the single point x itself."""

    name = "value"
    imaginary = False

    def iter_points(self, x: Any, h: Any, groups: Groups) -> Iterator[np.ndarray[Any, Any]]:
        yield x.copy()

    def points(self, x: Any, h: Any, groups: Groups) -> np.ndarray[Any, Any]:
        batch: np.ndarray[Any, Any] = np.asarray(x)[np.newaxis].copy()
        return batch


def _calls(results: dict[int, tuple[int, int, ChunkResult]]) -> int:
    return sum(r.calls for *_, r in results.values())


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


def ship_or_explain(fun: Callable[..., Any]) -> ShippedFunction:
    name = name_of(fun)
    try:
        return ship(fun, name)
    except TypeError as exc:
        raise InvalidInputError(
            f"fun={name} cannot be sent to worker processes: it cannot be pickled ({exc}). "
            "Use a module-level function that holds no locks, open files or generators, "
            "or evaluate in threads (executor=ThreadPoolExecutor(...))."
        ) from exc


def unpicklable_executor(executor: Executor | None) -> str:
    """Why a provider evaluating on the caller's `executor` cannot be pickled."""
    return (
        f"a FiniteDifference with executor={type(executor).__name__}(...) cannot be "
        "pickled: the executor is yours and holds threads or processes that do not "
        "travel. Pickle a provider made without it (or with workers=N, whose pool is "
        "left behind and started afresh by the copy) and give the copy its own executor."
    )
