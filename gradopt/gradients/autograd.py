"""Reverse- and forward-mode automatic differentiation with the ``autograd`` package."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
from autograd.numpy.numpy_boxes import ArrayBox
from autograd.tracer import getval

from gradopt._typing import FloatArray, as_scalar_value, as_vector_value
from gradopt.exceptions import AutogradTraceError, ObjectiveError
from gradopt.gradients._base import BaseProvider

__all__ = ["Autograd", "ObjectArrayWarning"]

_ADVICE = (
    "autograd traces f by calling it with ArrayBox objects: write f with autograd.numpy "
    "(import autograd.numpy as np) and without assigning into arrays (no x[i] = ..., "
    "no out[...] += ...); build arrays with np.stack, np.concatenate or np.where instead."
)

# autograd numbers nested traces with one global counter, raised and lowered without a
# lock: a thread whose trace ends between another's outer and inner trace (hessp) can
# give those two the same number, which nested differentiation relies on to tell them
# apart. Not observed in 800 concurrent products, but cheap to rule out: traces are
# serialized (0.2 µs against 100+ µs per trace, which holds the GIL anyway).
_TRACE_LOCK = threading.RLock()


class ObjectArrayWarning(UserWarning):
    """f turned autograd's traced argument into a NumPy object array (slow, see Autograd)."""


class _WatchedArrayBox(ArrayBox):  # type: ignore[misc]
    """The ArrayBox of f's argument, which notices when NumPy converts it to an array.

    Plain NumPy functions that are not ufuncs (``np.asarray``, ``np.dot``, ``np.where``,
    ``np.linalg.norm``, and so scipy.optimize.rosen) turn a box into an object array of
    one box per element: autograd then traces every element on its own, 100 times slower
    than vectorized code. Same layout as ArrayBox (no new slots), so the class of the
    box autograd made can be switched; behaviour is unchanged apart from the warning.
    """

    __slots__ = ()

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        warnings.warn(
            "Autograd: f converts its argument to a NumPy array (np.asarray, or a NumPy "
            "function that is not a ufunc, such as np.dot, np.where, np.linalg.norm; "
            "scipy.optimize.rosen is one): autograd then traces each element on its own, "
            "about 100x slower than vectorized code and slower than finite differences. "
            "Write f with autograd.numpy (import autograd.numpy as np).",
            ObjectArrayWarning,
            stacklevel=2,
        )
        value = self._value
        out = np.empty(value.shape, dtype=object)  # what NumPy builds from the sequence
        for index in np.ndindex(value.shape):
            out[index] = self[index] if value.ndim else self
        return out


_WatchedArrayBox.register(_WatchedArrayBox)  # a box type autograd recognizes (isbox)


def _watched(fun: Callable[..., Any]) -> Callable[..., Any]:
    """`fun` for tracing: its argument's box is watched and its output checked."""

    def traced(x: Any) -> Any:
        if type(x) is ArrayBox:
            x.__class__ = _WatchedArrayBox
        out = fun(x)
        value = getval(out)  # a box's number (autograd would name only its vector space)
        if not isinstance(value, float):
            as_scalar_value(value, "the function", getval(x))
        return out

    return traced


def _explain(exc: Exception, fun: Callable[..., Any], x: FloatArray) -> None:
    """Raise a clearer error for autograd's terse complaints about tracing ``fun`` at `x`.

    Returns (so the caller re-raises `exc`) when `exc` is not one of them. A plain
    ``try``/``except`` around each traced call costs nothing on success, unlike a
    context manager (about 0.7 µs per call).
    """
    text = str(exc)
    if "ArrayBox" in text or "setting an array element with a sequence" in text:
        raise AutogradTraceError(f"{_ADVICE} (autograd said: {exc})") from exc
    if "scalar-output" in text or "vector space for value" in text:
        # f returned something other than a real number: say what, at which point
        as_scalar_value(fun(x.copy()), "the function", x)
        raise ObjectiveError(
            f"the function must return a real number for autograd (autograd said: {exc})."
        ) from exc


class Autograd(BaseProvider):
    """Exact gradients by reverse-mode automatic differentiation (``autograd``).

    The function is called once per gradient, with traced values: Python loops, ``if``
    branches and matrix products all work, as long as `fun` uses ``autograd.numpy`` and
    does not assign into arrays. A function written with plain NumPy functions such as
    ``np.dot`` or ``np.asarray`` (``scipy.optimize.rosen`` is one) is still
    differentiated right, but element by element, 100 times slower: an
    :class:`~gradopt.gradients.ObjectArrayWarning` says so. Hessian-vector products are
    reverse over reverse, ``jvp`` is forward mode.

    The Jacobian of a vector-valued `fun` (m outputs, d coordinates) takes the cheaper
    mode: reverse (one traced call of f and m backward passes) when ``m <= d``, forward
    (d traced calls, each counted in ``nfev``) when ``m > d``. m is known from the
    outputs at x when they were asked first (``vector_value``, as least squares does),
    else from an earlier Jacobian; the first one, with m unknown, is reverse.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float`` (or ``-> array (m,)`` for Jacobians) written with
        ``autograd.numpy``.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> p = Autograd(lambda x: anp.sum(x**3))
    >>> p.value_and_grad(anp.array([1.0, 2.0]))
    (9.0, array([ 3., 12.]))
    >>> p.hessp([1.0, 2.0], [1.0, 0.0])
    array([6., 0.])
    >>> p.jvp([1.0, 2.0], [1.0, 1.0])  # (f(x), grad f(x) @ v)
    (9.0, 15.0)
    >>> Autograd(lambda x: anp.array([x[0] * x[1], anp.sin(x[0])])).jacobian([0.0, 2.0])
    array([[2., 0.],
           [1., 0.]])
    """

    def __init__(self, fun: Callable[..., Any]) -> None:
        super().__init__(fun)
        self._value_and_grad = autograd.value_and_grad(_watched(fun))
        gradient = autograd.grad(fun)

        def along(x: Any, v: Any) -> Any:
            # + 0·x[0]: the output depends on x even where the gradient does not (a
            # linear f), which spares autograd's "output seems independent" warning.
            return anp.sum(gradient(x) * v) + 0.0 * anp.ravel(x)[0]

        self._hvp = autograd.grad(along)
        self._jvp = autograd.make_jvp(fun)
        self._vjp = autograd.make_vjp(fun)

    def _compute_grad(self, x: FloatArray, f0: float | None) -> tuple[Any, Any]:
        with _TRACE_LOCK:
            try:
                return self._value_and_grad(x.copy())  # type: ignore[no-any-return]
            except (TypeError, ValueError) as exc:
                _explain(exc, self.fun, x)
                raise

    def _compute_hessp(self, x: FloatArray, v: FloatArray) -> Any:
        with _TRACE_LOCK:
            try:
                return self._hvp(x.copy(), v)
            except (TypeError, ValueError) as exc:
                _explain(exc, self.fun, x)
                raise

    def _compute_jvp(self, x: FloatArray, v: FloatArray) -> tuple[Any, Any]:
        with _TRACE_LOCK:
            try:
                return self._jvp(x.copy())(v)  # type: ignore[no-any-return]
            except (TypeError, ValueError) as exc:
                _explain(exc, self.fun, x)
                raise

    def _compute_jacobian(self, x: FloatArray, f0: FloatArray | None) -> tuple[Any, ...]:
        d = x.size
        m = f0.size if f0 is not None else self._outputs
        with _TRACE_LOCK:
            try:
                if m is not None and m > d:  # forward mode: one traced call per column
                    push = self._jvp(x.copy())
                    columns = [push(e.reshape(x.shape)) for e in np.eye(d)]
                    self._count(d - 1)  # the value returned below is counted once more
                    value = columns[0][0]
                    jac = np.column_stack([np.reshape(c[1], -1) for c in columns])
                    return value, jac
                pull, value = self._vjp(x.copy())  # reverse mode: one traced call
                outputs = as_vector_value(value, "the function", x)
                rows = [
                    np.reshape(pull(e.reshape(np.shape(value))), -1) for e in np.eye(outputs.size)
                ]
                return value, np.array(rows)
            except (TypeError, ValueError) as exc:
                _explain(exc, self.fun, x)
                raise
