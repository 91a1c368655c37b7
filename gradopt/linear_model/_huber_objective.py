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
from gradopt.exceptions import InvalidInputError
from gradopt.linear_model._huber_loss import huber_loss, huber_loss_and_gradient, power_of_two

__all__ = ["HuberObjective"]

_CHUNK_ELEMENTS = 1 << 18  # entries of X standardised at a time (2 MB of float64)
_EPS = float(np.finfo(np.float64).eps)
_TINY = float(np.finfo(np.float64).tiny)
_CONSTANT = 64 * _EPS  # relative spread of a column that is constant but for rounding
_MIN_SIGMA = 10 * _EPS  # scikit-learn's lower bound on sigma (here relative to s_y)
GRADIENT_MARGIN = 100.0  # F = GRADIENT_MARGIN · (mean objective): see the module docstring


def _row_blocks(X: Any) -> Any:
    """``(rows, dense block)`` over row blocks of bounded size (2 MB of float64)."""
    n_samples, n_features = X.shape
    step = max(1, _CHUNK_ELEMENTS // max(n_features, 1))
    for start in range(0, n_samples, step):
        block = X[start : start + step]
        dense = block.toarray() if sp.issparse(block) else np.asarray(block, dtype=np.float64)
        yield slice(start, start + step), dense


def _column_moments(
    X: Any, sample_weight: FloatArray, center: bool
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weighted means (zeros unless `center`), root-mean-square deviations and the
    largest absolute values of the columns.

    Two passes over row blocks of bounded size, never a full-size temporary copy of X:
    exact (no E[x²] - m² cancellation for a column like 1.7e12 + noise) and free of
    overflow for any finite X (the mean is a convex combination of the values; the
    deviations are squared after division by a power of two, see
    :func:`~gradopt.linear_model._huber_loss.power_of_two`).
    """
    n_features = X.shape[1]
    weights = sample_weight / np.sum(sample_weight)
    mean, peak = np.zeros(n_features), np.zeros(n_features)
    for rows, block in _row_blocks(X):
        peak = np.maximum(peak, np.max(np.abs(block), axis=0, initial=0.0))
        if center:
            mean += weights[rows] @ block
    unit = power_of_two(peak)
    scaled_mean = mean / unit
    squares = np.zeros(n_features)
    for rows, block in _row_blocks(X):
        deviation = block / unit - scaled_mean
        squares += weights[rows] @ (deviation * deviation)
    spread = np.sqrt(squares) * unit
    # A constant column (a spread within the rounding of its mean) is scaled by its
    # value, so that X @ coef - mean @ coef does not cancel large numbers.
    constant = spread <= _CONSTANT * peak
    spread = np.where(constant, np.where(peak > 0, peak, 1.0), spread)
    return mean, spread, peak


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
    partitions; integer weights give exactly the value of repeated rows. Computed on
    ``y`` divided by a power of two (exact), so targets near 1e308 do not overflow; when
    the MAD is zero, the root-mean-square deviation, then the largest ``|y|``, then 1
    (a spread within rounding of ``max|y|`` counts as zero).
    """
    keep = sample_weight > 0
    unit = float(power_of_two(np.max(np.abs(y), initial=0.0)))
    kept, weights = y[keep] / unit, sample_weight[keep]
    median = _weighted_median(kept, weights)
    deviation = kept - center / unit
    peak = float(np.max(np.abs(kept), initial=0.0))
    for spread in (
        _weighted_median(np.abs(kept - median), weights) / 0.6745,
        float(np.sqrt((weights / np.sum(weights)) @ (deviation * deviation))),
        peak,
    ):
        if spread > _CONSTANT * peak:  # a spread at rounding level is no spread
            return spread * unit
    return 1.0


def _check_scales(objective: HuberObjective, spread: FloatArray) -> None:
    """Refuse data whose coefficients or objective would leave float64's normal range.

    ``coef_j`` is about ``s_y / s_j`` (less where the penalty dominates) and the
    objective about ``S·s_y``: when either is not a normal float64 number (X near 1e-308
    with y near 1 and no penalty, say), no fit is meaningful, and an error naming the
    inputs beats a fit of rounding noise.
    """
    huge = float(np.finfo(np.float64).max)
    if not _TINY <= objective.value_scale <= huge:
        raise InvalidInputError(
            f"the objective is out of float64's range: it is about the sum of "
            f"sample_weight ({objective.total_weight:.3g}) times the spread of y "
            f"({objective.y_scale:.3g}); rescale y or sample_weight."
        )
    bad = np.flatnonzero(~((objective.coef_scale >= _TINY) & (objective.coef_scale <= huge)))
    if bad.size:
        j = int(bad[0])
        raise InvalidInputError(
            f"X and y differ too much in scale for float64: column {j} of X spreads over "
            f"{spread[j]:.3g} and y over {objective.y_scale:.3g} (alpha = "
            f"{objective.alpha:.3g}), so its coefficient would be about "
            f"{objective.coef_scale[j]:.3g}, outside float64's normal range (2.2e-308 to "
            "1.8e308); rescale X or y."
        )


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
        with np.errstate(over="ignore"):
            self.total_weight = float(np.sum(sample_weight))
        if not 0 < self.total_weight < np.inf:
            raise InvalidInputError(
                "sample_weight must have a positive, finite sum (the objective is about "
                f"that sum times the spread of y); it sums to {self.total_weight:.3g}."
            )
        self.mean, spread, self.x_peak = _column_moments(X, sample_weight, fit_intercept)
        weights = sample_weight / self.total_weight
        self.y_center = float(weights @ y) if fit_intercept else 0.0  # convex: no overflow
        self.y_scale = _robust_scale(y, sample_weight, self.y_center)
        # Unit steps in v_coef should change L about equally in every coordinate: the
        # data's curvature in coef_j is about 2·S·s_j²/sigma (sigma ~ s_y), the penalty's
        # 2·alpha; where the penalty dominates (huge y, tiny S) it sets the scale. The
        # square root of 1 + alpha·s_y/(S·s_j²), taken as a hypotenuse: no overflow even
        # for alpha = 1e308.
        with np.errstate(all="ignore"):  # judged by _check_scales
            penalty = np.sqrt(self.alpha) * np.sqrt(self.y_scale) / np.sqrt(self.total_weight)
            self.coef_scale = self.y_scale / np.hypot(spread, penalty)
        self.value_scale = self.total_weight * self.y_scale / GRADIENT_MARGIN
        self.n_params = self.n_features + (2 if fit_intercept else 1)
        # scikit-learn's bound sigma >= 10·eps, relative to the spread of y: the fit is
        # then equivariant under rescaling y (targets around 1e-20 are not all inliers
        # of a sigma that cannot shrink below 2e-15).
        self.min_sigma = max(_MIN_SIGMA * self.y_scale, _TINY)
        _check_scales(self, spread)

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
        scaled_sigma = max(float(sigma), self.min_sigma) / self.y_scale
        v.append(np.array([np.log(scaled_sigma) if self.log_sigma else scaled_sigma]))
        return np.concatenate(v)

    def start(self) -> FloatArray:
        """The default start: no slope, the weighted mean as intercept, ``sigma = s_y``."""
        return self.internal(np.zeros(self.n_features), self.y_center, self.y_scale)

    def bounds(self) -> list[tuple[float | None, float | None]] | None:
        """Bounds of the internal point (``sigma >= 10·eps·s_y``), or None with ``log_sigma``."""
        if self.log_sigma:
            return None
        return [(None, None)] * (self.n_params - 1) + [(self.min_sigma / self.y_scale, None)]

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

    def check_finite(self, v: FloatArray) -> None:
        """Raise :class:`~gradopt.exceptions.InvalidInputError` naming X and y unless the
        objective and its gradient are finite at the internal point `v` (the start).

        Every coordinate is well scaled by construction, so a non-finite value here
        means products like ``x·r`` or ``r²/sigma`` overflow float64 on this data: no
        optimizer could start, and "x0 must be finite" would blame the wrong thing.
        """
        with np.errstate(all="ignore"):
            value, grad = self.value_and_grad(v)
        if np.isfinite(value) and np.all(np.isfinite(grad)):
            return
        where = "objective" if not np.isfinite(value) else "gradient"
        raise InvalidInputError(
            f"the Huber {where} overflows float64 at the start on this data (max |X| = "
            f"{float(np.max(self.x_peak, initial=0.0)):.3g}, max |y| = "
            f"{float(np.max(np.abs(self.y), initial=0.0)):.3g}, epsilon = {self.epsilon:.3g}); "
            "rescale X or y."
        )
