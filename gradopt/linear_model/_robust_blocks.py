"""Block functions of the fixed-scale M-objective: every pass RobustRegressor makes over X.

For a loss ``ρ`` (:mod:`~gradopt.linear_model._robust_losses`), a scale ``σ`` and
``theta = [coef, shift]`` (the residual is ``(y - y_center) - (X - x_center)·coef -
shift``, as for :func:`~gradopt.linear_model._huber_loss.huber_block`), each function
below takes one block of rows ``(X_b, y_b, sw_b)`` and returns its share of a sum:

- :func:`robust_block`: ``L = 2σ²·Σ s·ρ(r/σ)`` and its gradient in ``theta``;
- :func:`curvature_block`: ``Σ s·ψ'(u)``, ``Σ s·w(u)`` (the H-algorithm's mean
  curvature);
- :func:`robust_block_value`: ``L`` alone, traceable by autograd;
- :func:`gram_block`: ``Σ c·(x - m)(x - m)ᵀ``, ``Σ c·(x - m)``, ``Σ c`` with ``c = s``
  (the design), ``s·ψ'(u)`` (Newton) or ``s·w(u)`` (IRLS), and ``Σ s·(y - m_y)²``;
- :func:`hessp_block`: the Newton Hessian times a direction;
- :func:`covariance_block`: ``[Σ s·ψ', Σ s·ψ'², Σ s·ψ²]`` for Huber's covariances;
- :func:`weights_block`, :func:`outliers_block`, :func:`residual_block`: one value per
  row.

The public pure functions :func:`robust_loss_and_gradient` and :func:`robust_loss` run
the first two over row blocks of an in-memory X.

:class:`~gradopt.linear_model._robust_objective.RobustObjective` runs them with the
executors of :mod:`~gradopt.linear_model._blocked`, in memory or over Dask chunks.
"""

from __future__ import annotations

import functools
from typing import Any

import autograd.numpy as anp
import numpy as np

from gradopt._typing import FloatArray
from gradopt.linear_model._blocked import RowBlocks, block_residual, centred
from gradopt.linear_model._huber_loss import traced_residual
from gradopt.linear_model._robust_losses import RobustLoss, make_loss

__all__ = [
    "absolute_residual",
    "covariance_block",
    "covariance_sums",
    "curvature_block",
    "curvature_sums",
    "gram_block",
    "hessp_block",
    "keep",
    "ones_block",
    "outliers_block",
    "residual_block",
    "robust_block",
    "robust_block_value",
    "robust_loss",
    "robust_loss_and_gradient",
    "robust_weights",
    "weights_block",
]

Centres = dict[str, Any]


def _scaled(
    theta: FloatArray, X_b: Any, y_b: FloatArray, scale: float, centres: Centres
) -> tuple[Any, FloatArray | None, FloatArray]:
    """``(Z, correction, u)`` with ``u = r/σ`` (see :func:`block_residual`)."""
    Z, correction, residual = block_residual(
        theta,
        X_b,
        y_b,
        centres.get("x_center"),
        centres.get("y_center", 0.0),
        centres.get("copy_centred", False),
    )
    residual /= scale
    return Z, correction, residual


def robust_block(
    theta: FloatArray,
    X_b: Any,
    y_b: FloatArray,
    sw_b: FloatArray | None,
    *,
    loss: RobustLoss,
    scale: float,
    keep_residual: bool = False,
    **centres: Any,
) -> tuple[Any, ...]:
    """``(L_b, ∇L_b in theta)`` of one block, and ``[u_b]`` (``u = r/σ``, in a list, so
    that :func:`keep` concatenates them once) with `keep_residual`.

    Examples
    --------
    >>> from gradopt.linear_model._robust_losses import make_loss
    >>> X, y = np.array([[0.0], [1.0], [2.0]]), np.array([0.0, 1.0, 10.0])
    >>> value, grad = robust_block(np.array([1.0, 0.0]), X, y, None,
    ...                            loss=make_loss("least-squares"), scale=1.0)
    >>> value, grad  # ||r||² = 64 and its gradient -2·[x, 1]ᵀr
    (64.0, array([-32., -16.]))
    """
    d = X_b.shape[1]
    Z, correction, u = _scaled(theta, X_b, y_b, scale, centres)
    rho, psi = loss.rho(u), loss.psi(u)
    if sw_b is not None:
        rho, psi = sw_b * rho, sw_b * psi
    total = float(np.sum(psi))
    grad = np.empty(d + 1)
    grad[:d] = (-2.0 * scale) * np.asarray(Z.T @ psi)
    if correction is not None:
        grad[:d] += (2.0 * scale * total) * correction
    grad[d] = -2.0 * scale * total
    value = 2.0 * scale * scale * float(np.sum(rho))
    return (value, grad, [u]) if keep_residual else (value, grad)


def keep(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    """Combine two parts of :func:`robust_block` with `keep_residual`: sums, and the
    residual pieces in order (concatenated by the caller)."""
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


# ------------------------------------------------- per-row formulas, from u = r/σ
def curvature_sums(u: FloatArray, sw: FloatArray | None, loss: RobustLoss) -> FloatArray:
    """``[Σ s·ψ'(u), Σ s·w(u)]``."""
    weights = np.ones(u.shape[0]) if sw is None else sw
    return np.array([weights @ loss.psi_deriv(u), weights @ loss.weight(u)])


def covariance_sums(u: FloatArray, sw: FloatArray | None, loss: RobustLoss) -> FloatArray:
    """``[Σ s·ψ'(u), Σ s·ψ'(u)², Σ s·ψ(u)²]``."""
    curvature, psi = loss.psi_deriv(u), loss.psi(u)
    weights = np.ones(u.shape[0]) if sw is None else sw
    return np.array(
        [weights @ curvature, weights @ (curvature * curvature), weights @ (psi * psi)]
    )


def robust_weights(u: FloatArray, loss: RobustLoss) -> FloatArray:
    """The robustness weights ``ψ(u)/u``, in [0, 1]."""
    result: FloatArray = np.clip(loss.weight(u), 0.0, 1.0)
    return result


def curvature_block(
    theta: FloatArray,
    X_b: Any,
    y_b: FloatArray,
    sw_b: FloatArray | None,
    *,
    loss: RobustLoss,
    scale: float,
    **centres: Any,
) -> FloatArray:
    """:func:`curvature_sums` of the block: the H-algorithm's mean curvature."""
    return curvature_sums(_scaled(theta, X_b, y_b, scale, centres)[2], sw_b, loss)


def robust_block_value(
    theta: Any,
    X_b: Any,
    y_b: FloatArray,
    sw_b: FloatArray | None,
    *,
    loss: RobustLoss,
    scale: float,
    x_center: FloatArray | None = None,
    y_center: float = 0.0,
    copy_centred: bool = False,
) -> Any:
    """``L_b`` of :func:`robust_block`, written with autograd.numpy (traceable in theta).

    Examples
    --------
    >>> from autograd import grad
    >>> from gradopt.linear_model._robust_losses import make_loss
    >>> X, y = np.array([[0.0], [1.0], [2.0]]), np.array([0.0, 1.0, 10.0])
    >>> grad(robust_block_value)(np.array([1.0, 0.0]), X, y, None,
    ...                          loss=make_loss("huber"), scale=1.0)
    array([-5.38, -2.69])
    """
    residual = traced_residual(theta, X_b, y_b, x_center, y_center, copy_centred)
    rho = loss.rho(residual / scale)
    data = anp.sum(rho) if sw_b is None else anp.dot(sw_b, rho)
    return 2.0 * scale * scale * data


def gram_block(
    theta: FloatArray,
    X_b: Any,
    y_b: FloatArray,
    sw_b: FloatArray | None,
    *,
    kind: str,
    loss: RobustLoss,
    scale: float,
    x_center: FloatArray,
    y_center: float = 0.0,
    copy_centred: bool = False,
) -> tuple[FloatArray, FloatArray, float, float]:
    """``(Σ c·zzᵀ, Σ c·z, Σ c, Σ s·(y - y_center)²)`` with ``z = x - x_center``.

    ``c = s`` for ``kind="design"``, ``s·ψ'(u)`` for ``"newton"``, ``s·w(u)`` for
    ``"irls"``. The block is centred in a scratch copy; with ``c >= 0`` it is scaled by
    ``sqrt(c)`` and its Gram matrix is one symmetric product (BLAS syrk, half the work).
    """
    del copy_centred  # the Gram matrix always uses a centred copy
    B = centred(X_b, x_center)
    y_dev = y_b - y_center
    weights = np.ones(y_b.shape[0]) if sw_b is None else sw_b
    y_square = float(weights @ (y_dev * y_dev)) if kind == "design" else 0.0
    if kind == "design":
        c = weights
    else:
        u = (y_dev - B @ theta[:-1] - theta[-1]) / scale
        c = weights * (loss.psi_deriv(u) if kind == "newton" else loss.weight(u))
    column = c @ B
    if sw_b is None and kind == "design":  # unit weights
        raw = B.T @ B
    elif bool(np.all(c >= 0)):
        B *= np.sqrt(c)[:, None]
        raw = B.T @ B
    else:
        raw = B.T @ (B * c[:, None])
    return raw, np.asarray(column), float(np.sum(c)), y_square


def hessp_block(
    theta: FloatArray,
    X_b: Any,
    y_b: FloatArray,
    sw_b: FloatArray | None,
    *,
    direction: FloatArray,
    loss: RobustLoss,
    scale: float,
    **centres: Any,
) -> FloatArray:
    """``[Σ c·(x - m)·(x - m)ᵀ·δ_coef + ..., ...]``: the block's ``Σ c·z·zᵀ`` times
    ``direction`` (in theta), ``c = s·ψ'(u)``, ``z = [x - m, 1]``."""
    d = X_b.shape[1]
    Z, correction, u = _scaled(theta, X_b, y_b, scale, centres)
    c = loss.psi_deriv(u)
    if sw_b is not None:
        c *= sw_b
    zv = Z @ direction[:d] + direction[d]
    if correction is not None:
        zv -= float(correction @ direction[:d])
    weighted = c * zv
    total = float(np.sum(weighted))
    out = np.empty(d + 1)
    out[:d] = Z.T @ weighted
    if correction is not None:
        out[:d] -= total * correction
    out[d] = total
    return out


def covariance_block(
    theta: FloatArray,
    X_b: Any,
    y_b: FloatArray,
    sw_b: FloatArray | None,
    *,
    loss: RobustLoss,
    scale: float,
    **centres: Any,
) -> FloatArray:
    """:func:`covariance_sums` of the block."""
    return covariance_sums(_scaled(theta, X_b, y_b, scale, centres)[2], sw_b, loss)


def residual_block(theta: FloatArray, X_b: Any, y_b: FloatArray, sw_b: Any, **centres: Any) -> Any:
    """The block's residuals (one per row)."""
    return _scaled(theta, X_b, y_b, 1.0, centres)[2]


def weights_block(
    theta: FloatArray,
    X_b: Any,
    y_b: FloatArray,
    sw_b: Any,
    *,
    loss: RobustLoss,
    scale: float,
    **centres: Any,
) -> Any:
    """:func:`robust_weights` of the block's rows."""
    return robust_weights(_scaled(theta, X_b, y_b, scale, centres)[2], loss)


def ones_block(theta: FloatArray, X_b: Any, y_b: FloatArray, sw_b: Any, **centres: Any) -> Any:
    """Ones, one per row (the weights of a fit with a zero scale)."""
    return np.ones(y_b.shape[0])


def outliers_block(
    theta: FloatArray, X_b: Any, y_b: FloatArray, sw_b: Any, *, threshold: float, **centres: Any
) -> Any:
    """Whether ``|r| > threshold`` row by row."""
    return np.abs(_scaled(theta, X_b, y_b, 1.0, centres)[2]) > threshold


def absolute_residual(theta: FloatArray, centres: Centres, X_b: Any, y_b: FloatArray) -> Any:
    """``|r|`` of the block (the values whose median is the MAD scale)."""
    return np.abs(_scaled(theta, X_b, y_b, 1.0, centres)[2])


def _theta(params: Any, n_features: int) -> tuple[Any, Any, bool]:
    """``([coef, intercept or 0], coef, fit_intercept)`` from ``params``."""
    size = params.shape[0]
    if size not in (n_features, n_features + 1):
        raise ValueError(
            f"params must have n_features = {n_features} entries (coef) or "
            f"n_features + 1 = {n_features + 1} (coef, intercept); got {size}."
        )
    fit_intercept = size == n_features + 1
    coef = params[:n_features]
    shift = anp.reshape(params[n_features], (1,)) if fit_intercept else np.zeros(1)
    return anp.concatenate([coef, shift]), coef, fit_intercept


def robust_loss_and_gradient(
    params: FloatArray,
    X: Any,
    y: FloatArray,
    loss: str | RobustLoss,
    scale: float,
    sample_weight: FloatArray | None = None,
    alpha: float = 0.0,
) -> tuple[float, FloatArray]:
    """``L = 2σ²·Σ sᵢ·ρ(rᵢ/σ) + α‖coef‖²`` and its gradient, one read of ``X``.

    Parameters
    ----------
    params : ndarray of shape (n_features,) or (n_features + 1,)
        ``coef`` or ``[coef, intercept]``.
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    loss : str or RobustLoss
        A loss name of :class:`~gradopt.linear_model.RobustRegressor` (with its default
        tuning) or a loss object.
    scale : float
        ``σ > 0``, held fixed.
    sample_weight : ndarray of shape (n_samples,), optional
    alpha : float, default 0
        Strength of the penalty ``alpha * ||coef||**2`` (the intercept is not penalised).

    Returns
    -------
    loss : float
    grad : ndarray of the shape of `params`

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> y = np.array([0.0, 1.0, 10.0])
    >>> value, grad = robust_loss_and_gradient(np.array([1.0, 0.0]), X, y, "least-squares", 1.0)
    >>> value, grad  # ||r||² = 64 and its gradient -2·[x, 1]ᵀr
    (64.0, array([-32., -16.]))
    """
    d = X.shape[1]
    theta, coef, fit_intercept = _theta(np.asarray(params, dtype=np.float64), d)
    rho = make_loss(loss) if isinstance(loss, str) else loss
    block = functools.partial(robust_block, theta, loss=rho, scale=float(scale))
    value, grad = RowBlocks(X, y, sample_weight).reduce(block)
    if alpha:
        value += alpha * float(coef @ coef)
        grad[:d] += (2.0 * alpha) * coef
    return float(value), grad if fit_intercept else grad[:d]


def robust_loss(
    params: Any,
    X: Any,
    y: FloatArray,
    loss: str | RobustLoss,
    scale: float,
    sample_weight: FloatArray | None = None,
    alpha: float = 0.0,
) -> Any:
    """The value of :func:`robust_loss_and_gradient`, traceable by ``autograd``.

    Examples
    --------
    >>> import numpy as np
    >>> from autograd import grad
    >>> X, y = np.array([[0.0], [1.0], [2.0]]), np.array([0.0, 1.0, 10.0])
    >>> grad(robust_loss)(np.array([1.0, 0.0]), X, y, "huber", 1.0)
    array([-5.38, -2.69])
    """
    theta, coef, _ = _theta(params, X.shape[1])
    rho = make_loss(loss) if isinstance(loss, str) else loss
    block = functools.partial(robust_block_value, theta, loss=rho, scale=float(scale))
    data = RowBlocks(X, y, sample_weight).reduce(block)
    return data + alpha * anp.dot(coef, coef)
