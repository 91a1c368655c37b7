"""The M-estimation objective at a fixed scale: a pure function and its optimizer's view.

For a loss ``ρ`` (:mod:`~gradopt.linear_model._robust_losses`), a scale ``σ > 0`` and
``params = [coef (d), intercept (only when fitted)]``::

    L = 2·σ²·Σᵢ sᵢ·ρ(rᵢ/σ) + α·‖coef‖²,   rᵢ = yᵢ - xᵢ·coef - intercept,
    ∂L/∂coef = -2·σ·Xᵀ(s·ψ(r/σ)) + 2·α·coef,   ∂L/∂intercept = -2·σ·Σ sᵢ·ψ(rᵢ/σ),

so that ``loss="least-squares"`` is exactly ridge regression ``‖y - Xw - c‖² + α‖w‖²``
and ``∇L = 0`` are the M-estimating equations ``Σ sᵢ·ψ(rᵢ/σ)·xᵢ = α·coef/σ``.

Every pass over X is a block function of :mod:`~gradopt.linear_model._robust_blocks`,
run by the executors of :mod:`~gradopt.linear_model._blocked` (row blocks in memory, or
the chunks of Dask arrays), the evaluation included: it is the one
:class:`HuberRegressor` uses, with centred blocks (no digits lost to an offset in X).

(:func:`robust_loss_and_gradient` and :func:`robust_loss`, the pure functions, are
there too.) :class:`RobustObjective` is what optimizers see: the same ``L`` in standardised
coordinates (columns centred and scaled), divided by ``2·S·σ·s_y / 100`` so that each
gradient component is 100 times a dimensionless mean estimating equation and the
convergence test ``max|∇F| <= tol`` means what it means for ``HuberRegressor``. It also
gives the weighted Gram matrices ``Zᵀ·diag(c)·Z`` of the standardised design that
Newton and IRLS steps and the covariance use, and the residual scale of a point.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import autograd.numpy as anp
import numpy as np

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError
from gradopt.linear_model._blocked import (
    BLOCK_ELEMENTS,
    Blocks,
    RowBlocks,
    add,
    scratch_elements,
)
from gradopt.linear_model._huber_objective import GRADIENT_MARGIN
from gradopt.linear_model._moments import weighted_sums
from gradopt.linear_model._robust_blocks import (
    absolute_residual,
    covariance_block,
    covariance_sums,
    curvature_block,
    curvature_sums,
    gram_block,
    hessp_block,
    keep,
    ones_block,
    outliers_block,
    residual_block,
    robust_block,
    robust_block_value,
    robust_weights,
    weights_block,
)
from gradopt.linear_model._robust_losses import RobustLoss
from gradopt.linear_model._robust_scale import GAUSSIAN_MAD, mad_scale
from gradopt.linear_model._selection import blocked_median, robust_spread

__all__ = ["RobustObjective"]

_OFFSET = 16.0  # a column whose mean exceeds 16 spreads is centred in a copy of each block


class RobustObjective:
    """``L`` of :func:`robust_loss_and_gradient` on fixed data, in standardised coordinates.

    Internal coordinates ``v``: ``coef = coef_scale·v[:d]``; with an intercept
    ``intercept = y_center + y_scale·v[d] - mean·coef``. The fitted value is then
    ``y_center + Z·v`` with ``Z = [(X - mean)·diag(coef_scale), y_scale]``, whose columns
    all have spread about ``y_scale``. The scale ``σ`` is an attribute; :meth:`set_scale`
    changes it between rounds of an M-fit.

    Parameters
    ----------
    blocks : Blocks
        The data, in memory (:class:`~gradopt.linear_model._blocked.RowBlocks`) or on a
        Dask cluster; :attr:`X`, :attr:`y`, :attr:`sample_weight` and :meth:`residual`
        exist only in memory.
    loss : RobustLoss
    alpha : float
    fit_intercept : bool
    scale : float, default 1
    """

    def __init__(
        self,
        blocks: Blocks,
        loss: RobustLoss,
        *,
        alpha: float,
        fit_intercept: bool,
        scale: float = 1.0,
    ) -> None:
        self.blocks, self.loss = blocks, loss
        self.alpha, self.fit_intercept = float(alpha), fit_intercept
        self.n_features = blocks.n_features
        self.n_params = self.n_features + int(fit_intercept)
        self._sw = blocks.sample_weight  # None: unit weights
        if isinstance(blocks, RowBlocks):
            self.X, self.y = blocks.X, blocks.y
            weights = blocks.sample_weight
            self.sample_weight = np.ones(blocks.n_samples) if weights is None else weights
        self._last: tuple[bytes, Any] | None = None
        self._residual: tuple[bytes, FloatArray, float, FloatArray] | None = None
        """``(key of v, r, σ, r/σ)`` at the last point, in memory."""
        # One pass for the weighted means, one for the centred Gram matrix: the columns'
        # spreads are its diagonal, and it is the design's Gram matrix once scaled.
        self.total_weight, x_mean, y_mean, y_peak = weighted_sums(blocks)
        self.mean = x_mean if fit_intercept else np.zeros(self.n_features)
        self.y_center = y_mean if fit_intercept else 0.0
        self.centres: dict[str, Any] = {"x_center": self.mean, "y_center": self.y_center}
        raw, column, total, y_square = self._gram(np.zeros(self.n_params), "design", 1.0)
        self.column_spread = np.sqrt(np.maximum(np.diag(raw), 0.0) / self.total_weight)
        spread = self.column_spread.copy()
        spread[~(np.isfinite(spread) & (spread > 0))] = 1.0
        self.spread = spread
        rms = float(np.sqrt(max(y_square, 0.0) / self.total_weight))
        self.y_scale = robust_spread(blocks, self.y_center, rms, y_peak)
        stiffness = 1.0 + self.alpha / (self.total_weight * self.spread**2)
        self.coef_scale = self.y_scale / self.spread / np.sqrt(stiffness)
        self.design_gram = self._assemble(raw, column, total)
        """``Zᵀ·diag(s)·Z``: the rank check, least squares, H-steps and H1 share it."""
        offset = float(np.max(np.abs(self.mean) / self.spread, initial=0.0))
        self.centres["copy_centred"] = offset > _OFFSET
        self.elements = scratch_elements(blocks) if offset > _OFFSET else BLOCK_ELEMENTS
        """Entries of X per block of an evaluation (smaller when blocks are copied)."""
        # Residuals of an exact fit are rounding, a few eps times |y|: a scale below
        # this is zero.
        self.zero_scale = 64 * np.finfo(np.float64).eps * y_peak
        self.set_scale(scale)

    def set_scale(self, scale: float) -> None:
        """Hold ``σ = scale`` fixed from now on."""
        self.scale = float(scale)
        self.value_scale = 2.0 * self.total_weight * self.scale * self.y_scale / GRADIENT_MARGIN
        self._last = None

    def with_loss(self, loss: RobustLoss) -> RobustObjective:
        """The same data and coordinates with another loss (no second pass over X)."""
        other = object.__new__(RobustObjective)
        other.__dict__.update(self.__dict__)
        other.loss, other._last = loss, None
        return other

    # ------------------------------------------------------------ coordinate changes
    def theta(self, v: Any) -> Any:
        """``[coef, shift]`` of the block functions at `v` (traceable by autograd)."""
        d = self.n_features
        shift = anp.reshape(self.y_scale * v[d], (1,)) if self.fit_intercept else np.zeros(1)
        return anp.concatenate([self.coef_scale * v[:d], shift])

    def params(self, v: Any) -> Any:
        """``[coef, intercept?]`` at the internal point `v` (traceable by autograd)."""
        d = self.n_features
        coef = self.coef_scale * v[:d]
        if not self.fit_intercept:
            return coef
        intercept = self.y_center + self.y_scale * v[d] - anp.dot(self.mean, coef)
        return anp.concatenate([coef, anp.reshape(intercept, (1,))])

    def internal(self, coef: FloatArray, intercept: float = 0.0) -> FloatArray:
        """The internal point of the given coefficients and intercept."""
        v = [np.asarray(coef, dtype=np.float64) / self.coef_scale]
        if self.fit_intercept:
            v.append(np.array([intercept - self.y_center + self.mean @ coef]) / self.y_scale)
        return np.concatenate(v)

    def transform(self) -> FloatArray:
        """``T`` with ``[intercept?, coef] = T·v + offset``: maps covariances out of ``v``."""
        d, p = self.n_features, self.n_params
        if not self.fit_intercept:
            return np.diag(self.coef_scale)
        T = np.zeros((p, p))
        T[1:, :d] = np.diag(self.coef_scale)
        T[0, :d] = -self.mean * self.coef_scale
        T[0, d] = self.y_scale
        return T

    # --------------------------------------------------------------- reductions
    def _reduce(self, fn: Callable[..., Any], v: FloatArray, combine: Any = add, **kw: Any) -> Any:
        block = functools.partial(fn, self.theta(v), loss=self.loss, **kw, **self.centres)
        return self.blocks.reduce(block, combine, elements=self.elements)

    def _map(self, fn: Callable[..., Any], v: FloatArray, dtype: Any, **kw: Any) -> Any:
        block = functools.partial(fn, self.theta(v), **kw, **self.centres)
        return self.blocks.map(block, dtype=dtype, elements=self.elements)

    def _evaluate(self, v: FloatArray) -> tuple[float, FloatArray]:
        """``(L, ∇L in theta)`` at `v`, the last one kept (in memory with its residuals:
        the scale rule, the curvature and the weights need no other pass over X)."""
        key = np.asarray(v, dtype=np.float64).tobytes()
        if self._last is not None and self._last[0] == key:
            return self._last[1]  # type: ignore[no-any-return]
        if self.blocks.in_memory:
            value, grad, pieces = self._reduce(
                robust_block, v, scale=self.scale, keep_residual=True, combine=keep
            )
            u = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
            self._residual = (key, u * self.scale, self.scale, u)
        else:
            value, grad = self._reduce(robust_block, v, scale=self.scale)
        if self.alpha:
            coef = self.coef_scale * v[: self.n_features]
            value += self.alpha * float(coef @ coef)
            grad[: self.n_features] += (2.0 * self.alpha) * coef
        self._last = (key, (value, grad))
        return value, grad

    def _gram(self, v: FloatArray, kind: str, scale: float | None = None) -> Any:
        """``(Σ c·zzᵀ, Σ c·z, Σ c, Σ s·(y - y_center)²)`` (see :func:`gram_block`)."""
        block = functools.partial(
            gram_block,
            np.zeros(self.n_features + 1) if kind == "design" else self.theta(v),
            kind=kind,
            loss=self.loss,
            scale=self.scale if scale is None else scale,
            x_center=self.mean,
            y_center=self.y_center,
        )
        return self.blocks.reduce(block)

    # ------------------------------------------------------------------- evaluations
    def value(self, v: Any) -> Any:
        """``F(v) = L / value_scale``, written with autograd.numpy."""
        block = functools.partial(
            robust_block_value, self.theta(v), loss=self.loss, scale=self.scale, **self.centres
        )
        loss = self.blocks.reduce(block, elements=self.elements)
        coef = self.coef_scale * v[: self.n_features]
        return (loss + self.alpha * anp.dot(coef, coef)) / self.value_scale

    def value_and_grad(self, v: FloatArray) -> tuple[float, FloatArray]:
        """``F(v)`` and its gradient, by the chain rule through :meth:`theta`."""
        value, grad = self._evaluate(v)
        return value / self.value_scale, self.internal_grad(grad)

    def mean_curvature(self, v: FloatArray) -> float:
        """``Σ sᵢ·ψ'(uᵢ) / S``, or the mean weight ``ψ(u)/u`` where that is not positive."""
        if self.blocks.in_memory:
            curvature, weight = curvature_sums(self._scaled(v, self.scale), self._sw, self.loss)
        else:
            curvature, weight = self._reduce(curvature_block, v, scale=self.scale)
        m = float(curvature) / self.total_weight
        if m > 0.05:
            return m
        return max(float(weight) / self.total_weight, 1e-3)

    def internal_grad(self, grad: FloatArray) -> FloatArray:
        """The gradient of ``F`` from the gradient `grad` of ``L`` in ``theta``."""
        d = self.n_features
        out = self.coef_scale * grad[:d]
        if self.fit_intercept:
            out = np.append(out, self.y_scale * grad[d])
        result: FloatArray = out / self.value_scale
        return result

    def penalty_hessian(self) -> FloatArray:
        """The Hessian of ``α‖coef‖²`` in internal coordinates (diagonal, as a vector)."""
        diagonal = np.zeros(self.n_params)
        diagonal[: self.n_features] = 2.0 * self.alpha * self.coef_scale**2
        return diagonal

    def gram_at(self, v: FloatArray, kind: str, scale: float | None = None) -> FloatArray:
        """``Zᵀ·diag(c)·Z`` with the row weights ``c = s·ψ'(u)`` (``"newton"``, the exact
        Hessian) or ``s·ψ(u)/u`` (``"irls"``, the curvature of the quadratic majoriser,
        never negative) at `v` (and `scale`, by default the objective's)."""
        raw, column, total, _ = self._gram(v, kind, scale)
        return self._assemble(raw, column, total)

    def hessian_at(self, v: FloatArray, kind: str) -> FloatArray:
        """The Hessian of ``F`` at `v` with the curvature `kind` (see :meth:`gram_at`)."""
        return self.hessian_from(self.gram_at(v, kind))

    def hessian_from(self, gram: FloatArray) -> FloatArray:
        """The Hessian of ``F`` whose data term has the Gram matrix `gram`."""
        H = 2.0 * gram
        H[np.diag_indices_from(H)] += self.penalty_hessian()
        result: FloatArray = H / self.value_scale
        return result

    def hessp(self, v: FloatArray, direction: FloatArray) -> FloatArray:
        """The exact Hessian of ``F`` at `v` times `direction` (one pass over X)."""
        d = self.n_features
        delta = self.theta(direction)  # linear: the direction in theta
        product = self._reduce(hessp_block, v, direction=delta, scale=self.scale)
        out = self.coef_scale * product[:d]
        if self.fit_intercept:
            out = np.append(out, self.y_scale * product[d])
        out = 2.0 * out + self.penalty_hessian() * direction
        result: FloatArray = out / self.value_scale
        return result

    def _assemble(self, raw: FloatArray, column: FloatArray, total: float) -> FloatArray:
        """``Zᵀ·diag(c)·Z`` from the Gram matrix and column sums of ``X - mean``."""
        d, p = self.n_features, self.n_params
        G = np.zeros((p, p))
        G[:d, :d] = raw * np.outer(self.coef_scale, self.coef_scale)
        if self.fit_intercept:
            G[:d, d] = G[d, :d] = self.y_scale * self.coef_scale * column
            G[d, d] = self.y_scale**2 * total
        return G

    # ----------------------------------------------------------- the residuals
    def residual(self, v: FloatArray) -> FloatArray:
        """``y - X·coef - intercept`` at `v` (in memory; read-only; the last evaluation's
        when it was at `v`)."""
        key = np.asarray(v, dtype=np.float64).tobytes()
        if self._residual is None or self._residual[0] != key:
            residual: FloatArray = self._map(residual_block, v, np.float64)
            self._residual = (key, residual, self.scale, residual / self.scale)
        result = self._residual[1]
        result.flags.writeable = False
        return result

    def _scaled(self, v: FloatArray, scale: float) -> FloatArray:
        """``u = r/scale`` at `v`, in memory."""
        residual = self.residual(v)
        assert self._residual is not None
        if self._residual[2] == scale:
            u: FloatArray = self._residual[3]
            return u
        return residual / scale

    def residual_scale(
        self, v: FloatArray, rule: Callable[..., float], start: float | None
    ) -> float:
        """``rule(residuals, sample_weight, n_params, start=start)`` at `v`; on data not in
        memory only the MAD, by an exact distributed median of ``|r|``."""
        if self.blocks.in_memory:
            return float(rule(self.residual(v), self.sample_weight, self.n_params, start=start))
        if rule is not mad_scale:
            raise InvalidInputError(
                "on Dask arrays RobustRegressor's scale is 'mad' or a number; Huber's "
                "proposal 2 and the S-scale need the residuals in memory."
            )
        transform = functools.partial(absolute_residual, self.theta(v), self.centres)
        return blocked_median(self.blocks, transform)[0] / GAUSSIAN_MAD

    def covariance_sums(self, v: FloatArray, scale: float) -> FloatArray:
        """``[Σ s·ψ'(u), Σ s·ψ'(u)², Σ s·ψ(u)²]`` at `v` and `scale`."""
        if self.blocks.in_memory:
            return covariance_sums(self._scaled(v, scale), self._sw, self.loss)
        return np.asarray(self._reduce(covariance_block, v, scale=scale))

    def weights_and_outliers(self, v: FloatArray, scale: float) -> tuple[Any, Any]:
        """The robustness weights in [0, 1] and ``|r| > c·scale`` (``c`` the loss's last
        tuning constant), one per row: arrays in memory, Dask arrays on a cluster. With
        a zero scale (an exact fit), weights of 1 and ``|r|`` beyond rounding."""
        exact = not scale > self.zero_scale
        if self.blocks.in_memory:
            residual = self.residual(v)
            if exact:
                return np.ones_like(residual), np.abs(residual) > self.zero_scale
            u = self._scaled(v, scale)
            return robust_weights(u, self.loss), np.abs(u) > self.loss.c
        if exact:
            weights = self._map(ones_block, v, np.float64)
            outliers = self._map(outliers_block, v, bool, threshold=self.zero_scale)
        else:
            weights = self._map(weights_block, v, np.float64, loss=self.loss, scale=scale)
            outliers = self._map(outliers_block, v, bool, threshold=self.loss.c * scale)
        return weights, outliers
