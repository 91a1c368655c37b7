"""The Huber objective in the optimizer's coordinates: standardised, σ kept positive.

Optimizers see ``F(v) = 100·L(params(v)) / (S·s_y)``, the very objective ``L`` of
:mod:`gradopt.linear_model._huber_loss` divided by a positive constant, in coordinates
``v`` where a unit step means the same thing for every parameter::

    coef      = (s_y / s) · v_coef / sqrt(1 + ρ)   (s: the columns' weighted std;
                s_y: a robust spread of y, see _robust_scale; ρ = α·s_y / (S·s²),
                the penalty's curvature over the data's, negligible unless y is huge)
    intercept = m_y + s_y · v_intercept - m · coef  (m: the columns' weighted means)
    sigma     = s_y · v_sigma     (bounded solvers; v_sigma >= 10·eps / s_y)
              = s_y · exp(v_sigma)  (unbounded solvers)

Every component of ``∇F/100`` is then a dimensionless mean estimating equation, so a
gradient test ``max|∇F| <= tol`` means the same for any n and any units of X and y. The
factor 100 makes the default ``tol = 1e-5`` ask for equations within 1e-7 of zero: tight
(sigma to ~1e-7 relative) yet well above the ~1e-8 floor at which rounding in ``L``
stops line searches, whatever n.
``params(v)`` is affine in the coefficients, so ``L`` stays convex in them and its
minimiser maps back exactly. Nothing here copies ``X``: the centring enters as ``m·coef``
and ``m·ΣΨ``, the scaling as a product with ``coef``. A feature around 1e12 (a Unix time in
milliseconds) is then as easy for the optimizer as one around 1.
"""

from __future__ import annotations

from typing import Any

import autograd.numpy as anp
import numpy as np
import scipy.sparse as sp

from gradopt._typing import FloatArray
from gradopt.linear_model._huber_loss import huber_loss, huber_loss_and_gradient

__all__ = ["HuberObjective"]

_CHUNK_ELEMENTS = 1 << 18  # entries of X standardised at a time (2 MB of float64)
_MIN_SIGMA = 10 * np.finfo(np.float64).eps  # scikit-learn's lower bound on sigma
GRADIENT_MARGIN = 100.0  # F = GRADIENT_MARGIN · (mean objective): see the module docstring


def _column_moments(
    X: Any, sample_weight: FloatArray, center: bool
) -> tuple[FloatArray, FloatArray]:
    """Weighted means (zeros unless `center`) and root-mean-square deviations of columns.

    Two passes over row blocks of bounded size: exact (no E[x²] - m² cancellation for a
    column like 1.7e12 + noise) and never a full-size temporary copy of X.
    """
    n_samples, n_features = X.shape
    total = float(np.sum(sample_weight))
    if center:
        mean = np.asarray(X.T @ sample_weight, dtype=np.float64).reshape(-1) / total
    else:
        mean = np.zeros(n_features)
    squares = np.zeros(n_features)
    rows = max(1, _CHUNK_ELEMENTS // max(n_features, 1))
    for start in range(0, n_samples, rows):
        block = X[start : start + rows]
        dense = block.toarray() if sp.issparse(block) else np.asarray(block, dtype=np.float64)
        dense = dense - mean
        squares += sample_weight[start : start + rows] @ (dense * dense)
    spread = np.sqrt(squares / total)
    spread[~(np.isfinite(spread) & (spread > 0))] = 1.0
    return mean, spread


def _weighted_median(values: FloatArray, weights: FloatArray) -> float:
    """Median of `values` repeated `weights` times (O(n) when the weights are equal)."""
    if np.all(weights == weights[0]):
        return float(np.median(values))
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    half = cumulative[-1] / 2
    lower = values[order[np.searchsorted(cumulative, half, side="left")]]
    upper = values[order[np.searchsorted(cumulative, half, side="right")]]
    return float(lower + upper) / 2


def _robust_scale(y: FloatArray, sample_weight: FloatArray, center: float) -> float:
    """``s_y``: the normalised (weighted) median absolute deviation of the targets.

    Not their standard deviation, which outliers inflate: ``sigma`` starts here (on the
    classic problem that saves a third of the evaluations) and ``sigma / s_y`` stays
    near 1, where finite-difference steps are accurate. With equal weights two O(n)
    partitions; integer weights give exactly the value of repeated rows.
    """
    keep = sample_weight > 0
    kept, weights = y[keep], sample_weight[keep]
    median = _weighted_median(kept, weights)
    for spread in (
        _weighted_median(np.abs(kept - median), weights) / 0.6745,
        float(np.sqrt(sample_weight @ (y - center) ** 2 / np.sum(sample_weight))),
    ):
        if np.isfinite(spread) and spread > 0:
            return spread
    return 1.0


class HuberObjective:
    """Scikit-learn's Huber objective on fixed data, in standardised coordinates.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
    y, sample_weight : ndarray of shape (n_samples,)
    epsilon, alpha : float
        As in :func:`~gradopt.linear_model._huber_loss.huber_loss_and_gradient`.
    fit_intercept : bool
    log_sigma : bool
        Parametrise ``sigma = s_y·exp(v_sigma)`` (for solvers without bounds) instead of
        ``sigma = s_y·v_sigma`` with a lower bound (see :meth:`bounds`).
    """

    def __init__(
        self,
        X: Any,
        y: FloatArray,
        sample_weight: FloatArray,
        *,
        epsilon: float,
        alpha: float,
        fit_intercept: bool,
        log_sigma: bool,
    ) -> None:
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.epsilon, self.alpha = float(epsilon), float(alpha)
        self.fit_intercept, self.log_sigma = fit_intercept, log_sigma
        self.n_features = X.shape[1]
        self.total_weight = float(np.sum(sample_weight))
        self.mean, spread = _column_moments(X, sample_weight, fit_intercept)
        self.y_center = float(sample_weight @ y) / self.total_weight if fit_intercept else 0.0
        self.y_scale = _robust_scale(y, sample_weight, self.y_center)
        # Unit steps in v_coef should change L about equally in every coordinate: the
        # data's curvature in coef_j is about 2·S·s_j²/sigma (sigma ~ s_y), the penalty's
        # 2·alpha; where the penalty dominates (huge y, tiny S) it sets the scale.
        stiffness = 1.0 + self.alpha * self.y_scale / (self.total_weight * spread**2)
        self.coef_scale = self.y_scale / spread / np.sqrt(stiffness)
        self.value_scale = self.total_weight * self.y_scale / GRADIENT_MARGIN
        self.n_params = self.n_features + (2 if fit_intercept else 1)
        self.min_sigma = _MIN_SIGMA

    # ------------------------------------------------------------ coordinate changes
    def params(self, v: Any) -> Any:
        """``[coef, intercept?, sigma]`` at the internal point `v` (traceable by autograd)."""
        d = self.n_features
        coef = self.coef_scale * v[:d]
        scaled_sigma = anp.exp(v[-1]) if self.log_sigma else v[-1]
        parts = [coef]
        if self.fit_intercept:
            intercept = self.y_center + self.y_scale * v[d] - anp.dot(self.mean, coef)
            parts.append(anp.reshape(intercept, (1,)))
        parts.append(anp.reshape(self.y_scale * scaled_sigma, (1,)))
        return anp.concatenate(parts)

    def internal(self, coef: FloatArray, intercept: float, sigma: float) -> FloatArray:
        """The internal point of the given coefficients, intercept and scale."""
        v = [np.asarray(coef, dtype=np.float64) / self.coef_scale]
        if self.fit_intercept:
            v.append(np.array([intercept - self.y_center + self.mean @ coef]) / self.y_scale)
        scaled_sigma = max(float(sigma), _MIN_SIGMA) / self.y_scale
        v.append(np.array([np.log(scaled_sigma) if self.log_sigma else scaled_sigma]))
        return np.concatenate(v)

    def start(self) -> FloatArray:
        """The default start: no slope, the weighted mean as intercept, ``sigma = s_y``."""
        return self.internal(np.zeros(self.n_features), self.y_center, self.y_scale)

    def bounds(self) -> list[tuple[float | None, float | None]] | None:
        """Bounds of the internal point (``sigma >= 10·eps``), or None with ``log_sigma``."""
        if self.log_sigma:
            return None
        return [(None, None)] * (self.n_params - 1) + [(_MIN_SIGMA / self.y_scale, None)]

    # ------------------------------------------------------------------- evaluations
    def loss(self, params: FloatArray) -> tuple[float, FloatArray]:
        """The original objective and its gradient at ``params`` (not internal)."""
        loss, grad = huber_loss_and_gradient(
            params, self.X, self.y, self.epsilon, self.alpha, self.sample_weight
        )
        return float(loss), grad

    def value(self, v: Any) -> Any:
        """``F(v)``, written with autograd.numpy for autograd and finite differences."""
        loss = huber_loss(
            self.params(v), self.X, self.y, self.epsilon, self.alpha, self.sample_weight
        )
        return loss / self.value_scale

    def value_and_grad(self, v: FloatArray) -> tuple[float, FloatArray]:
        """``F(v)`` and its gradient by the chain rule through :meth:`params`."""
        params = self.params(v)
        loss, grad = self.loss(params)
        return loss / self.value_scale, self.internal_grad(params, grad)

    def internal_grad(self, params: FloatArray, grad: FloatArray) -> FloatArray:
        """The gradient of ``F`` from the gradient `grad` of ``L`` at `params`."""
        d = self.n_features
        out = np.empty_like(grad)
        grad_coef = grad[:d]
        if self.fit_intercept:
            grad_coef = grad_coef - self.mean * grad[d]
            out[d] = self.y_scale * grad[d]
        out[:d] = self.coef_scale * grad_coef
        out[-1] = grad[-1] * (params[-1] if self.log_sigma else self.y_scale)
        result: FloatArray = out / self.value_scale
        return result
