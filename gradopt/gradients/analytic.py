"""A gradient (and optionally a Hessian-vector product), or a Jacobian, written by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradopt._typing import FloatArray, as_scalar_value, format_point
from gradopt.exceptions import InvalidInputError, MissingCapabilityError, ObjectiveError
from gradopt.gradients._base import BaseProvider

__all__ = ["Analytic"]


class Analytic(BaseProvider):
    """A provider for a hand-written gradient, or Jacobian.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``, or ``fun(x) -> array (m,)`` with `jacobian`.
    grad : callable, optional
        ``grad(x) -> array`` of the same shape as ``x``. Its shape is checked on each use.
        Needed unless `value_and_grad` is given. Return a new array each time: the
        provider keeps the one returned (without copying it) as the cached gradient at
        ``x``, and hands out copies.
    hessp : callable, optional
        ``hessp(x, v) -> array``, the Hessian at ``x`` times ``v``; enables Newton-type
        methods.
    value_and_grad : callable, optional
        ``value_and_grad(x) -> (float, array)``: value and gradient from one call, when
        they share most of their work (scipy's ``jac=True`` convention). Used for every
        gradient (one call, counted once in ``nfev``); `fun` alone serves ``value(x)``,
        which line searches call at trial points.
    jacobian : callable, optional
        ``jacobian(x) -> array (m, d)`` (or a scipy.sparse matrix) for a vector-valued
        `fun`: serves :meth:`jacobian`, its shape checked on each use. Without it, the
        Jacobian of a scalar `fun` is its gradient as one row.

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

    A vector-valued function and its Jacobian:

    >>> r = Analytic(lambda x: np.array([x[0] * x[1], x[1] ** 2]),
    ...              jacobian=lambda x: np.array([[x[1], x[0]], [0.0, 2 * x[1]]]))
    >>> r.value_and_jacobian(np.array([2.0, 3.0]))
    (array([6., 9.]), array([[3., 2.],
           [0., 6.]]))
    """

    def __init__(
        self,
        fun: Callable[..., Any],
        grad: Callable[..., Any] | None = None,
        hessp: Callable[..., Any] | None = None,
        *,
        value_and_grad: Callable[..., Any] | None = None,
        jacobian: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__(fun)
        if grad is None and value_and_grad is None and jacobian is None:
            raise InvalidInputError(
                "Analytic needs grad=, value_and_grad= or jacobian=; got none of them."
            )
        given_callables = (
            ("grad", grad),
            ("hessp", hessp),
            ("value_and_grad", value_and_grad),
            ("jacobian", jacobian),
        )
        for name, given in given_callables:
            if given is not None and not callable(given):
                raise InvalidInputError(
                    f"{name} must be callable or None; got {type(given).__name__}."
                )
        self.gradient = grad
        self._hessp = hessp
        self._fused = value_and_grad
        self._jacobian = jacobian
        self._grad_label = "grad" if value_and_grad is None else "value_and_grad"
        self._jacobian_label = "jacobian" if jacobian is not None else self._grad_label
        self._hessp_label = "hessp"
        self._no_hessp_advice = "pass hessp= or use Autograd, Jax or Symbolic, which derive one"

    @property
    def has_hessp(self) -> bool:
        """Whether a Hessian-vector product was given."""
        return self._hessp is not None

    @property
    def has_jacobian(self) -> bool:
        """Whether :meth:`jacobian` is available: always (the gradient as one row when no
        `jacobian` was given)."""
        return True

    def _compute_jacobian(self, x: FloatArray, f0: Any) -> tuple[Any, Any]:
        if self._jacobian is not None:
            return None, self._jacobian(x.copy())
        return None, self.grad(x).reshape(1, -1)  # counted as a gradient, cached

    def _compute_grad(self, x: FloatArray, f0: float | None) -> tuple[Any, Any]:
        if self._fused is None:  # x.copy(): the user's function may write into it
            if self.gradient is None:
                raise MissingCapabilityError(
                    f"{self!r} was given a Jacobian, not a gradient: pass grad= for grad()."
                )
            return None, self.gradient(x.copy())
        out = self._fused(x.copy())
        try:
            value, g = out
        except (TypeError, ValueError):
            raise ObjectiveError(
                "value_and_grad must return a (value, gradient) pair; got "
                f"{type(out).__name__} at x = {format_point(x)}."
            ) from None
        if value is None:  # to BaseProvider, None would mean "not computed"
            as_scalar_value(value, "value_and_grad", x)  # raises, naming the point
        return value, g

    def _compute_hessp(self, x: FloatArray, v: FloatArray) -> Any:
        assert self._hessp is not None  # else has_hessp is False and hessp() refuses
        return self._hessp(x.copy(), v.copy())
