"""The Huber objective in the optimizer's coordinates: standardised, σ kept positive.

Optimizers see ``F(v) = 100·L(params(v)) / (S·s_y)``, the very objective ``L`` of
:mod:`gradopt.linear_model._huber_loss` divided by a positive constant, in coordinates
``v`` where a unit step means the same thing for every parameter::

    coef      = (s_y / s) · v_coef / sqrt(1 + ρ)   (s: the columns' weighted std;
                s_y: a robust spread of y, see _selection.robust_spread; ρ = α·s_y / (S·s²),
                the penalty's curvature over the data's, negligible unless y is huge)
    shift     = s_y · v_intercept,   intercept = m_y + shift - m · coef
                (m, m_y: the weighted means of the columns and of y)
    sigma     = s_y · v_sigma     (bounded solvers; v_sigma >= 10·eps / s_y)
              = s_y · exp(v_sigma)  (unbounded solvers)

Every component of ``∇F/100`` is then a dimensionless mean estimating equation, so a
gradient test ``max|∇F| <= tol`` means the same for any n and any units of X and y. The
factor 100 makes the default ``tol = 1e-5`` ask for equations within 1e-7 of zero: tight
(sigma to ~1e-7 relative) yet well above the ~1e-8 floor at which rounding in ``L``
stops line searches, whatever n.
``params(v)`` is affine in the coefficients, so ``L`` stays convex in them and its
minimiser maps back exactly. The evaluations run the block functions of
:mod:`~gradopt.linear_model._huber_loss` on ``[coef, shift, sigma]`` with the centres
``m`` and ``m_y``: y is centred in every block, and where a column's mean exceeds 16
times its spread each block of X is centred too, in a cache-resident copy, before its
products, so an offset of 1e6 or 1.7e12 in a column costs no digits of the residuals
and the objective is as smooth to the optimizer as for centred data (smaller offsets
enter as ``m·coef``, which costs at most a digit). Whatever executes the
blocks (:mod:`~gradopt.linear_model._blocked`: in memory, or Dask chunks) serves.
"""

from __future__ import annotations

import functools
from typing import Any

import autograd.numpy as anp
import numpy as np

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError
from gradopt.linear_model._blocked import BLOCK_ELEMENTS, Blocks, scratch_elements
from gradopt.linear_model._huber_loss import (
    TRACED_BLOCK_ELEMENTS,
    huber_block,
    huber_block_value,
)
from gradopt.linear_model._moments import summarise
from gradopt.linear_model._selection import robust_spread

__all__ = ["GRADIENT_MARGIN", "HuberObjective"]

_EPS = float(np.finfo(np.float64).eps)
_TINY = float(np.finfo(np.float64).tiny)
_OFFSET = 16.0  # a column whose mean exceeds 16 spreads is centred in a copy of each block
_MIN_SIGMA = 10 * _EPS  # scikit-learn's lower bound on sigma (here relative to s_y)
GRADIENT_MARGIN = 100.0  # F = GRADIENT_MARGIN · (mean objective): see the module docstring


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
    blocks : Blocks
        The data ``(X, y, sample_weight)`` and the executor that reduces over its row
        blocks (:class:`~gradopt.linear_model._blocked.RowBlocks` in memory,
        :class:`~gradopt.linear_model._dask_blocks.DaskBlocks` on a cluster).
    epsilon, alpha : float
        As in :func:`~gradopt.linear_model._huber_loss.huber_loss_and_gradient`.
    fit_intercept : bool
    log_sigma : bool
        Parametrise ``sigma = s_y·exp(v_sigma)`` (for solvers without bounds) instead of
        ``sigma = s_y·v_sigma`` with a lower bound (see :meth:`bounds`).

    Notes
    -----
    Construction costs two passes over the blocks (means, then spreads) and the median
    and MAD of a sample of y; each evaluation one pass. The last evaluation is kept
    (:attr:`last`), so the estimator reads the loss at the solution without another.
    """

    def __init__(
        self,
        blocks: Blocks,
        *,
        epsilon: float,
        alpha: float,
        fit_intercept: bool,
        log_sigma: bool,
    ) -> None:
        self.blocks = blocks
        self.epsilon, self.alpha = float(epsilon), float(alpha)
        self.fit_intercept, self.log_sigma = fit_intercept, log_sigma
        self.n_features = blocks.n_features
        summary = summarise(blocks, fit_intercept)
        self.total_weight = summary.total_weight
        if not 0 < self.total_weight < np.inf:
            raise InvalidInputError(
                "sample_weight must have a positive, finite sum (the objective is about "
                f"that sum times the spread of y); it sums to {self.total_weight:.3g}."
            )
        self.mean, spread, self.x_peak = summary.x_mean, summary.x_spread, summary.x_peak
        self.y_center, self.y_peak = summary.y_mean, summary.y_peak  # y_mean: 0 unless fitted
        self.y_scale = robust_spread(blocks, self.y_center, summary.y_spread, summary.y_peak)
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
        with np.errstate(all="ignore"):
            offset = float(np.max(np.abs(self.mean) / spread, initial=0.0))
        self.centres: dict[str, Any] = {
            "x_center": self.mean if fit_intercept else None,
            "y_center": self.y_center,
            "copy_centred": bool(fit_intercept and not blocks.sparse and offset > _OFFSET),
        }
        """The centres the block functions subtract (keyword arguments)."""
        self.elements = (
            scratch_elements(blocks) if self.centres["copy_centred"] else BLOCK_ELEMENTS
        )
        """Entries of X per block of an evaluation (smaller when blocks are copied)."""
        self.last: tuple[FloatArray, float, FloatArray] | None = None
        """``(v, L, ∇L in theta)`` of the last :meth:`value_and_grad`."""
        _check_scales(self, spread)

    # ------------------------------------------------------------ coordinate changes
    def theta(self, v: Any) -> Any:
        """``[coef, shift, sigma]`` of the block functions at `v` (traceable by autograd)."""
        d = self.n_features
        coef = self.coef_scale * v[:d]
        shift = anp.reshape(self.y_scale * v[d], (1,)) if self.fit_intercept else np.zeros(1)
        sigma = self.y_scale * (anp.exp(v[-1]) if self.log_sigma else v[-1])
        return anp.concatenate([coef, shift, anp.reshape(sigma, (1,))])

    def params(self, v: Any) -> Any:
        """``[coef, intercept?, sigma]`` at the internal point `v` (traceable by autograd)."""
        return self.params_of(self.theta(v))

    def params_of(self, theta: Any) -> Any:
        """``[coef, intercept?, sigma]`` from ``theta = [coef, shift, sigma]``."""
        d = self.n_features
        coef = theta[:d]
        if not self.fit_intercept:
            return anp.concatenate([coef, theta[d + 1 :]])
        intercept = self.y_center + theta[d] - anp.dot(self.mean, coef)
        return anp.concatenate([coef, anp.reshape(intercept, (1,)), theta[d + 1 :]])

    def theta_of(self, params: FloatArray) -> FloatArray:
        """``[coef, shift, sigma]`` from ``params = [coef, intercept?, sigma]``."""
        d = self.n_features
        coef = np.asarray(params[:d], dtype=np.float64)
        shift = params[d] - self.y_center + self.mean @ coef if self.fit_intercept else 0.0
        return np.concatenate([coef, [shift, params[-1]]])

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

    def bounds(self) -> list[tuple[float | None, float | None]]:
        """Bounds of the internal point: ``sigma >= 10·eps·s_y``."""
        low = self.min_sigma / self.y_scale
        return [(None, None)] * (self.n_params - 1) + [
            (np.log(low) if self.log_sigma else low, None)
        ]

    def rounding(self, theta: FloatArray) -> float:
        """An upper bound of the rounding error of any residual at `theta` (that of
        :func:`~gradopt.linear_model._huber_loss.huber_outliers`, over every row)."""
        d = self.n_features
        size = (
            self.y_peak
            + abs(self.y_center)
            + (self.x_peak + float(np.max(np.abs(self.mean), initial=0.0)))
            * float(np.sum(np.abs(theta[:d])))
            + abs(float(theta[d]))
        )
        return 4 * (d + 2) * _EPS * size

    # ------------------------------------------------------------------- evaluations
    def evaluate(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """``L`` and its gradient in ``theta = [coef, shift, sigma]``: one pass of blocks."""
        block = functools.partial(huber_block, theta, epsilon=self.epsilon, **self.centres)
        loss, grad = self.blocks.reduce(block, elements=self.elements)
        if self.alpha:  # not 0·inf: coefficients near 1e300 are valid without a penalty
            coef = theta[: self.n_features]
            loss += self.alpha * float(coef @ coef)
            grad[: self.n_features] += 2.0 * (self.alpha * coef)
        return float(loss), grad

    def loss(self, params: FloatArray) -> tuple[float, FloatArray]:
        """The original objective and its gradient at ``params`` (not internal)."""
        loss, grad = self.evaluate(self.theta_of(params))
        return loss, self.params_grad(grad)

    def params_grad(self, grad: FloatArray) -> FloatArray:
        """The gradient in ``[coef, intercept?, sigma]`` from the one in ``theta``."""
        d = self.n_features
        if not self.fit_intercept:
            deleted: FloatArray = np.delete(grad, d)
            return deleted
        result: FloatArray = grad.copy()
        result[:d] += self.mean * grad[d]  # the shift moves with the coefficients
        return result

    def value(self, v: Any) -> Any:
        """``F(v)``, written with autograd.numpy for autograd and finite differences."""
        theta = self.theta(v)
        block = functools.partial(huber_block_value, theta, epsilon=self.epsilon, **self.centres)
        loss = self.blocks.reduce(block, elements=TRACED_BLOCK_ELEMENTS)
        if self.alpha:
            coef = theta[: self.n_features]
            loss = loss + self.alpha * anp.dot(coef, coef)
        return loss / self.value_scale

    def value_and_grad(self, v: FloatArray) -> tuple[float, FloatArray]:
        """``F(v)`` and its gradient by the chain rule through :meth:`theta` (the last
        evaluation again when `v` is where it was: the start, checked, then solved)."""
        theta = self.theta(v)
        if self.last is not None and np.array_equal(self.last[0], v):
            loss, grad = self.last[1], self.last[2]
        else:
            loss, grad = self.evaluate(theta)
            self.last = (np.array(v, dtype=np.float64), loss, grad)
        return loss / self.value_scale, self.internal_grad(theta, grad)

    def internal_grad(self, theta: FloatArray, grad: FloatArray) -> FloatArray:
        """The gradient of ``F`` from the gradient `grad` of ``L`` in `theta`."""
        d = self.n_features
        parts = [self.coef_scale * grad[:d]]
        if self.fit_intercept:
            parts.append(self.y_scale * grad[d : d + 1])
        parts.append(grad[d + 1 :] * (theta[d + 1] if self.log_sigma else self.y_scale))
        result: FloatArray = np.concatenate(parts) / self.value_scale
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
            f"{self.x_peak:.3g}, max |y| = "
            f"{self.y_peak:.3g}, epsilon = {self.epsilon:.3g}); rescale X or y."
        )
