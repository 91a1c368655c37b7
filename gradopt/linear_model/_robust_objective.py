"""The M-estimation objective at a fixed scale: a pure function and its optimizer's view.

For a loss ``ρ`` (:mod:`~gradopt.linear_model._robust_losses`), a scale ``σ > 0`` and
``params = [coef (d), intercept (only when fitted)]``::

    L = 2·σ²·Σᵢ sᵢ·ρ(rᵢ/σ) + α·‖coef‖²,   rᵢ = yᵢ - xᵢ·coef - intercept,
    ∂L/∂coef = -2·σ·Xᵀ(s·ψ(r/σ)) + 2·α·coef,   ∂L/∂intercept = -2·σ·Σ sᵢ·ψ(rᵢ/σ),

so that ``loss="least-squares"`` is exactly ridge regression ``‖y - Xw - c‖² + α‖w‖²``
and ``∇L = 0`` are the M-estimating equations ``Σ sᵢ·ψ(rᵢ/σ)·xᵢ = α·coef/σ``.
:func:`robust_loss_and_gradient` is a sum over rows plus the penalty: a blocked
evaluation calls it per row block with ``alpha=0`` and adds the penalty once.

:class:`RobustObjective` is what optimizers see: the same ``L`` in the standardised
coordinates of :class:`~gradopt.linear_model._huber_objective.HuberObjective` (columns
centred and scaled without copying ``X``), divided by ``2·S·σ·s_y / 100`` so that each
gradient component is 100 times a dimensionless mean estimating equation and the
convergence test ``max|∇F| <= tol`` means what it means for ``HuberRegressor``.
It also gives the weighted Gram matrices ``Zᵀ·diag(c)·Z`` of the standardised design
(row blocks of bounded size) that Newton and IRLS steps and the covariance use.
"""

from __future__ import annotations

from typing import Any

import autograd.numpy as anp
import numpy as np

from gradopt._typing import FloatArray
from gradopt.linear_model._huber_loss import matvec
from gradopt.linear_model._huber_objective import (
    _CHUNK_ELEMENTS,
    GRADIENT_MARGIN,
    _robust_scale,
)
from gradopt.linear_model._robust_losses import RobustLoss, make_loss

__all__ = ["RobustObjective", "robust_loss", "robust_loss_and_gradient"]


def _split(params: Any, n_features: int) -> tuple[Any, Any, bool]:
    size = params.shape[0]
    if size not in (n_features, n_features + 1):
        raise ValueError(
            f"params must have n_features = {n_features} entries (coef) or "
            f"n_features + 1 = {n_features + 1} (coef, intercept); got {size}."
        )
    fit_intercept = size == n_features + 1
    return params[:n_features], params[n_features] if fit_intercept else 0.0, fit_intercept


def robust_loss_and_gradient(
    params: FloatArray,
    X: Any,
    y: FloatArray,
    loss: str | RobustLoss,
    scale: float,
    sample_weight: FloatArray | None = None,
    alpha: float = 0.0,
) -> tuple[float, FloatArray]:
    """``L = 2σ²·Σ sᵢ·ρ(rᵢ/σ) + α‖coef‖²`` and its gradient, one pass over ``X`` each way.

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
    coef, intercept, fit_intercept = _split(params, X.shape[1])
    residual = y - X @ coef
    if fit_intercept:
        residual -= intercept
    rho = make_loss(loss) if isinstance(loss, str) else loss
    return _from_residual(residual, coef, fit_intercept, X, rho, scale, sample_weight, alpha)


def _from_residual(
    residual: FloatArray,
    coef: FloatArray,
    fit_intercept: bool,
    X: Any,
    loss: RobustLoss,
    scale: float,
    sample_weight: FloatArray | None,
    alpha: float,
) -> tuple[float, FloatArray]:
    """:func:`robust_loss_and_gradient` once the residuals are known."""
    u = residual / scale
    rho, psi = loss.rho(u), loss.psi(u)
    if sample_weight is not None:
        rho, psi = sample_weight * rho, sample_weight * psi
    value = 2.0 * scale * scale * float(np.sum(rho)) + alpha * float(coef @ coef)
    grad = np.empty(coef.shape[0] + int(fit_intercept))
    grad[: coef.shape[0]] = (-2.0 * scale) * np.asarray(X.T @ psi) + (2.0 * alpha) * coef
    if fit_intercept:
        grad[-1] = (-2.0 * scale) * float(np.sum(psi))
    return value, grad


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
    coef, intercept, _ = _split(params, X.shape[1])
    function = make_loss(loss) if isinstance(loss, str) else loss
    rho = function.rho((y - matvec(X, coef) - intercept) / scale)
    data = anp.sum(rho) if sample_weight is None else anp.dot(sample_weight, rho)
    return 2.0 * scale * scale * data + alpha * anp.dot(coef, coef)


class RobustObjective:
    """``L`` of :func:`robust_loss_and_gradient` on fixed data, in standardised coordinates.

    Internal coordinates ``v``: ``coef = coef_scale·v[:d]``; with an intercept
    ``intercept = y_center + y_scale·v[d] - mean·coef``. The fitted value is then
    ``y_center + Z·v`` with ``Z = [(X - mean)·diag(coef_scale), y_scale]``, whose columns
    all have spread about ``y_scale``. The scale ``σ`` is an attribute; :meth:`set_scale`
    changes it between rounds of an M-fit.
    """

    def __init__(
        self,
        X: FloatArray,
        y: FloatArray,
        sample_weight: FloatArray,
        loss: RobustLoss,
        *,
        alpha: float,
        fit_intercept: bool,
        scale: float = 1.0,
    ) -> None:
        self.X, self.y, self.sample_weight, self.loss = X, y, sample_weight, loss
        self.alpha, self.fit_intercept = float(alpha), fit_intercept
        self.n_features = X.shape[1]
        self.n_params = self.n_features + int(fit_intercept)
        self.total_weight = float(np.sum(sample_weight))
        self.unit_weights = bool(np.all(sample_weight == 1.0))
        self._last: tuple[bytes, FloatArray] | None = None
        # One pass for the weighted means, one for the centred Gram matrix: the columns'
        # spreads are its diagonal, and it is the design's Gram matrix once scaled.
        if fit_intercept:
            self.mean = np.asarray(X.T @ sample_weight, dtype=np.float64) / self.total_weight
        else:
            self.mean = np.zeros(X.shape[1])
        raw, column = _centered_gram(X, self.mean, sample_weight)
        self.column_spread = np.sqrt(np.maximum(np.diag(raw), 0.0) / self.total_weight)
        spread = self.column_spread.copy()
        spread[~(np.isfinite(spread) & (spread > 0))] = 1.0
        self.spread = spread
        self.y_center = float(sample_weight @ y) / self.total_weight if fit_intercept else 0.0
        self.y_scale = _robust_scale(y, sample_weight, self.y_center)
        stiffness = 1.0 + self.alpha / (self.total_weight * self.spread**2)
        self.coef_scale = self.y_scale / self.spread / np.sqrt(stiffness)
        self.design_gram = self._assemble(raw, column, self.total_weight)
        """``Zᵀ·diag(s)·Z``: the rank check, least squares, H-steps and H1 share it."""
        # Residuals of an exact fit are rounding, a few eps times |y|: a scale below
        # this is zero.
        self.zero_scale = 64 * np.finfo(np.float64).eps * float(np.max(np.abs(y), initial=0.0))
        self.set_scale(scale)

    def set_scale(self, scale: float) -> None:
        """Hold ``σ = scale`` fixed from now on."""
        self.scale = float(scale)
        self.value_scale = 2.0 * self.total_weight * self.scale * self.y_scale / GRADIENT_MARGIN

    def with_loss(self, loss: RobustLoss) -> RobustObjective:
        """The same data and coordinates with another loss (no second pass over X)."""
        other = object.__new__(RobustObjective)
        other.__dict__.update(self.__dict__)
        other.loss = loss
        return other

    # ------------------------------------------------------------ coordinate changes
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

    def residual(self, v: FloatArray) -> FloatArray:
        """``y - X·coef - intercept`` at the internal point `v` (read-only).

        The last one is kept: the scale rule, the curvature and the covariance ask for
        the residuals where the solver just evaluated, without another product with X.
        """
        key = np.asarray(v, dtype=np.float64).tobytes()
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        params = self.params(v)
        d = self.n_features
        residual: FloatArray = self.y - self.X @ params[:d]
        if self.fit_intercept:
            residual -= params[d]
        residual.flags.writeable = False
        self._last = (key, residual)
        return residual

    # ------------------------------------------------------------------- evaluations
    def value(self, v: Any) -> Any:
        """``F(v) = L / value_scale``, written with autograd.numpy."""
        loss = robust_loss(
            self.params(v), self.X, self.y, self.loss, self.scale, self.sample_weight, self.alpha
        )
        return loss / self.value_scale

    def value_and_grad(self, v: FloatArray) -> tuple[float, FloatArray]:
        """``F(v)`` and its gradient, by the chain rule through :meth:`params`."""
        coef = self.params(v)[: self.n_features]
        loss, grad = _from_residual(
            self.residual(v),
            coef,
            self.fit_intercept,
            self.X,
            self.loss,
            self.scale,
            None if self.unit_weights else self.sample_weight,
            self.alpha,
        )
        return loss / self.value_scale, self.internal_grad(grad)

    def mean_curvature(self, v: FloatArray) -> float:
        """``Σ sᵢ·ψ'(uᵢ) / S``, or the mean weight ``ψ(u)/u`` where that is not positive."""
        u = self.residual(v) / self.scale
        m = float(self.sample_weight @ self.loss.psi_deriv(u)) / self.total_weight
        if m > 0.05:
            return m
        return max(float(self.sample_weight @ self.loss.weight(u)) / self.total_weight, 1e-3)

    def internal_grad(self, grad: FloatArray) -> FloatArray:
        """The gradient of ``F`` from the gradient `grad` of ``L``."""
        d = self.n_features
        out = np.empty_like(grad)
        grad_coef = grad[:d]
        if self.fit_intercept:
            grad_coef = grad_coef - self.mean * grad[d]
            out[d] = self.y_scale * grad[d]
        out[:d] = self.coef_scale * grad_coef
        result: FloatArray = out / self.value_scale
        return result

    def penalty_hessian(self) -> FloatArray:
        """The Hessian of ``α‖coef‖²`` in internal coordinates (diagonal, as a vector)."""
        diagonal = np.zeros(self.n_params)
        diagonal[: self.n_features] = 2.0 * self.alpha * self.coef_scale**2
        return diagonal

    def curvature(self, v: FloatArray, kind: str) -> FloatArray:
        """Per-row weights ``c`` of the Hessian ``Σ 2·sᵢ·cᵢ·zᵢzᵢᵀ`` of the data term.

        ``"newton"``: ``ψ'(u)``, the exact Hessian; ``"irls"``: ``ψ(u)/u``, the
        curvature of the quadratic majoriser (never negative, so always a descent step).
        """
        u = self.residual(v) / self.scale
        c = self.loss.psi_deriv(u) if kind == "newton" else self.loss.weight(u)
        result: FloatArray = self.sample_weight * c
        return result

    def hessian(self, c: FloatArray) -> FloatArray:
        """The Hessian of ``F`` with row weights `c` (from :meth:`curvature`)."""
        return self.hessian_from(self.gram(c))

    def hessian_from(self, gram: FloatArray) -> FloatArray:
        """The Hessian of ``F`` whose data term has the Gram matrix `gram`."""
        H = 2.0 * gram
        H[np.diag_indices_from(H)] += self.penalty_hessian()
        result: FloatArray = H / self.value_scale
        return result

    def hessp(self, v: FloatArray, direction: FloatArray) -> FloatArray:
        """The exact Hessian of ``F`` at `v` times `direction` (two products with X)."""
        c = self.curvature(v, "newton")
        d = self.n_features
        scaled = self.coef_scale * direction[:d]
        zv = self.X @ scaled - float(self.mean @ scaled)
        if self.fit_intercept:
            zv = zv + self.y_scale * direction[d]
        weighted = c * zv
        out = np.empty(self.n_params)
        out[:d] = self.coef_scale * (self.X.T @ weighted - self.mean * float(np.sum(weighted)))
        if self.fit_intercept:
            out[d] = self.y_scale * float(np.sum(weighted))
        out = 2.0 * out + self.penalty_hessian() * direction
        result: FloatArray = out / self.value_scale
        return result

    def gram(self, c: FloatArray) -> FloatArray:
        """``Zᵀ·diag(c)·Z`` over row blocks of bounded size (no full copy of X)."""
        raw, column = _centered_gram(self.X, self.mean, c)
        return self._assemble(raw, column, float(np.sum(c)))

    def _assemble(self, raw: FloatArray, column: FloatArray, total: float) -> FloatArray:
        """``Zᵀ·diag(c)·Z`` from the Gram matrix and column sums of ``X - mean``."""
        d, p = self.n_features, self.n_params
        G = np.zeros((p, p))
        G[:d, :d] = raw * np.outer(self.coef_scale, self.coef_scale)
        if self.fit_intercept:
            G[:d, d] = G[d, :d] = self.y_scale * self.coef_scale * column
            G[d, d] = self.y_scale**2 * total
        return G


def _centered_gram(
    X: FloatArray, mean: FloatArray, c: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """``Σ cᵢ·(xᵢ - m)(xᵢ - m)ᵀ`` and ``Σ cᵢ·(xᵢ - m)``, over row blocks of bounded size.

    Each block is centred once; with ``c >= 0`` it is scaled by ``sqrt(c)`` and its Gram
    matrix is one symmetric product ``Bᵀ·B`` (BLAS syrk, half the work).
    """
    d = X.shape[1]
    raw, column = np.zeros((d, d)), np.zeros(d)
    nonnegative = bool(np.all(c >= 0))
    unit = nonnegative and bool(np.all(c == 1.0))
    root = np.sqrt(c) if nonnegative else c
    rows = max(1, _CHUNK_ELEMENTS // max(d, 1))
    for start in range(0, X.shape[0], rows):
        block = X[start : start + rows] - mean
        if unit:
            raw += block.T @ block
            column += block.sum(axis=0)
        elif nonnegative:
            block *= root[start : start + rows, None]
            raw += block.T @ block
            column += block.T @ root[start : start + rows]
        else:
            weighted = block * c[start : start + rows, None]
            raw += block.T @ weighted
            column += weighted.sum(axis=0)
    return raw, column
