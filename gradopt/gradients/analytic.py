"""A gradient (and optionally a Hessian-vector product) written by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradopt._typing import ArrayLike, FloatArray, as_point
from gradopt.exceptions import InvalidInputError, MissingCapabilityError, ObjectiveError
from gradopt.gradients._base import BaseProvider

__all__ = ["Analytic"]


def _checked_vector(value: Any, shape: tuple[int, ...], what: str) -> FloatArray:
    if value is None:  # np.asarray(None, float) would be a silent NaN
        raise ObjectiveError(
            f"{what} returned None; it must return an array of shape {shape} "
            "(the shape of x). Is a return statement missing?"
        )
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != shape and not (arr.size == 1 == int(np.prod(shape))):
        raise ObjectiveError(
            f"{what} must return an array of shape {shape} (the shape of x); "
            f"it returned shape {arr.shape}."
        )
    return arr.reshape(-1)


class Analytic(BaseProvider):
    """A provider for a hand-written gradient.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``.
    grad : callable
        ``grad(x) -> array`` of the same shape as ``x``. Its shape is checked on each use.
    hessp : callable, optional
        ``hessp(x, v) -> array``, the Hessian at ``x`` times ``v``; enables Newton-type
        methods.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import rosen, rosen_der
    >>> p = Analytic(rosen, rosen_der)
    >>> p.value_and_grad(np.array([1.0, 1.0]))
    (0.0, array([0., 0.]))
    >>> p.nfev, p.ngev
    (1, 1)
    """

    def __init__(
        self,
        fun: Callable[..., Any],
        grad: Callable[..., Any],
        hessp: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__(fun)
        if not callable(grad):
            raise InvalidInputError(f"grad must be callable; got {type(grad).__name__}.")
        if hessp is not None and not callable(hessp):
            raise InvalidInputError(f"hessp must be callable or None; got {type(hessp).__name__}.")
        self.gradient = grad
        self._hessp = hessp

    @property
    def has_hessp(self) -> bool:
        """Whether a Hessian-vector product was given."""
        return self._hessp is not None

    def _compute_grad(self, x: FloatArray, f0: float | None) -> tuple[float | None, FloatArray]:
        g = self.gradient(self._user_shaped(x))
        return None, _checked_vector(g, x.shape, "grad")

    def hessp(self, x: ArrayLike, v: ArrayLike) -> FloatArray:
        """Return the Hessian at `x` times `v`, shaped like `x`."""
        if self._hessp is None:
            raise MissingCapabilityError(
                "This Analytic provider has no Hessian-vector product: pass hessp= "
                "or use Autograd, which derives one."
            )
        point = as_point(x)
        vec = as_point(v, name="v")
        if vec.shape != point.shape:
            raise InvalidInputError(f"v must have the shape of x {point.shape}; got {vec.shape}.")
        shape = () if np.ndim(x) == 0 else point.shape
        self.nhev += 1
        hv = self._hessp(point.reshape(shape), vec.reshape(shape))
        return _checked_vector(hv, point.shape, "hessp").reshape(shape)
