"""Check a hand-written gradient against a reference, component by component, relatively.

:func:`scipy.optimize.check_grad` returns ``||grad(x) - forward difference||_2``, an
absolute number that mixes the forward difference's own error (about ``sqrt(eps)``
relative) with the user's mistake: a correct gradient can score worse than a wrong one.
:func:`check_gradient` compares with a reference that carries its own error estimate
(Richardson extrapolation by default) and reports, per component, the relative error that
remains once the reference's uncertainty is taken off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from gradopt._typing import ArrayLike, FloatArray, as_point
from gradopt.exceptions import InvalidInputError
from gradopt.gradients._base import BaseProvider
from gradopt.gradients.finite_difference import FiniteDifference

__all__ = ["GradientCheck", "check_gradient"]

_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, repr=False)
class GradientCheck:
    """The outcome of :func:`gradopt.check_gradient`.

    Attributes
    ----------
    errors : ndarray
        Per component, ``max(|g_j - r_j| - e_j, 0) / max(|r_j|, sqrt(eps) ||(r, g)||_inf)``:
        the part of the difference from the reference ``r`` that the reference's error
        estimate ``e`` cannot explain, relative to the component, or to ``sqrt(eps)``
        times the whole gradient for a component much smaller than that (one at
        rounding level, ``6e-17`` against ``0 ± 4e-17``, is right, not a mismatch).
    max_rel_error : float
        The largest of `errors`.
    worst : int
        The index of the largest error.
    ok : bool
        Whether ``max_rel_error <= rtol``.
    grad, reference, reference_error : ndarray
        The gradient checked, the reference and the reference's error estimate.
    rtol : float
        The tolerance used.
    """

    errors: FloatArray
    max_rel_error: float
    worst: int
    ok: bool
    grad: FloatArray
    reference: FloatArray
    reference_error: FloatArray
    rtol: float

    def __repr__(self) -> str:
        verdict = "ok" if self.ok else "MISMATCH"
        j = self.worst
        return (
            f"GradientCheck({verdict}: max relative error {self.max_rel_error:.1e} at index "
            f"{j} (grad {self.grad[j]:.10g}, reference {self.reference[j]:.10g} ± "
            f"{self.reference_error[j]:.1e}), rtol={self.rtol:g}, d={self.grad.size})"
        )


def check_gradient(
    fun: Callable[..., Any],
    grad: Callable[..., Any],
    x: ArrayLike,
    reference: Literal["richardson", "complex"] | ArrayLike | None = None,
    rtol: float = 1e-6,
) -> GradientCheck:
    """Compare a gradient function with a trusted reference at `x`.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``.
    grad : callable
        ``grad(x) -> array`` shaped like `x`: the gradient to check.
    x : float or 1-D array
        Where to check.
    reference : {"richardson", "complex"} or array, optional
        ``None`` or ``"richardson"``: :class:`~gradopt.FiniteDifference` with
        Richardson extrapolation and its error estimate (10 d calls of `fun`; works for
        any smooth real f). ``"complex"``: the complex step, exact to rounding (d calls;
        `fun` must carry complex numbers through). It is not the default because code
        that conjugates (``np.vdot(x, x)``) or takes real parts gives a wrong reference
        without any error. An array: a known gradient, taken as exact.
    rtol : float, default 1e-6
        The largest relative error accepted.

    Returns
    -------
    GradientCheck

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import rosen, rosen_der
    >>> x = np.tile([-1.2, 1.0], 5)
    >>> check_gradient(rosen, rosen_der, x).ok
    True
    >>> def wrong(x):
    ...     g = rosen_der(x)
    ...     g[3] *= 1 + 1e-5
    ...     return g
    >>> check_gradient(rosen, wrong, x)
    GradientCheck(MISMATCH: max relative error 1.0e-05 at index 3 (...), rtol=1e-06, d=10)
    """
    if not callable(grad):
        raise InvalidInputError(f"grad must be callable; got {type(grad).__name__}.")
    if isinstance(rtol, bool) or not (isinstance(rtol, int | float) and rtol > 0):
        raise InvalidInputError(f"rtol must be a positive number; got {rtol!r}.")
    point = as_point(x)
    ref, ref_err = _reference(fun, x, point, reference)
    shaped = point.reshape(np.shape(x))
    # what grad returned, checked as every provider checks a hand-written gradient
    g = BaseProvider._checked_array(grad(shaped.copy()), shaped, "grad").reshape(-1)
    g_max = float(np.max(np.abs(g), where=np.isfinite(g), initial=0.0))
    # A component far below the gradient's scale is judged against sqrt(eps) times that
    # scale: a few rounding units of the largest components are all it can show.
    floor = np.sqrt(_EPS) * max(float(np.max(np.abs(ref))), g_max)
    scale = np.maximum(np.abs(ref), max(floor, float(np.finfo(np.float64).tiny)))
    excess = np.maximum(np.abs(g - ref) - ref_err, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # written so that a NaN component stays NaN (and fails the check)
        errors = np.where(excess <= 0, 0.0, excess / scale)
    worst = int(np.argmax(errors))
    max_rel = float(errors[worst])
    return GradientCheck(
        errors=errors,
        max_rel_error=max_rel,
        worst=worst,
        ok=bool(max_rel <= rtol),
        grad=g,
        reference=ref,
        reference_error=ref_err,
        rtol=float(rtol),
    )


def _reference(
    fun: Callable[..., Any], x: ArrayLike, point: FloatArray, reference: Any
) -> tuple[FloatArray, FloatArray]:
    if reference is None or (isinstance(reference, str) and reference == "richardson"):
        g, err = FiniteDifference(fun, method="richardson").grad_and_error(x)
        return np.reshape(g, -1), np.reshape(err, -1)
    if isinstance(reference, str) and reference == "complex":
        g = np.reshape(FiniteDifference(fun, method="complex").grad(x), -1)
        # No subtraction, no truncation at h = 1e-20: a few rounding errors of each value.
        return g, 4 * _EPS * np.abs(g)
    if isinstance(reference, str):
        raise InvalidInputError(
            f"reference must be 'richardson', 'complex' or an array; got {reference!r}."
        )
    given = np.asarray(reference)
    if given.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"reference must hold real numbers; got an array of dtype {given.dtype}."
        )
    ref = given.astype(np.float64).reshape(-1)
    if ref.size != point.size:
        raise InvalidInputError(
            f"reference must have one entry per coordinate of x ({point.size}); got {ref.size}."
        )
    if not np.all(np.isfinite(ref)):
        raise InvalidInputError(f"reference must be finite; got {ref}.")
    return ref, np.zeros_like(ref)
