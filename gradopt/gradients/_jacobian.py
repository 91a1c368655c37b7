"""The bookkeeping of vector-valued functions, part of :class:`~gradopt.BaseProvider`.

A provider whose function returns m outputs offers ``vector_value(x)`` (the outputs,
shape ``(m,)``), ``jacobian(x)`` (shape ``(m, d)``, ``d = x.size``, or a scipy.sparse
matrix) and ``value_and_jacobian(x)``, with the counting policy of gradients: ``nfev``
counts each value of the user's function (a value a ``_compute_jacobian`` hook returns
counts one, other calls the hook counts itself), ``njev`` counts Jacobians. The outputs
and the Jacobian at the last point are one immutable cache entry, replaced whole (thread
safe as the gradient's), so ``vector_value(x)`` then ``jacobian(x)`` (what scipy's
``least_squares`` asks) never redoes work. What the backend returns is checked: 1-D real
outputs, as many as at every earlier point, and a Jacobian of shape ``(m, d)``.

A backend offers Jacobians by implementing ``_compute_jacobian``; ``_compute_vector_value``
defaults to one call of the user's function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

import numpy as np
import scipy.sparse as sp

from gradopt._typing import ArrayLike, FloatArray, as_vector_value, format_point
from gradopt.exceptions import MissingCapabilityError, ObjectiveError

__all__ = ["JacobianBookkeeping", "SupportsJacobian"]

# (key, point, outputs or None, Jacobian or None, what _compute_jacobian returned or None)
_JacEntry: TypeAlias = "tuple[bytes | None, Any, FloatArray | None, Any, Any]"
_JAC_EMPTY: _JacEntry = (None, None, None, None, None)


@runtime_checkable
class SupportsJacobian(Protocol):
    """A provider of a vector-valued function: its outputs and their Jacobian."""

    @property
    def nfev(self) -> int:
        """Calls of the user's function so far."""

    @property
    def njev(self) -> int:
        """Jacobians computed so far."""

    @property
    def has_jacobian(self) -> bool:
        """Whether :meth:`jacobian` is available."""

    def vector_value(self, x: ArrayLike) -> FloatArray:
        """The outputs at `x`, shape ``(m,)``."""

    def jacobian(self, x: ArrayLike) -> Any:
        """The Jacobian at `x`, ``(m, d)`` (dense or scipy.sparse)."""

    def value_and_jacobian(self, x: ArrayLike) -> tuple[FloatArray, Any]:
        """``(vector_value(x), jacobian(x))``."""


class JacobianBookkeeping:
    """Counting, caching and checking for ``jacobian``; a base of BaseProvider."""

    #: Who produces the Jacobian of ``_compute_jacobian``, in error messages.
    _jacobian_label = "the Jacobian"
    #: What to do instead, when ``jacobian`` is asked of a provider without one.
    _no_jacobian_advice = "use FiniteDifference, Autograd, Jax or Analytic with jacobian="

    if TYPE_CHECKING:  # provided by BaseProvider
        fun: Any
        nfev: int
        _lock: Any

        def _lookup(self, x: ArrayLike) -> Any: ...

    def _init_jacobian(self) -> None:
        self.njev = 0
        self._jac_entry: _JacEntry = _JAC_EMPTY
        self._outputs: int | None = None  # m, once known

    # ---------------------------------------------------------------- public interface
    @property
    def has_jacobian(self) -> bool:
        """Whether :meth:`jacobian` is available: the backend implements
        ``_compute_jacobian``."""
        return type(self)._compute_jacobian is not JacobianBookkeeping._compute_jacobian

    def vector_value(self, x: ArrayLike) -> FloatArray:
        """Return the outputs of the vector-valued function at `x`, shape ``(m,)``."""
        entry = self._jac_lookup(x)
        if entry[2] is None:
            entry = self._cache_outputs(entry)
        f: FloatArray = entry[2]  # type: ignore[assignment]
        out: FloatArray = f.copy()
        return out

    def jacobian(self, x: ArrayLike) -> Any:
        """Return the Jacobian at `x`: shape ``(m, d)``, ``d = x.size`` (a scipy.sparse
        matrix when the backend gives one, e.g. ``FiniteDifference(sparsity=...)``)."""
        entry = self._jac_lookup(x)
        if entry[3] is None:
            entry = self._cache_jacobian(entry)
        return entry[3].copy()

    def value_and_jacobian(self, x: ArrayLike) -> tuple[FloatArray, Any]:
        """Return ``(vector_value(x), jacobian(x))``, sharing the work they have in common."""
        entry = self._jac_lookup(x)
        if entry[3] is None:
            entry = self._cache_jacobian(entry)
        if entry[2] is None:
            entry = self._cache_outputs(entry)
        f: FloatArray = entry[2]  # type: ignore[assignment]
        out: FloatArray = f.copy()
        return out, entry[3].copy()

    # ------------------------------------------------------------- for the subclasses
    def _compute_jacobian(self, x: FloatArray, f0: FloatArray | None) -> tuple[Any, ...]:
        """Return ``(outputs or None, Jacobian)`` at the point `x` (caller's shape).

        `f0` is the outputs at `x` when already known. Return them only when this call
        computed them (they are then cached and counted as one call of f); count other
        calls with ``_count``. A third item, if returned, is cached with the Jacobian
        (read it back with ``_jacobian_and_extra``).
        """
        raise NotImplementedError

    def _compute_vector_value(self, x: FloatArray) -> Any:
        """What f returns at `x` (counted as one call by the caller, checked after)."""
        return self.fun(x.copy())

    def _jacobian_and_extra(self, x: ArrayLike) -> tuple[Any, Any]:
        """The Jacobian at `x` (a copy) and the extra item ``_compute_jacobian`` cached."""
        entry = self._jac_lookup(x)
        if entry[3] is None:
            entry = self._cache_jacobian(entry)
        out = entry[4]
        return entry[3].copy(), out[2] if len(out) > 2 else None

    # ----------------------------------------------------------------------- internals
    def _jac_lookup(self, x: ArrayLike) -> _JacEntry:
        key, point = self._lookup(x)[:2]
        entry = self._jac_entry
        if key == entry[0]:
            return entry
        return (key, point, None, None, None)

    def _cache_outputs(self, entry: _JacEntry) -> _JacEntry:
        key, point, _, jac, out = entry
        with self._lock:  # counted before: a call that raises was made
            self.nfev += 1
        f = self._checked_outputs(self._compute_vector_value(point), point, "the function")
        if jac is not None and jac.shape[0] != f.size:  # the Jacobian came first
            self._checked_jacobian(jac, f.size, point)  # raises, naming the shape
        entry = (key, point, f, jac, out)
        self._jac_entry = entry
        return entry

    def _cache_jacobian(self, entry: _JacEntry) -> _JacEntry:
        if not self.has_jacobian:
            raise MissingCapabilityError(f"{self!r} has no Jacobian: {self._no_jacobian_advice}.")
        key, point, f, _, _ = entry
        out = self._compute_jacobian(point, f)
        value = out[0]
        if value is not None:  # computed by the hook: one call of f
            value = self._checked_outputs(value, point, self._jacobian_label)
            f = value if f is None else f
        m = None if f is None else f.size
        jac = self._checked_jacobian(out[1], m, point)
        with self._lock:
            self.njev += 1
            if value is not None:
                self.nfev += 1
        entry = (key, point, f, jac, out)
        self._jac_entry = entry
        return entry

    def _checked_outputs(self, value: Any, point: Any, what: str) -> FloatArray:
        """`value` as 1-D outputs, as many as at every earlier point."""
        f = as_vector_value(value, what, point)
        self._check_outputs(f.size, point)
        return f

    def _check_outputs(self, m: int, point: Any) -> None:
        known = self._outputs
        if known is None:
            self._outputs = m
        elif m != known:
            raise ObjectiveError(
                f"{self!r} returned {m} outputs at x = {format_point(point)}, but {known} "
                "before; a vector-valued function must always return the same number."
            )

    def _checked_jacobian(self, jac: Any, m: int | None, point: Any) -> Any:
        """`jac` as a float64 array (or CSR matrix) of shape ``(m, d)``."""
        d = int(np.size(point))
        what = self._jacobian_label
        if jac is None:
            where = f" at x = {format_point(point)}"
            raise ObjectiveError(f"{what} returned None{where}; it must return (m, d) = (m, {d}).")
        if sp.issparse(jac):
            out: Any = sp.csr_array(jac, dtype=np.float64)
        else:
            arr = np.asarray(jac)
            if arr.dtype.kind not in "biuf":
                raise ObjectiveError(
                    f"{what} must return real numbers; it returned dtype {arr.dtype} at x = "
                    f"{format_point(point)}."
                )
            if arr.ndim == 1 and arr.size == d and m in (None, 1):
                arr = arr.reshape(1, d)  # the gradient of a function with one output
            out = np.array(arr, dtype=np.float64)
        rows = m if m is not None else self._outputs
        if out.ndim != 2 or out.shape[1] != d or (rows is not None and out.shape[0] != rows):
            expected = f"({rows if rows is not None else 'm'}, {d})"
            raise ObjectiveError(
                f"{what} must return an array of shape {expected} (outputs, coordinates of "
                f"x); it returned shape {out.shape} at x = {format_point(point)}."
            )
        if out.shape[0] == 0:
            raise ObjectiveError(
                f"{what} has no rows at x = {format_point(point)}: the function needs an output."
            )
        return out
