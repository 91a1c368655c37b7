"""Reverse- and forward-mode automatic differentiation with the ``autograd`` package."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import autograd
import numpy as np

from gradopt._typing import ArrayLike, FloatArray, as_point_and_vector, as_scalar_value
from gradopt.exceptions import AutogradTraceError
from gradopt.gradients._base import BaseProvider

__all__ = ["Autograd"]

_ADVICE = (
    "autograd traces f by calling it with ArrayBox objects: write f with autograd.numpy "
    "(import autograd.numpy as np) and without assigning into arrays (no x[i] = ..., "
    "no out[...] += ...); build arrays with np.stack, np.concatenate or np.where instead."
)


def _is_tracing_failure(exc: BaseException) -> bool:
    """Whether `exc` is autograd's typical complaint rather than a user's own error."""
    text = str(exc)
    return "ArrayBox" in text or "setting an array element with a sequence" in text


def _explain(exc: Exception, fun: Callable[..., Any], x: Any) -> None:
    """Raise a clearer error for autograd's terse complaints about tracing ``fun`` at `x`.

    Returns (so the caller re-raises `exc`) when `exc` is not one of them. A plain
    ``try``/``except`` around each traced call costs nothing on success, unlike a
    context manager (about 0.7 µs per call).
    """
    if _is_tracing_failure(exc):
        raise AutogradTraceError(f"{_ADVICE} (autograd said: {exc})") from exc
    if "scalar-output" in str(exc):
        as_scalar_value(fun(x))  # names the shape (or dtype) that f returned


class Autograd(BaseProvider):
    """Exact gradients by reverse-mode automatic differentiation (``autograd``).

    The function is called once per gradient, with traced values: Python loops, ``if``
    branches and matrix products all work, as long as `fun` uses ``autograd.numpy`` and
    does not assign into arrays.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float`` written with ``autograd.numpy``.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> p = Autograd(lambda x: anp.sum(x**3))
    >>> p.value_and_grad(anp.array([1.0, 2.0]))
    (9.0, array([ 3., 12.]))
    >>> p.hessp([1.0, 2.0], [1.0, 0.0])
    array([6., 0.])
    """

    def __init__(self, fun: Callable[..., Any]) -> None:
        super().__init__(fun)
        self._value_and_grad = autograd.value_and_grad(fun)
        self._hvp = autograd.hessian_vector_product(fun)
        self._jvp = autograd.make_jvp(fun)

    #: Always True: autograd derives the Hessian-vector product.
    has_hessp = True

    def _compute_grad(self, x: FloatArray, f0: float | None) -> tuple[float | None, FloatArray]:
        self.nfev += 1
        x_user = self._user_shaped(x)
        try:
            value, grad = self._value_and_grad(x_user)
        except (TypeError, ValueError) as exc:
            _explain(exc, self.fun, x_user)
            raise
        return as_scalar_value(value), np.asarray(grad, dtype=np.float64)

    def hessp(self, x: ArrayLike, v: ArrayLike) -> FloatArray:
        """Hessian at `x` times `v` (reverse over reverse), shaped like `x`."""
        point, vec, shape = as_point_and_vector(x, v)
        self.nfev += 1
        self.nhev += 1
        x_user = point.reshape(shape)
        try:
            with warnings.catch_warnings():
                # The Hessian of a linear function is zero, rightly: not worth a warning.
                warnings.filterwarnings("ignore", "Output seems independent of input")
                hv = self._hvp(x_user, vec.reshape(shape))
        except (TypeError, ValueError) as exc:
            _explain(exc, self.fun, x_user)
            raise
        return np.asarray(hv, dtype=np.float64).reshape(shape)

    def jvp(self, x: ArrayLike, v: ArrayLike) -> tuple[float, float]:
        """Forward mode: ``(f(x), grad(x) @ v)``, the directional derivative along `v`."""
        point, vec, shape = as_point_and_vector(x, v)
        self.nfev += 1
        x_user = point.reshape(shape)
        try:
            value, slope = self._jvp(x_user)(vec.reshape(shape))
        except (TypeError, ValueError) as exc:
            _explain(exc, self.fun, x_user)
            raise
        return as_scalar_value(value), as_scalar_value(slope, "the directional derivative")
