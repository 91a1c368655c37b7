"""The Huber loss with Owen's concomitant scale: scikit-learn's objective, by row blocks.

The objective of :class:`sklearn.linear_model.HuberRegressor`, for parameters
``params = [coef (d), intercept (only when fitted), sigma]``::

    L = S·σ + Σᵢ sᵢ·H(rᵢ, σ) + α·‖coef‖²,   rᵢ = yᵢ - xᵢ·coef - intercept,

with ``S = Σᵢ sᵢ`` the sum of the sample weights, ``H(r, σ) = r²/σ`` when
``|r| <= ε·σ`` and ``2·ε·|r| - ε²·σ`` otherwise (the intercept is not penalised). With
the clipped residual ``t = clip(r, -ε·σ, ε·σ)`` both branches are one formula,
``H = t·(2·r - t)/σ``, and the derivatives need no masks either::

    ∂L/∂coef = -(2/σ)·Xᵀ(s·t) + 2·α·coef,   ∂L/∂intercept = -(2/σ)·Σ s·t,
    ∂L/∂σ = S - Σ s·t²/σ².

Everything but the penalty is a sum over rows, written once as the block functions
:func:`huber_block` (value and gradient, by hand) and :func:`huber_block_value` (the
value, traceable by ``autograd``), which the executors of
:mod:`~gradopt.linear_model._blocked` run over row blocks in memory or over Dask chunks.
A block function takes ``theta = [coef, shift, sigma]`` and optional centres: the
residual is ``(y - y_center) - (X - x_center)·coef - shift``, so a block of a column
like 1.7e12 + noise is centred (in cache) before the product and no digits cancel
between ``X·coef`` and ``intercept`` (``shift = intercept + x_center·coef - y_center``).
The public :func:`huber_loss_and_gradient` and :func:`huber_loss` (no centres, the
original parameters) run the same block functions over row blocks of ``X``: one read of
``X`` per evaluation and no row of it copied. ``X`` may be dense or scipy.sparse (a
sparse block is not centred: the centre enters as ``x_center·coef``).
"""

from __future__ import annotations

import functools
from typing import Any

import autograd.numpy as anp
import numpy as np
import scipy.sparse as sp
from autograd.extend import defvjp, primitive
from autograd.tracer import getval

from gradopt._typing import FloatArray
from gradopt.linear_model._blocked import RowBlocks, block_residual

__all__ = [
    "TRACED_BLOCK_ELEMENTS",
    "huber_block",
    "huber_block_value",
    "huber_loss",
    "huber_loss_and_gradient",
    "huber_outliers",
    "matvec",
    "power_of_two",
    "traced_residual",
]

# Entries of X per block when autograd traces the loss: its bookkeeping costs about
# 10 µs per operation, so blocks are larger (8 MB) than for the hand-written gradient.
TRACED_BLOCK_ELEMENTS = 1 << 20
_EPS = float(np.finfo(np.float64).eps)


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


def huber_block(
    theta: FloatArray,
    X_b: Any,
    y_b: FloatArray,
    sw_b: FloatArray | None,
    *,
    epsilon: float,
    x_center: FloatArray | None = None,
    y_center: float = 0.0,
    copy_centred: bool = False,
) -> tuple[float, FloatArray]:
    """One row block's share of ``L - α·‖coef‖²`` and of its gradient in `theta`.

    Parameters
    ----------
    theta : ndarray of shape (n_features + 2,)
        ``[coef, shift, sigma]``: the residual is
        ``(y_b - y_center) - (X_b - x_center) @ coef - shift``; ``sigma > 0``.
    X_b : ndarray or scipy.sparse matrix of shape (rows, n_features)
    y_b : ndarray of shape (rows,)
    sw_b : ndarray of shape (rows,) or None
        The block's sample weights; None for unit weights.
    epsilon : float
    x_center : ndarray of shape (n_features,), optional
        The centre of the rows of X.
    y_center : float, default 0
    copy_centred : bool, default False
        Centre a dense block in a (cache-resident) copy before its products, so that
        no digits cancel between ``X_b @ coef`` and ``x_center @ coef`` when the centre
        is large next to the spread of the columns (1.7e12 + noise); else the centre
        enters as ``x_center @ coef`` (cheaper, and as accurate for small offsets).

    Returns
    -------
    loss : float
        ``S_b·σ + Σ s·H(r, σ)`` over the block (``S_b``: its weight).
    grad : ndarray of shape (n_features + 2,)
        Its gradient in ``[coef, shift, sigma]``.

    Examples
    --------
    >>> X, y = np.array([[0.0], [1.0], [2.0]]), np.array([0.0, 1.0, 10.0])
    >>> loss, grad = huber_block(np.array([1.0, 0.0, 1.0]), X, y, None, epsilon=1.35)
    >>> round(loss, 4), grad.round(4)  # the whole of huber_loss_and_gradient's example
    (22.7775, array([-5.4   , -2.7   ,  1.1775]))
    """
    d = X_b.shape[1]
    sigma = float(theta[d + 1])
    Z, correction, residual = block_residual(theta, X_b, y_b, x_center, y_center, copy_centred)
    # In units of sigma, t/σ = clip(r/σ, -ε, ε): the loss t·(2r - t)/σ, its r-derivative
    # 2t/σ and its σ-derivative -(t/σ)² are then formed without r² or ε² (which overflow
    # for y near 1e154 or epsilon = 1e200 although the loss itself is finite).
    bound = _bound(epsilon, sigma)
    ratio = np.clip(residual, -bound, bound)
    ratio /= sigma
    if sw_b is None:
        weight, weighted = float(residual.shape[0]), ratio
    else:
        weight, weighted = float(np.sum(sw_b)), sw_b * ratio
    # Σ s·t·(2r - t)/σ = 2·Σ s·(t/σ)·r - σ·Σ s·(t/σ)²; the terms are 2·|t|·|r| - t² >=
    # |t|·|r|: the difference loses at most one bit.
    square = float(weighted @ ratio)
    loss = weight * sigma + (2.0 * float(weighted @ residual) - sigma * square)
    grad = np.empty(d + 2)
    total = float(np.sum(weighted))
    grad[:d] = -2.0 * np.asarray(Z.T @ weighted)
    if correction is not None:
        grad[:d] += 2.0 * total * correction
    grad[d] = -2.0 * total
    grad[d + 1] = weight - square
    return loss, grad


def huber_block_value(
    theta: Any,
    X_b: Any,
    y_b: FloatArray,
    sw_b: FloatArray | None,
    *,
    epsilon: float,
    x_center: FloatArray | None = None,
    y_center: float = 0.0,
    copy_centred: bool = False,
) -> Any:
    """The loss of :func:`huber_block`, written with autograd.numpy (traceable in `theta`).

    Examples
    --------
    >>> from autograd import grad
    >>> X, y = np.array([[0.0], [1.0], [2.0]]), np.array([0.0, 1.0, 10.0])
    >>> grad(huber_block_value)(np.array([1.0, 0.0, 1.0]), X, y, None, epsilon=1.35)
    array([-5.4   , -2.7   ,  1.1775])
    """
    sigma = theta[X_b.shape[1] + 1]
    residual = traced_residual(theta, X_b, y_b, x_center, y_center, copy_centred)
    # Which samples are outliers is piecewise constant: computed outside the trace.
    outlier = np.abs(getval(residual)) > _bound(epsilon, sigma)
    weight = np.ones(residual.shape[0]) if sw_b is None else sw_b
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
    return loss


def traced_residual(
    theta: Any,
    X_b: Any,
    y_b: FloatArray,
    x_center: FloatArray | None,
    y_center: float,
    copy_centred: bool,
) -> Any:
    """:func:`~gradopt.linear_model._blocked.block_residual`'s residual, traceable by
    autograd in ``theta = [coef, shift, ...]`` (a centred block is a copy of its own:
    autograd multiplies by it again in the backward pass, after other blocks).

    Examples
    --------
    >>> X, y = np.array([[10.0, 1.0], [12.0, 3.0]]), np.array([1.0, 2.0])
    >>> traced_residual(np.array([1.0, 0.0, 0.5]), X, y, np.array([11.0, 2.0]), 1.5, True)
    array([ 0., -1.])
    """
    d = X_b.shape[1]
    coef, correction = theta[:d], x_center
    if x_center is not None and copy_centred and not sp.issparse(X_b):
        X_b, correction = np.subtract(X_b, x_center), None
    residual = (y_b - y_center) - matvec(X_b, coef) - theta[d]
    return residual if correction is None else residual + anp.dot(correction, coef)


def huber_outliers(
    theta: FloatArray,
    X_b: Any,
    y_b: FloatArray,
    sw_b: FloatArray | None,
    *,
    threshold: float,
    x_center: FloatArray | None = None,
    y_center: float = 0.0,
    copy_centred: bool = False,
    rounding: bool = True,
) -> Any:
    """Whether each row's residual exceeds `threshold` (``epsilon·sigma``) and its own
    rounding: ``4·(d + 2)·eps`` times the sum of the magnitudes that make it up,
    ``|y| + (|X - x_center| + |x_center|)·|coef| + |y_center| + |shift|`` (an
    a-priori bound of the error of the residual, the data's own rounding included, with
    margin). Rounding-level residuals of an exact fit,
    where sigma sits at its bound of ``10·eps·s_y``, are then never outliers. Without
    `rounding` (the caller knows that `threshold` exceeds every such bound) only the
    threshold counts.

    Examples
    --------
    >>> X, y = np.array([[1.0], [2.0], [3.0]]), np.array([1.0, 2.0 + 1e-15, 9.0])
    >>> huber_outliers(np.array([1.0, 0.0, 0.0]), X, y, None, threshold=1e-16)
    array([False, False,  True])
    """
    d = X_b.shape[1]
    Z, correction, residual = block_residual(theta, X_b, y_b, x_center, y_center, copy_centred)
    flagged = np.abs(residual) > threshold
    rows = np.flatnonzero(flagged) if rounding else ()
    if len(rows):  # few rows, usually: their rounding bound from a copy of them
        Z_rows = Z[rows]
        if sp.issparse(Z_rows):
            Z_rows = Z_rows.toarray()
        if correction is not None:
            Z_rows = Z_rows - correction
        # The data's own rounding counts: an entry x holds ±eps·|x| (1.7e12 ± 4e-4).
        if x_center is not None:
            Z_rows = np.abs(Z_rows) + np.abs(x_center)
        size = np.abs(y_b[rows]) + np.abs(Z_rows) @ np.abs(theta[:d])
        size += abs(y_center) + abs(float(theta[d]))
        flagged[rows] = np.abs(residual[rows]) > 4 * (d + 2) * _EPS * size
    return flagged


def _theta(params: Any, n_features: int) -> tuple[Any, Any, bool]:
    """``theta = [coef, intercept or 0, sigma]`` of the block functions, ``coef``, and
    whether `params` holds an intercept."""
    coef, intercept, sigma, fit_intercept = _split(params, n_features)
    shift = anp.reshape(intercept, (1,)) if fit_intercept else np.zeros(1)
    return anp.concatenate([coef, shift, anp.reshape(sigma, (1,))]), coef, fit_intercept


def huber_loss_and_gradient(
    params: FloatArray,
    X: Any,
    y: FloatArray,
    epsilon: float,
    alpha: float,
    sample_weight: FloatArray | None = None,
) -> tuple[float, FloatArray]:
    """Huber loss with concomitant scale and its gradient, exactly scikit-learn's.

    One read of `X` per call, by row blocks of about a megabyte; no row of `X` is
    copied.

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
    d = X.shape[1]
    theta, coef, fit_intercept = _theta(np.asarray(params, dtype=np.float64), d)
    blocks = RowBlocks(X, y, sample_weight)
    loss, grad = blocks.reduce(functools.partial(huber_block, theta, epsilon=epsilon))
    if alpha:  # not 0·inf: coefficients near 1e300 are valid without a penalty
        loss += alpha * float(coef @ coef)
        grad[:d] += 2.0 * (alpha * coef)
    return float(loss), grad if fit_intercept else np.delete(grad, d)


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
    theta, coef, _ = _theta(params, X.shape[1])
    block = functools.partial(huber_block_value, theta, epsilon=epsilon)
    loss = RowBlocks(X, y, sample_weight).reduce(block, elements=TRACED_BLOCK_ELEMENTS)
    return loss + alpha * anp.dot(coef, coef) if alpha else loss
