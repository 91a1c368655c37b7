"""The one place where evaluations are validated, counted and cached.

:class:`BaseProvider` implements the interface of :mod:`~gradopt.gradients._protocols`
(the bookkeeping of Jacobians, ``njev``, is in :mod:`~gradopt.gradients._jacobian`).
It does the bookkeeping once: validating points (and the vectors of
``hessp``/``jvp``), checking what the backend returns, counting calls of the
user's function (``nfev``, with scipy's meaning), gradients (``ngev``) and
Hessian-vector products (``nhev``), and caching the value and gradient at the last point,
so that ``value(x)`` followed by ``grad(x)`` never redoes work. A backend only says how to
compute, in the ``_compute_*`` hooks (see the "Writing a provider" page of the docs).

Counting policy, the same for every provider: ``nfev`` counts each value of the user's
function a provider computes, by a plain call or by a traced one (an automatic
differentiation pass that returns ``f(x)`` with the gradient counts one); ``ngev`` counts
gradients; ``nhev`` counts Hessian-vector products and nothing else (whatever the backend
evaluates inside one, it adds nothing to ``nfev``), as scipy counts a user's ``hessp``.

Threads: a provider may be shared by threads. Counts are updated under a lock and the
cache is one immutable entry (point, value, gradient) replaced whole, so each call
returns the value and gradient of its own point and the counts are exact. Calls are not
serialized: the user's function runs concurrently (backends whose library keeps global
tracing state, such as autograd, serialize their own traces).
"""

from __future__ import annotations

import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np
from scipy.linalg.blas import ddot as _ddot

from gradopt._typing import (
    ArrayLike,
    FloatArray,
    as_point,
    as_scalar_value,
    check_finite,
    format_point,
)
from gradopt.exceptions import InvalidInputError, MissingCapabilityError, ObjectiveError
from gradopt.gradients._jacobian import _JAC_EMPTY, JacobianBookkeeping

__all__ = ["BaseProvider"]

_F64 = np.dtype(np.float64)
_frombuffer = np.frombuffer  # module-level names: the fast path runs millions of times
_isfinite = math.isfinite
_SCALAR = b"\x00"  # appended to a scalar point's key: () and (1,) are different shapes

# A cache entry: (key, point, value or None, gradient or None, what _compute_grad returned
# or None). `key` is the point's bytes, `point` a read-only view of them in the caller's
# shape.
_Entry: TypeAlias = "tuple[bytes | None, Any, float | None, FloatArray | None, Any]"
_EMPTY: _Entry = (None, None, None, None, None)


class BaseProvider(JacobianBookkeeping, ABC):
    """Validation, counting and caching shared by every provider.

    Subclasses implement ``_compute_grad`` and may implement ``_compute_value``,
    ``_compute_hessp`` and ``_compute_jvp``; the public methods validate the point,
    consult the cache, call the hook, check and count what it returns. The hooks receive
    the point as a read-only float64 array in the caller's shape (1-D, or 0-d for a
    scalar ``x``): copy it (``x.copy()``) before handing it to code that may write into
    it, as the user's function may. A value of f that a hook returns counts as one call
    of the user's function; a hook counts any other calls it makes with ``_count``.

    Parameters
    ----------
    fun : callable
        The objective ``fun(x) -> float``.
    """

    #: Who produces the value and gradient of ``_compute_grad``, in error messages.
    _grad_label = "the function"
    #: Who produces the product of ``_compute_hessp``, in error messages.
    _hessp_label = "the Hessian-vector product"
    #: What to do instead, when ``hessp`` is asked of a provider without one.
    _no_hessp_advice = "use Autograd, Jax or Symbolic, or Analytic with hessp="

    def __init__(self, fun: Callable[..., Any]) -> None:
        if not callable(fun):
            raise InvalidInputError(f"fun must be callable; got {type(fun).__name__}.")
        self.fun = fun
        self.nfev = 0
        self.ngev = 0
        self.nhev = 0
        self._lock = threading.Lock()  # guards the counters only
        self._entry: _Entry = _EMPTY
        # The last Hessian-vector product and directional derivative: (key of (x, v), result).
        self._hessp_cache: tuple[bytes, FloatArray] | None = None
        self._jvp_cache: tuple[bytes, tuple[float, float]] | None = None
        self._init_jacobian()  # njev and the cache of vector-valued functions

    # ---------------------------------------------------------------- public interface
    def value(self, x: ArrayLike) -> float:
        """Return ``fun(x)`` as a float (cached at the last point)."""
        entry = self._lookup(x)
        if entry[2] is None:
            entry = self._cache_value(entry)
        f: float = entry[2]  # type: ignore[assignment]
        return f

    def grad(self, x: ArrayLike) -> FloatArray:
        """Return the gradient of ``fun`` at `x`, shaped like `x`."""
        entry = self._lookup(x)
        if entry[3] is None:
            entry = self._cache_gradient(entry)
        g: FloatArray = entry[3]  # type: ignore[assignment]
        out: FloatArray = g.copy()
        return out

    def value_and_grad(self, x: ArrayLike) -> tuple[float, FloatArray]:
        """Return ``(fun(x), grad(x))``, sharing whatever work the two have in common."""
        entry = self._lookup(x)
        if entry[3] is None:
            entry = self._cache_gradient(entry)
        if entry[2] is None:  # the backend computed the gradient without the value
            entry = self._cache_value(entry)
        f: float = entry[2]  # type: ignore[assignment]
        g: FloatArray = entry[3].copy()  # type: ignore[union-attr]
        return f, g

    @property
    def has_hessp(self) -> bool:
        """Whether :meth:`hessp` is available: the backend implements ``_compute_hessp``."""
        return type(self)._compute_hessp is not BaseProvider._compute_hessp

    @property
    def has_jvp(self) -> bool:
        """Whether :meth:`jvp` is available: the backend implements ``_compute_jvp``."""
        return type(self)._compute_jvp is not BaseProvider._compute_jvp

    def hessp(self, x: ArrayLike, v: ArrayLike) -> FloatArray:
        """Return the Hessian at `x` times `v`, shaped like `x` (counted in ``nhev``)."""
        if not self.has_hessp:
            raise MissingCapabilityError(
                f"{self!r} has no Hessian-vector product: {self._no_hessp_advice}."
            )
        key, point, vec = self._point_and_vector(x, v)
        cached = self._hessp_cache
        if cached is not None and cached[0] == key:
            hv: FloatArray = cached[1].copy()
            return hv
        hv = self._checked_array(self._compute_hessp(point, vec), point, self._hessp_label)
        with self._lock:
            self.nhev += 1
        self._hessp_cache = (key, hv)
        out: FloatArray = hv.copy()
        return out

    def jvp(self, x: ArrayLike, v: ArrayLike) -> tuple[float, float]:
        """Return ``(f(x), grad f(x) @ v)``: the value and the derivative along `v`."""
        if not self.has_jvp:
            raise MissingCapabilityError(
                f"{self!r} has no directional derivative (jvp): use Autograd or Jax."
            )
        key, point, vec = self._point_and_vector(x, v)
        cached = self._jvp_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        with self._lock:
            self.nfev += 1  # one (traced) call of f, which returns its value
        f, slope = self._compute_jvp(point, vec)
        out = (
            as_scalar_value(f, self._grad_label, point),
            as_scalar_value(slope, "the directional derivative", point),
        )
        self._jvp_cache = (key, out)
        return out

    def reset_counts(self) -> None:
        """Set ``nfev``, ``ngev``, ``nhev`` and ``njev`` to zero (the cache is kept)."""
        with self._lock:
            self.nfev = self.ngev = self.nhev = self.njev = 0

    def __repr__(self) -> str:
        name = getattr(self.fun, "__name__", type(self.fun).__name__)
        return f"{type(self).__name__}({name})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]  # locks do not pickle; a copy gets its own
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # ------------------------------------------------------------- for the subclasses
    @abstractmethod
    def _compute_grad(self, x: FloatArray, f0: float | None) -> tuple[Any, ...]:
        """Return ``(value or None, gradient)`` at the point `x`.

        `f0` is ``fun(x)`` when already known. Return the value only when this call
        computed it: it is then cached and counted as one call of f. Count any other
        calls of f (the points of a finite difference) with ``_count``. A third
        item, if returned, is cached with the gradient (read it back with
        ``_grad_and_extra``).
        """

    def _compute_value(self, x: FloatArray) -> Any:
        """``fun(x)`` (counted as one call by the caller): a checked call by default."""
        return self._call(x)

    def _compute_hessp(self, x: FloatArray, v: FloatArray) -> Any:
        """The Hessian at `x` times `v`; implement it to offer :meth:`hessp`."""
        raise NotImplementedError

    def _compute_jvp(self, x: FloatArray, v: FloatArray) -> tuple[Any, Any]:
        """``(f(x), grad f(x) @ v)`` (one call of f); implement it to offer :meth:`jvp`."""
        raise NotImplementedError

    def _call(self, x: FloatArray) -> float:
        """Call the user's function once at `x` (on a fresh copy) and check its value.

        Not counted: return the value from a hook, or count with ``_count``.
        """
        return as_scalar_value(self.fun(x.copy()), "the function", x)

    def _count(self, nfev: int) -> None:
        """Add `nfev` calls of the user's function (thread-safe)."""
        with self._lock:
            self.nfev += nfev

    def _clear_cache(self) -> None:
        """Forget every cached result (benchmarks time fresh evaluations this way)."""
        self._entry, self._hessp_cache, self._jvp_cache = _EMPTY, None, None
        self._jac_entry = _JAC_EMPTY

    def _grad_and_extra(self, x: ArrayLike) -> tuple[FloatArray, Any]:
        """The gradient at `x` (a copy) and the extra item ``_compute_grad`` cached with it."""
        entry = self._lookup(x)
        if entry[3] is None:
            entry = self._cache_gradient(entry)
        g: FloatArray = entry[3]  # type: ignore[assignment]
        out = entry[4]
        return g.copy(), out[2] if len(out) > 2 else None

    # ----------------------------------------------------------------------- internals
    def _lookup(self, x: ArrayLike) -> _Entry:
        """The cache entry if `x` is the cached point, else a new entry without results.

        The fast path (a 1-D float64 array, what optimizers pass) copies x once, into the
        bytes that serve both as the cache key and, read-only, as the point itself; a
        point equal to the cached one is finite already.
        """
        if type(x) is np.ndarray and x.dtype is _F64 and x.ndim == 1:
            key = x.tobytes()
            entry = self._entry
            if key == entry[0]:
                return entry
            if key:  # else: empty, refused below
                point = _frombuffer(key)  # float64, read-only
                if not _isfinite(_ddot(point, point)):  # check_finite's screen, inline
                    check_finite(point)
                return (key, point, None, None, None)
        point = as_point(x)
        scalar = np.ndim(x) == 0
        key = point.tobytes() + (_SCALAR if scalar else b"")
        entry = self._entry
        if key == entry[0]:
            return entry
        point.flags.writeable = False
        return (key, point.reshape(()) if scalar else point, None, None, None)

    def _cache_gradient(self, entry: _Entry) -> _Entry:
        """Compute the gradient at the entry's point; cache and return the full entry."""
        key, point, f, _, _ = entry
        out = self._compute_grad(point, f)
        g = out[1]
        if not (type(g) is np.ndarray and g.dtype is _F64 and g.shape == point.shape):
            g = self._checked_array(g, point, self._grad_label)
        value = out[0]
        if value is not None:  # computed by the hook: one call of f
            if type(value) is not float:
                value = as_scalar_value(value, self._grad_label, point)
            if f is None:
                f = value
        with self._lock:
            self.ngev += 1
            if value is not None:
                self.nfev += 1
        entry = (key, point, f, g, out)  # the hook's output: extra items, if any, stay
        self._entry = entry
        return entry

    def _cache_value(self, entry: _Entry) -> _Entry:
        """Compute the value at the entry's point; cache and return the full entry."""
        key, point, _, g, extra = entry
        with self._lock:  # counted before: a call that raises (or times out) was made
            self.nfev += 1
        f = self._compute_value(point)
        if type(f) is not float:
            f = as_scalar_value(f, "the function", point)
        entry = (key, point, f, g, extra)
        self._entry = entry
        return entry

    def _point_and_vector(self, x: ArrayLike, v: ArrayLike) -> tuple[bytes, Any, Any]:
        """Validate `x` and a vector `v` of its shape: (key of the pair, point, vector)."""
        xk, point = self._lookup(x)[:2]
        if type(v) is np.ndarray and v.dtype is _F64 and v.shape == point.shape:
            vk = v.tobytes()
            vec = np.frombuffer(vk, _F64).reshape(point.shape)
            check_finite(vec.reshape(-1), "v")
        else:
            vec = as_point(v, "v")
            if vec.size != point.size or (np.ndim(v) == 0) != (point.ndim == 0):
                raise InvalidInputError(
                    f"v must have the shape of x {point.shape}; got {np.shape(v)}."
                )
            vk = vec.tobytes()
            vec.flags.writeable = False
            vec = vec.reshape(point.shape)
        return xk + b"|" + vk, point, vec  # type: ignore[operator]

    @staticmethod
    def _checked_array(value: Any, point: Any, what: str) -> FloatArray:
        """`value` as a float64 array of the point's shape, or an ObjectiveError."""
        shape = point.shape
        where = f" at x = {format_point(point)}"
        if value is None:  # np.asarray(None, float) would be a silent NaN
            raise ObjectiveError(
                f"{what} returned None{where}; it must return an array of shape {shape} "
                "(the shape of x). Is a return statement missing?"
            )
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise ObjectiveError(
                f"{what} must return real numbers; it returned an array of dtype "
                f"{arr.dtype}{where}."
            )
        if arr.shape != shape and not (arr.size == 1 == point.size):
            raise ObjectiveError(
                f"{what} must return an array of shape {shape} (the shape of x); "
                f"it returned shape {arr.shape}{where}."
            )
        out: FloatArray = np.array(arr, dtype=_F64).reshape(shape)  # a copy we own
        return out
