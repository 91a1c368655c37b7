"""Checking what f returned (or raised) at the points of a finite difference.

Values are stacked and checked (scalars, complex for the complex step, finite); failures
become errors that name the coordinate and the point. :class:`Evaluation` carries what a
message needs: f, the scheme's layout, x and the steps.
"""

from __future__ import annotations

import cmath
import sys
import weakref
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any, NamedTuple, Protocol

import numpy as np

from gradopt._typing import FloatArray, as_scalar_value, as_vector_value
from gradopt.exceptions import (
    ComplexStepError,
    EvaluationError,
    NonFiniteEvaluationError,
    ObjectiveError,
)
from gradopt.gradients._groups import Groups
from gradopt.gradients._remote import ChunkResult, RemoteTraceback, UnpicklableError

__all__ = [
    "Evaluation",
    "SchemeLike",
    "as_values",
    "as_vectors",
    "batch_values",
    "chunk_where",
    "complex_step_error",
    "describe",
    "evaluation_error",
    "finish",
    "fmt",
    "name_of",
    "raise_remote",
    "reraise_here",
]


class SchemeLike(Protocol):
    """What an evaluator needs from a finite-difference scheme (every
    :class:`~gradopt.gradients._schemes.Scheme` has it)."""

    name: str
    imaginary: bool

    def iter_points(
        self, x: FloatArray, h: FloatArray, groups: Groups
    ) -> Iterator[np.ndarray[Any, Any]]: ...

    def points(self, x: FloatArray, h: FloatArray, groups: Groups) -> np.ndarray[Any, Any]: ...


class Evaluation(NamedTuple):
    """The points of one gradient or Jacobian: f, the scheme's layout at `x` with steps
    `h` over `groups`, the shape f takes, and whether f is vector-valued.

    A named tuple: made once per gradient, so it must be cheap to create.
    """

    fun: Callable[..., Any]
    scheme: SchemeLike
    x: FloatArray
    h: FloatArray
    groups: Groups
    shape: tuple[int, ...]
    imaginary: bool = False  # the scheme's steps are imaginary (complex step)
    vector: bool = False  # f returns a 1-D array of outputs (a Jacobian is wanted)

    @property
    def method(self) -> str:
        """The scheme's name, for messages."""
        return self.scheme.name

    def point(self, index: int) -> np.ndarray[Any, Any]:
        """The `index`-th point, recomputed (for error messages only)."""
        points = self.scheme.iter_points(self.x, self.h, self.groups)
        return next(islice(points, index, None))

    def where(self, index: int) -> str:
        """Name the coordinate and the point of evaluation `index`."""
        x, p = self.x, self.point(index)
        moved = np.flatnonzero(p != x)
        base = f"x = {fmt(x)}"
        if moved.size == 0:  # f(x) itself
            return base
        if moved.size != 1:
            return f"the point {fmt(p)} of the {self.method} difference at {base}"
        j = int(moved[0])
        return (
            f"coordinate {j} (x[{j}] = {x[j].item()!r} stepped to {p[j].item()!r}) of the "
            f"{self.method} difference at {base}"
        )


def name_of(fun: Callable[..., Any]) -> str:
    name = getattr(fun, "__qualname__", None) or getattr(fun, "__name__", None)
    return repr(name) if name else repr(fun)


def fmt(x: np.ndarray[Any, Any]) -> str:
    return np.array2string(x, threshold=12, edgeitems=3, separator=", ", max_line_width=10**9)


def _rejects_complex_input(exc: BaseException) -> bool:
    """Whether `exc` is Python's, numpy's or scipy's complaint about complex input.

    A user's own TypeError subclass is theirs and propagates as it is.
    """
    return isinstance(exc, (TypeError, np.exceptions.ComplexWarning)) and type(
        exc
    ).__module__.startswith(("builtins", "numpy", "scipy", "math"))


def complex_step_error(exc: BaseException) -> ComplexStepError:
    return ComplexStepError(
        f"method='complex' failed: the function does not accept complex input "
        f"({type(exc).__name__}: {exc}). Write it with numpy operations that carry "
        "complex numbers through (no float(), math.*, abs() or assignment into real "
        "arrays), or use method='central'."
    )


def reraise_here(exc: Exception, ev: Evaluation, note: str, imaginary: bool) -> None:
    """Raise a ComplexStepError for complex-step casts; else annotate the user's `exc`."""
    if imaginary and _rejects_complex_input(exc):
        raise complex_step_error(exc) from exc
    if sys.version_info >= (3, 11):
        exc.add_note(f"gradopt: raised by {name_of(ev.fun)} {note}")


def raise_remote(
    result: ChunkResult, ev: Evaluation, start: int, size: int, vectorized: bool
) -> None:
    exc = result.failure
    assert exc is not None
    if result.traceback:
        exc.__cause__ = RemoteTraceback(result.traceback)
    if ev.imaginary and _rejects_complex_input(exc):
        raise complex_step_error(exc) from exc
    kind = exc.kind if isinstance(exc, UnpicklableError) else type(exc).__name__
    if not vectorized:
        start += len(result.values)  # the point that failed
    where = chunk_where(ev, start, start + size if vectorized else start + 1)
    raise evaluation_error(f"{name_of(ev.fun)} raised {kind} at {where}: {exc}", exc) from exc


def chunk_where(ev: Evaluation, start: int, stop: int) -> str:
    """Name the points ``start..stop-1`` of `ev`: one coordinate and point, or a batch."""
    if stop - start == 1:
        return ev.where(start)
    return (
        f"a batch of points {start}..{stop - 1} of the {ev.method} difference at x = {fmt(ev.x)}"
    )


_WRAPPERS: weakref.WeakKeyDictionary[type, type[EvaluationError]] = weakref.WeakKeyDictionary()


def evaluation_error(message: str, original: BaseException) -> EvaluationError:
    """An EvaluationError that is also an instance of the original's type, when possible.

    So ``except ValueError`` in the caller's code still catches a ValueError raised by f
    on a worker (the contract in :mod:`gradopt.exceptions`). The class is made once per
    type, e.g. ``EvaluationError[ValueError]``; types that cannot be combined give a
    plain EvaluationError.
    """
    kind = type(original)
    if isinstance(original, (UnpicklableError, EvaluationError)) or kind is Exception:
        return EvaluationError(message)
    try:
        error = _wrapper(kind)(message)
    except Exception:
        return EvaluationError(message)
    # The original's attributes come along: ``e.code``, ``e.returncode``, an OSError's
    # ``errno`` and ``filename``; the original itself is ``__cause__``.
    error.__dict__.update(getattr(original, "__dict__", {}))
    if isinstance(original, OSError):
        for name in ("errno", "strerror", "filename", "filename2"):
            setattr(error, name, getattr(original, name))
    return error


def _wrapper(kind: type[BaseException]) -> type[EvaluationError]:
    """The class ``EvaluationError[kind]``, made once per type."""
    cls = _WRAPPERS.get(kind)
    if cls is None:
        label = f"EvaluationError[{kind.__name__}]"
        namespace: dict[str, Any] = {
            "__module__": EvaluationError.__module__,
            "__qualname__": label,
            # The user's __init__ and __str__ may expect arguments we do not have.
            "__init__": BaseException.__init__,
            "__str__": BaseException.__str__,
            "__reduce__": BaseException.__reduce__,
        }
        cls = _WRAPPERS[kind] = type(label, (EvaluationError, kind), namespace)
    return cls


def batch_values(out: Any, k: int, vector: bool = False) -> np.ndarray[Any, Any] | list[Any]:
    """The `k` values a vectorized f returned for a batch of `k` points.

    An array of shape ``(k,)`` or ``(k, 1)`` (``(k, m)`` for a vector-valued f), or a
    list or tuple of `k` items, which stay as they are: each is checked as one value of
    f (:func:`as_values`), so that a bad item is named at its own point rather than
    converted along with the others.
    """
    if isinstance(out, list | tuple) and len(out) == k:
        return list(out)
    arr = np.asarray(out) if isinstance(out, np.ndarray) or hasattr(out, "__array__") else None
    if vector and arr is not None and arr.ndim == 2 and arr.shape[0] == k:
        return arr
    if arr is None or arr.shape not in ((k,), (k, 1)):
        expected = f"an array of shape ({k}, m), m outputs," if vector else f"{k} values"
        raise ObjectiveError(
            f"a vectorized function must return {expected} for a batch of {k} points; "
            f"it returned {describe(out)}."
        )
    return arr.reshape(k, 1) if vector else arr.reshape(k)


def describe(value: Any) -> str:
    """What a function returned, for a message: its type, and shape or length."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray) or hasattr(value, "__array__"):
        return f"an array of shape {np.shape(value)} and dtype {np.asarray(value).dtype}"
    if isinstance(value, (list, tuple, dict, set, str, bytes)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"an object of type {type(value).__name__}"


def finish(raw: list[Any] | np.ndarray[Any, Any], ev: Evaluation) -> np.ndarray[Any, Any]:
    """Stack values, check the complex step kept its imaginary part and all are finite."""
    imaginary = ev.imaginary
    values = as_vectors(raw, ev) if ev.vector else as_values(raw, ev)
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
    flat = values if values.ndim == 1 else values.reshape(-1)
    total = sum(flat.tolist()) if flat.size <= 16 else flat.dot(flat)
    if not cmath.isfinite(total) and not (finite := np.isfinite(values)).all():
        i = int(np.argmin(finite if finite.ndim == 1 else finite.all(axis=1)))
        raise NonFiniteEvaluationError(
            f"{name_of(ev.fun)} returned {values[i]} at {ev.where(i)}; a finite difference "
            "needs finite values (is the point outside the function's valid range? "
            "FiniteDifference(..., bounds=...) keeps the steps inside a box)."
        )
    return values


def as_values(raw: list[Any] | np.ndarray[Any, Any], ev: Evaluation) -> np.ndarray[Any, Any]:
    """Stack the outputs of f at the points of `ev` into a 1-D array of numbers.

    Each must be what :func:`gradopt._typing.as_scalar_value` accepts from ``value(x)``
    (a real number, or an array holding one); complex numbers only for the complex
    step. Anything else (None, a string such as ``"5.0"``, a list, a dict, a complex
    number where reals are expected) is an :class:`ObjectiveError` naming what was
    returned and the point, never silently converted.
    """
    k = len(raw)
    try:
        values = np.asarray(raw)
    except (TypeError, ValueError):  # ragged: scalars and arrays mixed
        values = None
    dtype = _C128 if ev.imaginary else _F64
    if values is not None:
        if values.dtype is dtype and values.shape == (k,):  # the common case: 0.5 µs
            return values
        if (
            values.size == k
            and values.dtype.kind in _KINDS[ev.imaginary]
            and not any(isinstance(item, list | tuple) for item in raw)  # [1.0] is refused
        ):
            return values.astype(dtype).reshape(k)
    out = np.empty(k, dtype=dtype)
    for i, item in enumerate(raw):  # the slow path names the first offending value
        if ev.imaginary and np.iscomplexobj(item) and np.size(item) == 1:
            out[i] = complex(np.asarray(item).reshape(()))
        else:
            out[i] = as_scalar_value(item, f"{name_of(ev.fun)} at {ev.where(i)}")
    return out


def as_vectors(raw: list[Any] | np.ndarray[Any, Any], ev: Evaluation) -> np.ndarray[Any, Any]:
    """Stack the outputs of a vector-valued f at the points of `ev`: shape ``(k, m)``.

    Each must be what :func:`gradopt._typing.as_vector_value` accepts (complex numbers
    too for the complex step), all of the same length; anything else is an
    :class:`ObjectiveError` naming what was returned and the point.
    """
    k = len(raw)
    try:
        values = np.asarray(raw)
    except (TypeError, ValueError):  # ragged: outputs of different lengths
        values = None
    dtype = _C128 if ev.imaginary else _F64
    if values is not None and values.dtype.kind in _KINDS[ev.imaginary]:
        if values.ndim == 2 and values.shape[0] == k and values.shape[1]:
            return values.astype(dtype, copy=False)
        if values.shape == (k,):  # one output: scalars
            return values.astype(dtype).reshape(k, 1)
    rows: list[np.ndarray[Any, Any]] = []
    for i, item in enumerate(raw):  # the slow path names the first offending value
        what = f"{name_of(ev.fun)} at {ev.where(i)}"
        if ev.imaginary and np.iscomplexobj(item) and np.ndim(item) <= 1 and np.size(item):
            row: np.ndarray[Any, Any] = np.asarray(item, dtype=_C128).reshape(-1)
        else:
            row = as_vector_value(item, what)
        if rows and row.size != rows[0].size:
            raise ObjectiveError(
                f"{what} returned {row.size} outputs, but {rows[0].size} at "
                f"{ev.where(0)}; a vector-valued function must return the same number "
                "of outputs at every point."
            )
        rows.append(row)
    return np.array(rows, dtype=dtype)


_KINDS = {False: "fiu", True: "fiuc"}  # dtype kinds taken as they are
_F64, _C128 = np.dtype(np.float64), np.dtype(np.complex128)
