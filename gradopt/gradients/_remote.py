"""What runs on the workers: the task that evaluates a chunk of points, and shipping f.

Everything here must be importable on a worker (a process of a pool, a Dask worker), so
it depends on nothing but numpy and the standard library. A task never raises: it returns
a :class:`ChunkResult` holding the values computed before a failure and the failure itself,
made safe to send back across a process boundary. The caller turns it into a gradopt
error naming the coordinate and the point.

Functions are sent to worker processes once, as bytes (plain pickle when it can, else
cloudpickle, which also handles lambdas and closures), and unpickled once per worker into
a small cache keyed by a digest of those bytes.

A worker of a pool that gradopt owns is started by :func:`start_worker`: it leads its own
process group, so that stopping it also stops programs f started (an external solver)
and a Ctrl-C at the terminal reaches only the parent, which stops its workers; and it
exits if its parent disappears. :func:`worker_ready` is the first task of every worker: the
pool counts as started only when all of its workers have answered it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
import time
import traceback
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "ChunkResult",
    "FunctionLoadError",
    "RemoteTraceback",
    "ShippedFunction",
    "complex_warnings_as_errors",
    "install_function",
    "run_chunk",
    "ship",
    "start_worker",
    "worker_ready",
]


class RemoteTraceback(Exception):
    """The formatted traceback of an exception raised in another process."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return self.tb


class UnpicklableError(Exception):
    """Stands in for an exception that could not be sent back from a worker."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(kind, message)
        self.kind, self.message = kind, message

    def __str__(self) -> str:
        return f"{self.message} (a {self.kind} that could not be sent back from the worker)"


class FunctionLoadError(Exception):
    """The user's function could not be unpickled on a worker (its text says why)."""


@dataclass
class ChunkResult:
    """Outcome of one task: values in order, up to a failure if there was one.

    ``failure`` was raised at point ``len(values)`` of the chunk (or by the single call
    of a vectorized chunk, then ``values`` is empty); ``calls`` counts calls of f,
    including the one that failed.
    """

    values: list[Any] | np.ndarray[Any, Any]
    calls: int
    failure: BaseException | None = None
    traceback: str = ""

    def __reduce__(self) -> tuple[Any, ...]:
        # The failure travels as cloudpickle bytes whatever the transport (a process
        # pool pickles with plain pickle), so exceptions of classes defined in a script
        # or a function come back too (see _portable).
        failure = None if self.failure is None else _dumps(self.failure)
        return (_chunk_result, (self.values, self.calls, failure, self.traceback))


def _chunk_result(
    values: list[Any] | np.ndarray[Any, Any], calls: int, failure: bytes | None, tb: str
) -> ChunkResult:
    return ChunkResult(values, calls, None if failure is None else pickle.loads(failure), tb)


def _dumps(obj: Any) -> bytes:
    try:
        import cloudpickle
    except ImportError:  # pragma: no cover - cloudpickle is a runtime dependency
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    data: bytes = cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return data


# ------------------------------------------------------------------- shipping functions
@dataclass(frozen=True)
class ShippedFunction:
    """A picklable handle on the user's function: a digest, and the bytes unless preloaded."""

    token: str
    name: str
    payload: bytes | None = None

    def resolve(self) -> Callable[..., Any]:
        fun = _CACHE.get(self.token)
        if fun is None:
            if self.payload is None:
                raise RuntimeError(f"function {self.name} was not installed on this worker")
            fun = install_function(self.token, self.payload)
        return fun


_CACHE: OrderedDict[str, Callable[..., Any]] = OrderedDict()
_CACHE_SIZE = 8
_CACHE_LOCK = threading.Lock()


def install_function(token: str, payload: bytes) -> Callable[..., Any]:
    """Unpickle a shipped function into this process's cache (also a pool initializer)."""
    fun: Callable[..., Any] = pickle.loads(payload)
    with _CACHE_LOCK:
        _CACHE[token] = fun
        _CACHE.move_to_end(token)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return fun


def ship(fun: Callable[..., Any], name: str) -> ShippedFunction:
    """Serialize `fun` once for worker processes.

    Plain pickle is tried first (module-level functions travel as a reference); functions
    defined in ``__main__``, lambdas and closures go by value with cloudpickle.

    Raises
    ------
    TypeError
        If neither can serialize `fun`; the message says why.
    """
    payload: bytes | None = None
    reason = ""
    if getattr(fun, "__module__", None) != "__main__":
        try:
            payload = pickle.dumps(fun, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            reason = f"pickle: {type(exc).__name__}: {exc}"
    if payload is None:
        try:
            import cloudpickle
        except ImportError:  # pragma: no cover - cloudpickle is a runtime dependency
            raise TypeError(reason or "cloudpickle is not installed") from None
        try:
            payload = cloudpickle.dumps(fun, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise TypeError(
                "; ".join(filter(None, [reason, f"cloudpickle: {type(exc).__name__}: {exc}"]))
            ) from exc
    return ShippedFunction(hashlib.blake2b(payload, digest_size=16).hexdigest(), name, payload)


# ------------------------------------------------------------------- a worker's life
_STARTED: dict[str, Any] = {}  # this worker's start-up barrier and failure, if any


def start_worker(token: str, payload: bytes, barrier: Any) -> None:
    """Initializer of a worker of an owned pool; never raises (see :func:`worker_ready`)."""
    if hasattr(os, "setpgid"):
        with suppress(OSError):  # e.g. already a session leader: keep the parent's group
            os.setpgid(0, 0)
    parent = os.getppid()  # the pool's process (or the fork server, which dies with it)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    _STARTED["barrier"] = barrier
    try:
        install_function(token, payload)
    except Exception as exc:
        _STARTED["failure"] = FunctionLoadError(f"{type(exc).__name__}: {exc}")


def worker_ready(timeout: float) -> int:
    """The first task of each worker: wait until every worker of the pool has started.

    Each of the pool's ``n`` workers takes exactly one of the ``n`` tasks, since every one
    waits at the barrier for the others. Raises the failure of :func:`start_worker`, if
    any (e.g. the module of f cannot be imported here); returns this process's id.
    """
    _STARTED["barrier"].wait(timeout)
    failure = _STARTED.get("failure")
    if failure is not None:
        raise failure
    return os.getpid()


def _exit_when_orphaned(parent: int) -> None:
    """Exit as soon as the process that started this worker is gone (e.g. killed)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


# ------------------------------------------------------------------- the task itself
def run_chunk(
    fun: Callable[..., Any] | ShippedFunction,
    points: np.ndarray[Any, Any],
    shape: tuple[int, ...],
    imaginary: bool,
    vectorized: bool,
    portable: bool,
) -> ChunkResult:
    """Evaluate f at each row of `points` (or once on the whole batch when `vectorized`).

    `shape` is the shape f expects for one point. With `portable`, a failure is made safe
    to pickle (its traceback kept as text) because the result crosses a process boundary.
    """
    values: list[Any] = []
    try:
        f = fun.resolve() if isinstance(fun, ShippedFunction) else fun
        with complex_warnings_as_errors() if imaginary else nullcontext():
            if vectorized:
                batch = np.asarray(f(points.reshape((len(points), *shape))))
                return ChunkResult(batch, calls=len(points))
            append = values.append
            for p in points:
                append(f(p.reshape(shape)))
    except Exception as exc:
        calls = len(points) if vectorized else len(values) + 1
        tb = traceback.format_exc() if portable else ""
        return ChunkResult(values, calls, _portable(exc) if portable else exc, tb)
    return ChunkResult(values, calls=len(values))


def _portable(exc: BaseException) -> BaseException:
    """`exc`, or something that unpickles as a copy of it, or a stand-in with its text.

    Exceptions pickle as ``type(exc)(*exc.args)``, which fails for a class whose
    ``__init__`` takes other arguments (``SimError(message, code=...)``) and forgets
    attributes set in it. Such an exception travels as its class, ``args`` and
    ``__dict__``, and is rebuilt without calling ``__init__``; if even that cannot
    travel (an attribute holds a lock), a stand-in carries its type name and text.
    """
    for candidate in (exc, _ByState(exc)):
        try:
            pickle.loads(_dumps(candidate))
        except Exception:
            continue
        return candidate
    return UnpicklableError(type(exc).__name__, str(exc))


class _ByState(Exception):
    """Pickles as the exception it wraps: class, ``args`` and ``__dict__``."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self.exc = exc

    def __reduce__(self) -> tuple[Any, ...]:
        exc = self.exc
        return (_rebuild, (type(exc), exc.args, getattr(exc, "__dict__", {})))


def _rebuild(kind: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    exc = kind.__new__(kind, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


# ------------------------------------------------------------ complex-step warnings
_FILTER_LOCK = threading.Lock()
_FILTER_USERS = 0
_FILTER = ("error", None, np.exceptions.ComplexWarning, None, 0)


@contextmanager
def complex_warnings_as_errors() -> Iterator[None]:
    """Turn ``ComplexWarning`` (a complex value cast to real) into an error.

    Casting drops the imaginary part, which holds the complex-step derivative. Unlike
    ``warnings.catch_warnings``, which swaps the process-wide filter list and so corrupts
    it when threads enter and leave in an interleaved order, this installs one filter
    while at least one user is inside, counting users under a lock.
    """
    global _FILTER_USERS
    with _FILTER_LOCK:
        if _FILTER_USERS == 0:
            warnings.filterwarnings("error", category=np.exceptions.ComplexWarning)
        _FILTER_USERS += 1
    try:
        yield
    finally:
        with _FILTER_LOCK:
            _FILTER_USERS -= 1
            if _FILTER_USERS == 0:
                _remove_filter()


def _remove_filter() -> None:
    filters: Any = warnings.filters
    for i, item in enumerate(filters):
        if item == _FILTER:
            del filters[i]
            getattr(warnings, "_filters_mutated", lambda: None)()
            return
