"""A gradient (and optionally a Hessian-vector product) written by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradopt._typing import ArrayLike, FloatArray, as_point_and_vector, as_scalar_value
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
    grad : callable, optional
        ``grad(x) -> array`` of the same shape as ``x``. Its shape is checked on each use.
        Needed unless `value_and_grad` is given.
    hessp : callable, optional
        ``hessp(x, v) -> array``, the Hessian at ``x`` times ``v``; enables Newton-type
        methods.
    value_and_grad : callable, optional
        ``value_and_grad(x) -> (float, array)``: value and gradient from one call, when
        they share most of their work (scipy's ``jac=True`` convention). Used for every
        gradient (one call, counted once in ``nfev``); `fun` alone serves ``value(x)``,
        which line searches call at trial points.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import rosen, rosen_der
    >>> p = Analytic(rosen, rosen_der)
    >>> p.value_and_grad(np.array([1.0, 1.0]))
    (0.0, array([0., 0.]))
    >>> p.nfev, p.ngev
    (1, 1)

    When value and gradient share their work, hand both over in one function:

    >>> def f_and_g(x):
    ...     return float(x @ x), 2 * x
    >>> q = Analytic(lambda x: float(x @ x), value_and_grad=f_and_g)
    >>> q.value_and_grad(np.array([1.0, 2.0]))
    (5.0, array([2., 4.]))
    >>> q.nfev, q.ngev
    (1, 1)
    """

    def __init__(
        self,
        fun: Callable[..., Any],
        grad: Callable[..., Any] | None = None,
        hessp: Callable[..., Any] | None = None,
        *,
        value_and_grad: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__(fun)
        if grad is None and value_and_grad is None:
            raise InvalidInputError("Analytic needs grad= or value_and_grad=; got neither.")
        for name, given in (("grad", grad), ("hessp", hessp), ("value_and_grad", value_and_grad)):
            if given is not None and not callable(given):
                raise InvalidInputError(
                    f"{name} must be callable or None; got {type(given).__name__}."
                )
        self.gradient = grad
        self._hessp = hessp
        self._fused = value_and_grad

    @property
    def has_hessp(self) -> bool:
        """Whether a Hessian-vector product was given."""
        return self._hessp is not None

    def _compute_grad(self, x: FloatArray, f0: float | None) -> tuple[float | None, FloatArray]:
        if self._fused is None:
            assert self.gradient is not None
            g = self.gradient(self._user_shaped(x))
            return None, _checked_vector(g, x.shape, "grad")
        self.nfev += 1
        out = self._fused(self._user_shaped(x))
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ObjectiveError(
                f"value_and_grad must return a (value, gradient) pair; got {type(out).__name__}."
            )
        value, g = out
        return as_scalar_value(value, "value_and_grad"), _checked_vector(
            g, x.shape, "value_and_grad"
        )

    def hessp(self, x: ArrayLike, v: ArrayLike) -> FloatArray:
        """Return the Hessian at `x` times `v`, shaped like `x`."""
        if self._hessp is None:
            raise MissingCapabilityError(
                "This Analytic provider has no Hessian-vector product: pass hessp= "
                "or use Autograd, which derives one."
            )
        point, vec, shape = as_point_and_vector(x, v)
        self.nhev += 1
        hv = self._hessp(point.reshape(shape), vec.reshape(shape))
        return _checked_vector(hv, point.shape, "hessp").reshape(shape)
