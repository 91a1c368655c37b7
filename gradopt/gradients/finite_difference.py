"""Gradients by finite differences: forward, backward, central and complex step."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator

from gradopt._typing import ArrayLike, FloatArray, as_scalar_value
from gradopt.exceptions import (
    ComplexStepError,
    InvalidInputError,
    MissingCapabilityError,
    ObjectiveError,
)
from gradopt.gradients._base import BaseProvider
from gradopt.gradients._schemes import SCHEMES, Scheme

__all__ = ["FiniteDifference"]

Method = Literal["forward", "backward", "central", "complex", "richardson"]


class FiniteDifferenceOptions(BaseModel):
    """Validated options of :class:`FiniteDifference`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    method: Method = "central"
    step: float | tuple[float, ...] | None = None

    @field_validator("step", mode="before")
    @classmethod
    def _positive_step(cls, step: Any) -> Any:
        if step is None:
            return None
        arr = np.asarray(step, dtype=np.float64)
        if arr.ndim > 1 or arr.size == 0:
            raise ValueError(f"step must be a scalar or a 1-D sequence; got shape {arr.shape}")
        if not np.all(np.isfinite(arr) & (arr > 0)):
            raise ValueError(f"step must be positive and finite; got {step!r}")
        return float(arr) if arr.ndim == 0 else tuple(arr.tolist())


class FiniteDifference(BaseProvider):
    """Gradient of a black-box function by finite differences.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``.
    method : {"central", "forward", "backward", "complex", "richardson"}, default "central"
        ``"forward"``/``"backward"``: one-sided, error O(h), d calls of f plus f(x)
        (reused when known: exactly d + 1 calls for value and gradient).
        ``"central"``: error O(h^2), 2d calls (+1 for the value).
        ``"complex"``: the complex step ``Im f(x + i h e_j) / h``, exact to rounding,
        d calls; needs a function that carries complex numbers through.
        ``"richardson"``: central differences at the steps ``h, h/2, ..., h/16``
        extrapolated to O(h^10), with an error estimate per component
        (:meth:`grad_and_error`); 10d calls (+1 for the value).
    step : float or sequence of float, optional
        Absolute step, one for all coordinates or one per coordinate. By default each
        method's theoretical optimum relative to ``max(1, |x_j|)`` is used:
        ``sqrt(eps)`` (one-sided), ``eps**(1/3)`` (central), 1e-20 (complex), about
        0.06 (richardson, the largest of its steps).

    Examples
    --------
    >>> import numpy as np
    >>> p = FiniteDifference(np.sin, method="central")
    >>> float(p.grad(1.0))  # cos(1)
    0.5403023058...
    >>> fwd = FiniteDifference(lambda x: np.sum(x**2), method="forward")
    >>> _ = fwd.value_and_grad(np.ones(3))
    >>> fwd.nfev  # d + 1
    4
    >>> g, err = FiniteDifference(np.sin, method="richardson").grad_and_error(1.0)
    >>> bool(abs(g - np.cos(1.0)) <= err < 1e-13)
    True
    """

    def __init__(
        self,
        fun: Callable[..., Any],
        method: Method = "central",
        step: float | Sequence[float] | None = None,
    ) -> None:
        super().__init__(fun)
        self.options = FiniteDifferenceOptions(method=method, step=step)  # type: ignore[arg-type]
        self.scheme: Scheme = SCHEMES[self.options.method]
        self._err: FloatArray | None = None

    @property
    def method(self) -> str:
        """The finite-difference method in use."""
        return self.options.method

    def steps(self, x: FloatArray) -> FloatArray:
        """The step ``h_j`` used for each coordinate at the 1-D point `x`."""
        step = self.options.step
        if step is None:
            return self.scheme.default_step(x)
        if np.size(step) not in (1, x.size):
            raise InvalidInputError(
                f"step has {np.size(step)} entries but x has {x.size} coordinates."
            )
        h: FloatArray = np.broadcast_to(np.asarray(step, dtype=np.float64), x.shape).copy()
        return h

    def _compute_grad(self, x: FloatArray, f0: float | None) -> tuple[float | None, FloatArray]:
        if self.scheme.uses_f0 and f0 is None:
            f0 = self._call(x)
        h = self.steps(x)
        values = self._evaluate_points(x, h)
        combine_with_error = getattr(self.scheme, "combine_with_error", None)
        if combine_with_error is None:
            return f0, self.scheme.combine(values, f0, h)
        grad, self._err = combine_with_error(values, f0, h, x=x)  # cached with the gradient
        return f0, grad

    def grad_and_error(self, x: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Return the gradient and an estimate of its absolute error per component.

        Only ``method="richardson"`` estimates its error. The estimate is cached with the
        gradient, so ``grad(x)`` then ``grad_and_error(x)`` costs one gradient. It assumes
        f is computed to a few units in the last place; noisier functions (inner solvers,
        simulations) get an estimate that is too small.
        """
        if not hasattr(self.scheme, "combine_with_error"):
            raise MissingCapabilityError(
                f"method={self.method!r} has no error estimate; use method='richardson'."
            )
        grad = self.grad(x)
        assert self._err is not None
        return grad, self._err.reshape(self._shape).copy()

    def _evaluate_points(self, x: FloatArray, h: FloatArray) -> np.ndarray[Any, Any]:
        """Values of the user's function at every point of the scheme, in order."""
        points = self.scheme.iter_points(x, h)
        if self.scheme.imaginary:
            return self._evaluate_complex(points)
        fun, shape = self.fun, self._shape
        raw = [fun(p.reshape(shape)) for p in points]
        self._count(len(raw))
        return _as_values(raw, np.float64)

    def _evaluate_complex(self, points: Any) -> np.ndarray[Any, Any]:
        fun, shape = self.fun, self._shape
        raw: list[Any] = []
        try:
            with warnings.catch_warnings():
                # Casting a complex intermediate to float drops the derivative silently.
                warnings.simplefilter("error", np.exceptions.ComplexWarning)
                for p in points:
                    raw.append(fun(p.reshape(shape)))
        except (TypeError, np.exceptions.ComplexWarning) as exc:
            self._count(len(raw) + 1)
            if not type(exc).__module__.startswith(("builtins", "numpy", "scipy", "math")):
                raise  # the user's own TypeError subclass: theirs, not about complex input
            raise ComplexStepError(
                f"method='complex' failed: the function does not accept complex input "
                f"({type(exc).__name__}: {exc}). Write it with numpy operations that carry "
                "complex numbers through (no float(), math.*, abs() or assignment into real "
                "arrays), or use method='central'."
            ) from exc
        self._count(len(raw))
        values = _as_values(raw, np.complex128)
        if not any(np.iscomplexobj(v) for v in raw):
            raise ComplexStepError(
                "method='complex' needs a function that carries complex numbers through, "
                "but this one returned real values for complex input (the imaginary part, "
                "which holds the derivative, was dropped). Use method='central'."
            )
        return values


def _as_values(raw: list[Any], dtype: type[np.generic]) -> np.ndarray[Any, Any]:
    """Stack the outputs of f into a 1-D array, checking each is a scalar."""
    try:
        values = np.asarray(raw, dtype=dtype)
    except (TypeError, ValueError):
        values = np.empty(0)
    if values.shape != (len(raw),):
        if values.size == len(raw):
            return values.reshape(-1)
        for item in raw:  # find the offending value for the error message
            if np.iscomplexobj(item):
                item = np.real(item)
            as_scalar_value(item)
        raise ObjectiveError("the function must return a scalar at every point.")
    return values
