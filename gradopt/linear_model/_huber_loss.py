"""The Huber loss with Owen's concomitant scale: scikit-learn's objective, copy-free.

The objective of :class:`sklearn.linear_model.HuberRegressor`, for parameters
``params = [coef (d), intercept (only when fitted), sigma]``::

    L = S·σ + Σᵢ sᵢ·H(rᵢ, σ) + α·‖coef‖²,   rᵢ = yᵢ - xᵢ·coef - intercept,

with ``S = Σᵢ sᵢ`` the sum of the sample weights, ``H(r, σ) = r²/σ`` when
``|r| <= ε·σ`` and ``2·ε·|r| - ε²·σ`` otherwise (the intercept is not penalised). With
the clipped residual ``t = clip(r, -ε·σ, ε·σ)`` both branches are one formula,
``H = t·(2·r - t)/σ``, and the derivatives need no masks either::

    ∂L/∂coef = -(2/σ)·Xᵀ(s·t) + 2·α·coef,   ∂L/∂intercept = -(2/σ)·Σ s·t,
    ∂L/∂σ = S - Σ s·t²/σ².

So one product ``X @ coef`` and one ``X.T @ (s·t)`` per evaluation and no copy of any row
of ``X`` (scikit-learn copies the inlier and the outlier rows on every call). ``X`` may be
a dense array or a scipy.sparse matrix.

:func:`huber_loss` computes the value alone with ``autograd.numpy`` and no assignment
into arrays, so ``autograd`` can differentiate it (and finite differences can call it).
"""

from __future__ import annotations

from typing import Any

import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp, primitive
from autograd.tracer import getval

from gradopt._typing import FloatArray

__all__ = ["huber_loss", "huber_loss_and_gradient", "matvec", "power_of_two"]


@primitive  # type: ignore[untyped-decorator]
def matvec(X: Any, w: Any) -> Any:
    """``X @ w`` for a dense or sparse `X`, differentiable in `w` by autograd.

    autograd's own ``dot`` neither accepts sparse matrices nor avoids work for the
    constant `X`; this primitive's vector-Jacobian product is the one ``X.T @ g``.
    """
    return X @ w


defvjp(matvec, None, lambda ans, X, w: lambda g: X.T @ g)


def _split(params: Any, n_features: int) -> tuple[Any, Any, Any, bool]:
    """Return ``(coef, intercept, sigma, fit_intercept)`` from the parameter vector."""
    size = params.shape[0]
    if size not in (n_features + 1, n_features + 2):
        raise ValueError(
            f"params must have n_features + 1 = {n_features + 1} entries (coef, sigma) or "
            f"n_features + 2 = {n_features + 2} (coef, intercept, sigma); got {size}."
        )
    fit_intercept = size == n_features + 2
    intercept = params[n_features] if fit_intercept else 0.0
    return params[:n_features], intercept, params[size - 1], fit_intercept


def huber_loss_and_gradient(
    params: FloatArray,
    X: Any,
    y: FloatArray,
    epsilon: float,
    alpha: float,
    sample_weight: FloatArray | None = None,
) -> tuple[float, FloatArray]:
    """Huber loss with concomitant scale and its gradient, exactly scikit-learn's.

    Parameters
    ----------
    params : ndarray of shape (n_features + 1,) or (n_features + 2,)
        ``[coef, sigma]`` or ``[coef, intercept, sigma]``; ``sigma > 0``.
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    epsilon : float
        The threshold (in units of ``sigma``) beyond which residuals count linearly.
    alpha : float
        Strength of the penalty ``alpha * ||coef||**2``.
    sample_weight : ndarray of shape (n_samples,), optional
        Weights of the samples; all ones when omitted.

    Returns
    -------
    loss : float
    grad : ndarray of the shape of `params`

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> y = np.array([0.0, 1.0, 10.0])
    >>> loss, grad = huber_loss_and_gradient(np.array([1.0, 0.0, 1.0]), X, y, 1.35, 0.0)
    >>> round(loss, 4)  # 3·σ + 0 + 0 + (2·1.35·8 - 1.35²)
    22.7775
    >>> grad.round(4)
    array([-5.4   , -2.7   ,  1.1775])
    """
    coef, intercept, sigma, fit_intercept = _split(params, X.shape[1])
    residual = y - X @ coef
    if fit_intercept:
        residual -= intercept
    # In units of sigma, t/σ = clip(r/σ, -ε, ε): the loss t·(2r - t)/σ, its r-derivative
    # 2t/σ and its σ-derivative -(t/σ)² are then formed without r² or ε² (which overflow
    # for y near 1e154 or epsilon = 1e200 although the loss itself is finite).
    bound = _bound(epsilon, sigma)
    clipped = np.clip(residual, -bound, bound)
    ratio = clipped / sigma
    if sample_weight is None:
        total_weight = float(residual.shape[0])
        weighted = ratio
    else:
        total_weight = float(np.sum(sample_weight))
        weighted = sample_weight * ratio
    data_loss = float(weighted @ (2.0 * residual - clipped))
    loss = total_weight * sigma + data_loss
    if alpha:  # not 0·inf: coefficients near 1e300 are valid without a penalty
        loss += alpha * float(coef @ coef)

    grad = np.empty_like(params, dtype=np.float64)
    grad[: coef.shape[0]] = -2.0 * np.asarray(X.T @ weighted) + 2.0 * (alpha * coef)
    if fit_intercept:
        grad[coef.shape[0]] = -2.0 * float(np.sum(weighted))
    grad[-1] = total_weight - float(weighted @ ratio)
    return float(loss), grad


def power_of_two(peak: Any) -> Any:
    """The power of two ``2**(e - 1)`` with ``peak = f·2**e``, 0.5 <= f < 1 (elementwise).

    Dividing by it is exact and brings every value of magnitude at most `peak` into
    [-2, 2], so squares and sums of the scaled values cannot overflow (nor underflow
    when `peak` is tiny); 0.5 for a `peak` of zero.

    Examples
    --------
    >>> power_of_two(np.array([0.0, 3.0, 1e308])) == [0.5, 2.0, 2.0**1023]
    array([ True,  True,  True])
    """
    return np.ldexp(1.0, np.frexp(peak)[1] - 1)


def _bound(epsilon: float, sigma: Any) -> float:
    """``epsilon·sigma``, infinite (no outliers) where the product overflows."""
    with np.errstate(over="ignore"):
        return float(epsilon * getval(sigma))


def huber_loss(
    params: Any,
    X: Any,
    y: FloatArray,
    epsilon: float,
    alpha: float,
    sample_weight: FloatArray | None = None,
) -> Any:
    """The value of :func:`huber_loss_and_gradient`, traceable by ``autograd``.

    Written with ``autograd.numpy`` and without assignment into arrays, so
    ``autograd.grad(huber_loss)`` differentiates it with respect to `params`, and
    finite differences can call it without paying for a gradient.

    Examples
    --------
    >>> import numpy as np
    >>> from autograd import grad
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> y = np.array([0.0, 1.0, 10.0])
    >>> p = np.array([1.0, 0.0, 1.0])
    >>> round(float(huber_loss(p, X, y, 1.35, 0.0)), 4)
    22.7775
    >>> grad(huber_loss)(p, X, y, 1.35, 0.0).round(4)
    array([-5.4   , -2.7   ,  1.1775])
    """
    coef, intercept, sigma, _ = _split(params, X.shape[1])
    residual = y - matvec(X, coef) - intercept
    # Which samples are outliers is piecewise constant: computed outside the trace.
    outlier = np.abs(getval(residual)) > _bound(epsilon, sigma)
    weight = np.ones(residual.shape[0]) if sample_weight is None else sample_weight
    total_weight = float(np.sum(weight))
    # One formula per branch, so that autograd's derivative in sigma is exact: through
    # t·(2r - t)/σ it would be a difference of terms of size ε·|r|/σ (catastrophic when
    # sigma is small next to the residuals). Inliers: r²/σ = u·(r/u)²/(σ/u) with u a
    # power of two near sigma (exact; autograd's derivative of a quotient divides by the
    # divisor squared, which σ² itself would overflow or underflow for y near 1e±154).
    # Outliers: ε·(2|r| - ε·σ), without ε² and skipped when there are none (ε = 1e200).
    unit = float(power_of_two(getval(sigma)))
    inlier_residual = anp.where(outlier, 0.0, residual) / unit
    inlier_loss = anp.dot(weight * inlier_residual / (sigma / unit), inlier_residual) * unit
    loss = total_weight * sigma + inlier_loss
    if np.any(outlier):
        outlier_weight = np.where(outlier, weight, 0.0)
        loss = loss + epsilon * (
            2.0 * anp.dot(outlier_weight, anp.abs(residual))
            - (epsilon * float(np.sum(outlier_weight))) * sigma
        )
    return loss + alpha * anp.dot(coef, coef) if alpha else loss
