"""The bookkeeping of vector-valued functions: Jacobians counted and cached at the last point.

A provider whose function returns m outputs offers ``vector_value(x)`` (the outputs,
shape ``(m,)``), ``jacobian(x)`` (shape ``(m, d)``, or a scipy.sparse matrix) and
``value_and_jacobian(x)``, counting calls of the function in ``nfev`` (every call, as for
gradients) and Jacobians in ``njev``. The outputs and the Jacobian at the last point are
cached, so ``vector_value(x)`` then ``jacobian(x)`` (what scipy's ``least_squares`` asks)
never redoes work. A backend implements ``_compute_jacobian``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gradopt._typing import ArrayLike, FloatArray, as_point, as_vector_value
from gradopt.exceptions import MissingCapabilityError, ObjectiveError
from gradopt.gradients._checks import fmt

__all__ = ["JacobianBookkeeping"]


class JacobianBookkeeping:
    """Counting and caching for ``jacobian``; mixed into a provider with ``fun``/``nfev``."""

    if TYPE_CHECKING:  # provided by the provider this is mixed into
        _shape: tuple[int, ...]

    def __init__(self, fun: Any) -> None:
        super().__init__(fun)  # type: ignore[call-arg]
        self.njev = 0
        self._jac_key: bytes | None = None
        self._jac_f: FloatArray | None = None
        self._jac: Any = None
        self._jac_err: Any = None
        self._outputs: int | None = None  # m, once known

    def vector_value(self, x: ArrayLike) -> FloatArray:
        """Return the outputs of the vector-valued function at `x`, shape ``(m,)``."""
        point = self._jac_enter(x)
        if self._jac_f is None:
            self._jac_f = self._outputs_checked(self._compute_vector_value(point), point)
        out: FloatArray = self._jac_f.copy()
        return out

    def jacobian(self, x: ArrayLike) -> Any:
        """Return the Jacobian at `x`: shape ``(m, d)`` (a scipy.sparse matrix with
        ``sparsity=``), ``d = x.size``."""
        self._ensure_jacobian(self._jac_enter(x))
        return self._jac.copy()

    def value_and_jacobian(self, x: ArrayLike) -> tuple[FloatArray, Any]:
        """Return ``(vector_value(x), jacobian(x))``, sharing the work they have in common."""
        point = self._jac_enter(x)
        self._ensure_jacobian(point)
        if self._jac_f is None:
            self._jac_f = self._outputs_checked(self._compute_vector_value(point), point)
        return self._jac_f.copy(), self._jac.copy()

    def jacobian_and_error(self, x: ArrayLike) -> tuple[Any, Any]:
        """Return the Jacobian and an estimate of its absolute error per entry."""
        point = self._jac_enter(x)
        self._ensure_jacobian(point)
        if self._jac_err is None:
            raise MissingCapabilityError(f"{self!r} has no error estimate for its Jacobian.")
        return self._jac.copy(), self._jac_err.copy()

    # ------------------------------------------------------------- for the subclasses
    def _compute_jacobian(
        self, x: FloatArray, f0: FloatArray | None
    ) -> tuple[FloatArray | None, Any, Any]:
        """``(outputs or None, Jacobian, error estimate or None)`` at the 1-D point `x`.

        `f0` is the outputs at `x` when already known; return them when computed on the
        way (they are then cached). Count calls of f with ``_count``.
        """
        raise MissingCapabilityError(f"{self!r} cannot compute Jacobians.")

    def _compute_vector_value(self, x: FloatArray) -> Any:
        raise MissingCapabilityError(f"{self!r} cannot evaluate a vector-valued function.")

    # ----------------------------------------------------------------------- internals
    def _jac_enter(self, x: ArrayLike) -> FloatArray:
        point = as_point(x)
        key = point.tobytes() + (b"\x00" if np.ndim(x) == 0 else b"")
        if key != self._jac_key:
            self._jac_key, self._jac_f, self._jac, self._jac_err = key, None, None, None
        self._set_shape(x, point)
        return point

    def _set_shape(self, x: ArrayLike, point: FloatArray) -> None:
        self._shape = () if np.ndim(x) == 0 else point.shape

    def _ensure_jacobian(self, point: FloatArray) -> None:
        if self._jac is not None:
            return
        f, jac, err = self._compute_jacobian(point, self._jac_f)
        self.njev += 1
        self._jac, self._jac_err = jac, err
        if f is not None and self._jac_f is None:
            self._jac_f = self._outputs_checked(f, point)

    def _outputs_checked(self, value: Any, point: FloatArray) -> FloatArray:
        """`value` as the 1-D outputs of f, as many as every time before."""
        out = as_vector_value(value, f"{self!r}")
        self._check_outputs(out.size, point)
        return out

    def _check_outputs(self, m: int, point: FloatArray) -> None:
        if self._outputs is None:
            self._outputs = m
        elif m != self._outputs:
            raise ObjectiveError(
                f"{self!r} returned {m} outputs at x = {fmt(point)}, but {self._outputs} "
                "before; a vector-valued function must always return the same number."
            )
