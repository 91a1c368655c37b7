"""The process pool behind ``FiniteDifference(workers=N)``: sized, started safely, stoppable.

:class:`PoolEvaluator` is the executor evaluator with a pool of its own, an
:class:`OwnedPool`, which wraps a :class:`~concurrent.futures.ProcessPoolExecutor` and adds what
the executor lacks:

- **A size with a ceiling.** :func:`pool_size` caps the request at the points of one
  gradient (more workers would sit idle) and at :func:`cpu_ceiling`, the CPUs this process
  may run on (``workers=10**6`` gets that many, not a fork storm).
- **A safe start.** The pool counts as started only when every worker has answered its
  first task (:func:`~gradopt.gradients._remote.worker_ready`). If one cannot be started
  (``fork`` fails, f cannot be loaded on the worker, start-up takes over a minute), every
  process already started is stopped before the error is raised: no half-started pool.
- **A stop that always works.** :meth:`OwnedPool.stop` lets idle workers exit on their
  own, then terminates the rest (SIGTERM, then SIGKILL, to each worker's process group, so
  programs f started go too). It does not wait for hung evaluations. It runs on
  :meth:`close`, on a timeout, on KeyboardInterrupt, when the owner is collected, and at
  interpreter exit *before* ``concurrent.futures`` joins its threads, so exit never hangs
  behind a hung worker.

This relies on two private details of CPython: ``ProcessPoolExecutor._processes`` (the
worker processes; Python 3.14 exposes ``terminate_workers`` for the same purpose) and
``threading._register_atexit`` (the hook ``concurrent.futures`` itself uses).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing.context import BaseContext
from typing import Any

from gradopt.exceptions import EvaluationError, InvalidInputError
from gradopt.gradients._checks import Evaluation, fmt, name_of
from gradopt.gradients._evaluators import ExecutorEvaluator, ship_or_explain
from gradopt.gradients._remote import (
    FunctionLoadError,
    ShippedFunction,
    start_worker,
    worker_ready,
)

__all__ = ["OwnedPool", "PoolEvaluator", "cpu_ceiling", "mp_context", "pool_size"]

START_TIMEOUT = 60.0  # seconds for every worker of a new pool to answer
GRACE = 5.0  # seconds idle workers get to exit on their own when the pool is closed
TERM_GRACE = 1.0  # seconds between SIGTERM and SIGKILL for workers that must be stopped


def cpu_ceiling() -> int:
    """The most workers a pool may have: the CPUs this process may run on.

    ``os.process_cpu_count()`` (Python >= 3.13), else the scheduler's affinity mask, else
    ``os.cpu_count()``. More processes than CPUs only compete for them; a function that
    waits (on I/O, a remote service, an external program) is better served by threads:
    ``executor=ThreadPoolExecutor(n)``, which has no such ceiling.
    """
    count = getattr(os, "process_cpu_count", None)
    if count is not None:
        n = count()
    elif hasattr(os, "sched_getaffinity"):
        n = len(os.sched_getaffinity(0))
    else:  # pragma: no cover - macOS and Windows on Python < 3.13
        n = os.cpu_count()
    return max(1, n or 1)


def pool_size(workers: int, points: int) -> int:
    """Processes for ``workers=N`` and `points` evaluations per gradient (at least 1)."""
    return max(1, min(workers, points, cpu_ceiling()))


def mp_context() -> BaseContext:
    """The multiprocessing context pools are started with (the platform's default)."""
    return multiprocessing.get_context()


class OwnedPool:
    """A started process pool of `size` workers with `fun` installed in each.

    Raises whatever stopped the start (after stopping every process it had started):
    ``OSError`` from the operating system, :class:`TimeoutError`,
    ``BrokenProcessPool`` if a worker died, or
    :class:`~gradopt.gradients._remote.FunctionLoadError` if f could not be loaded.
    """

    def __init__(self, size: int, fun: ShippedFunction) -> None:
        assert fun.payload is not None
        context = mp_context()
        self.size = size
        self._lock = threading.Lock()
        self._busy = 0
        self._stopped = False
        self.executor = ProcessPoolExecutor(
            size,
            mp_context=context,
            initializer=start_worker,
            initargs=(fun.token, fun.payload, context.Barrier(size)),
        )
        self._processes: list[Any] = []
        self._manager: threading.Thread | None = None
        try:
            ready = [self.executor.submit(worker_ready, START_TIMEOUT) for _ in range(size)]
            _, late = wait(ready, timeout=START_TIMEOUT + 5.0)
            if late:
                raise TimeoutError(f"the workers did not all start within {START_TIMEOUT:.0f} s")
            for fut in ready:
                fut.result()
        except BaseException:
            self.stop(grace=0.0)
            raise
        self._remember_internals()
        _register(self)

    @contextmanager
    def using(self) -> Iterator[ProcessPoolExecutor]:
        """Mark the pool busy while evaluations run on it (a busy pool is not waited for)."""
        with self._lock:
            self._busy += 1
        try:
            yield self.executor
        finally:
            with self._lock:
                self._busy -= 1

    @property
    def busy(self) -> bool:
        """Whether an evaluation is running on the pool now."""
        return self._busy > 0

    def close(self) -> None:
        """Stop the pool: idle workers exit on their own, busy ones are terminated."""
        self.stop(grace=0.0 if self.busy else GRACE)

    def stop(self, grace: float) -> None:
        """Shut down; workers still alive after `grace` seconds are terminated. Idempotent."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        _LIVE.discard(self)
        self._remember_internals()
        processes = self._processes
        if grace <= 0:
            _signal(processes, _TERM)  # before shutdown: nothing waits for their results
        self.executor.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + max(grace, 0.0)
        for p in processes:
            p.join(max(0.0, deadline - time.monotonic()))
        if any(p.is_alive() for p in processes):
            _signal(processes, _TERM)
            deadline = time.monotonic() + TERM_GRACE
            for p in processes:
                p.join(max(0.0, deadline - time.monotonic()))
        _signal(processes, _KILL)  # stragglers, and programs f left in the workers' groups
        for p in processes:
            p.join()
        if self._manager is not None:  # it notices the dead workers and returns
            self._manager.join(START_TIMEOUT)

    def _remember_internals(self) -> None:
        """Keep the worker processes and manager thread: ``shutdown`` drops them."""
        processes = getattr(self.executor, "_processes", None)
        if processes:
            self._processes = list(processes.values())
        manager = getattr(self.executor, "_executor_manager_thread", None)
        if manager is not None:
            self._manager = manager


class PoolEvaluator(ExecutorEvaluator):
    """A process pool of up to `workers` processes that gradopt owns.

    Started at the first evaluation, with ``min(workers, points per gradient, CPUs)``
    processes (:func:`~gradopt.gradients._pool.pool_size`); f is pickled once and
    installed in each worker as it starts, so tasks carry only the points. The pool is
    stopped, hung workers included, by :meth:`close`, a timeout, an interrupt, garbage
    collection or interpreter exit, and a later evaluation starts a new one. Pickled
    without its pool (a copy starts its own).
    """

    _after_timeout = "the worker processes were stopped, and the next evaluation starts a new pool"

    def __init__(self, workers: int, vectorized: bool = False, timeout: float | None = None):
        super().__init__(None, vectorized, timeout)
        self.workers = workers
        self._pool: OwnedPool | None = None
        self._shipped: ShippedFunction | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._lock = threading.Lock()

    @contextmanager
    def _session(self, fun: Callable[..., Any], points: int) -> Iterator[tuple[Executor, int]]:
        pool = self._start(fun, points)
        with pool.using() as executor:
            yield executor, pool.size

    def _start(self, fun: Callable[..., Any], points: int) -> OwnedPool:
        """The running pool, started (or grown, for more points than it has workers)."""
        with self._lock:
            want = pool_size(self.workers, points)
            pool = self._pool
            if pool is not None and pool.size < want and not pool.busy:
                self._release(pool, grace=True)
                pool = None
            if pool is not None:
                return pool
            if self._shipped is None:
                self._shipped = ship_or_explain(fun)
            shipped = self._shipped
            try:
                pool = OwnedPool(want, shipped)
            except FunctionLoadError as exc:
                raise InvalidInputError(
                    f"fun={shipped.name} could not be loaded in a worker process ({exc}). "
                    "The workers must be able to import the module it is defined in."
                ) from None
            except Exception as exc:
                raise EvaluationError(
                    f"could not start a pool of {want} worker processes for {shipped.name} "
                    f"({type(exc).__name__}: {exc}); every process it had started was stopped."
                ) from exc
            self._pool = pool
            self._target = ShippedFunction(shipped.token, shipped.name)
            self._finalizer = weakref.finalize(self, pool.close)
            return pool

    def _release(self, pool: OwnedPool, grace: bool) -> None:
        """Stop `pool`, forgetting it first if it is ours (another thread may have
        replaced it already), so that its broken futures read as stopped, not crashed."""
        if self._pool is pool:
            if self._finalizer is not None:
                self._finalizer.detach()
            self._pool = self._finalizer = None
        if grace:
            pool.close()
        else:
            pool.stop(grace=0.0)

    def _abandon(self, executor: Executor) -> None:
        pool = self._pool
        if pool is not None and pool.executor is executor:
            self._release(pool, grace=False)

    def _failed(self, ev: Evaluation, exc: BaseException, executor: Executor) -> EvaluationError:
        if isinstance(exc, BrokenProcessPool):
            if self._pool is None or self._pool.executor is not executor:
                return EvaluationError(
                    f"the worker processes were stopped (by close(), a timeout or interrupt "
                    f"in another thread, or interpreter exit) while evaluating "
                    f"{name_of(ev.fun)} for the {ev.method} difference at x = {fmt(ev.x)}."
                )
            self._abandon(executor)  # a worker died: start afresh next time
        return super()._failed(ev, exc, executor)

    def close(self) -> None:
        """Stop the worker processes (a later evaluation starts a new pool).

        Idle workers exit on their own; workers busy with an evaluation (of another
        thread) are terminated, so a hung evaluation cannot make this wait.
        """
        pool = self._pool
        if pool is not None:
            self._release(pool, grace=True)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_pool=None, _shipped=None, _finalizer=None, _target=None, _lock=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


# ------------------------------------------------------------------------ signals
_TERM = signal.SIGTERM
_KILL: int = getattr(signal, "SIGKILL", signal.SIGTERM)


def _signal(processes: list[Any], sig: int) -> None:
    """Send `sig` to each worker's process group (the worker and what it started)."""
    for p in processes:
        pid = p.pid
        if pid is None:
            continue
        if hasattr(os, "killpg"):
            try:
                os.killpg(pid, sig)  # the worker leads its group (see start_worker)
                continue
            except ProcessLookupError:  # the group is gone, or was never made
                pass
            except PermissionError:  # pragma: no cover - not our group after all
                pass
        if p.is_alive():
            if sig == _TERM:
                p.terminate()
            else:
                p.kill()


# ------------------------------------------------------------------------ at exit
_LIVE: set[OwnedPool] = set()
_HOOK_LOCK = threading.Lock()
_HOOKED = False


def _register(pool: OwnedPool) -> None:
    """Track a started pool, so that interpreter exit stops it before anything joins it."""
    global _HOOKED
    with _HOOK_LOCK:
        _LIVE.add(pool)
        if _HOOKED:
            return
        _HOOKED = True
    # threading runs these hooks in reverse order of registration, before it joins threads
    # and before atexit: registered after concurrent.futures' own hook, this one runs
    # first, and a hung worker cannot make ``concurrent.futures`` wait for it forever.
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        try:
            register(_stop_all)
            return
        except RuntimeError:  # pragma: no cover - the interpreter is already shutting down
            pass
    import atexit  # pragma: no cover - a Python without the hook

    atexit.register(_stop_all)  # pragma: no cover


def _stop_all() -> None:
    for pool in list(_LIVE):
        pool.close()
