"""What the ``gradient`` and ``solver`` strings of :class:`HuberRegressor` stand for.

Two small registries, consulted once at the estimator's boundary: a gradient name gives
a function building a :class:`~gradopt.gradients.GradientProvider` from the objective;
a solver name gives the :func:`gradopt.minimize` method, whether it takes bounds (else
``sigma`` is optimised through its logarithm) and its options for ``max_iter``/``tol``.

``"jax"`` differentiates the objective written with ``jax.numpy`` (:func:`_jax_objective`,
the same formulas as :func:`~gradopt.linear_model._huber_loss.huber_loss`), with the data
(:func:`~gradopt.linear_model._jax_data.device_data`) passed to the compiled program as
arguments: it is compiled once per data shape and reused by every later fit of that
shape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradopt._typing import ArrayLike, FloatArray
from gradopt.gradients import Analytic, Autograd, FiniteDifference, GradientProvider, Jax
from gradopt.linear_model._huber_objective import HuberObjective
from gradopt.linear_model._jax_data import block_sum, device_data

__all__ = ["GRADIENTS", "SOLVERS", "BestSeen", "Solver"]

# L-BFGS-B's relative-reduction test. scikit-learn leaves it at scipy's 2.2e-9, which
# stops the fit early on problems like load_diabetes; gradopt relies on the (scaled)
# gradient test `tol` and keeps this only as a guard against stagnation.
_FTOL = 1e-15


class BestSeen:
    """A provider that passes everything to `provider` and remembers the lowest value.

    After a failed line search an optimizer may return its last trial point; the
    estimator then keeps the best point any evaluation saw instead.
    """

    def __init__(self, provider: GradientProvider) -> None:
        self.provider = provider
        self.best_value = np.inf
        self.best_x: FloatArray | None = None

    @property
    def nfev(self) -> int:
        return self.provider.nfev

    @property
    def ngev(self) -> int:
        return self.provider.ngev

    def value(self, x: ArrayLike) -> float:
        value = self.provider.value(x)
        self._see(x, value)
        return value

    def grad(self, x: ArrayLike) -> FloatArray:
        return self.provider.grad(x)

    def value_and_grad(self, x: ArrayLike) -> tuple[float, FloatArray]:
        value, grad = self.provider.value_and_grad(x)
        self._see(x, value)
        return value, grad

    def reset_counts(self) -> None:
        self.provider.reset_counts()

    def _see(self, x: ArrayLike, value: float) -> None:
        if value < self.best_value:
            self.best_value = value
            self.best_x = np.array(x, dtype=np.float64)


def _analytic(objective: HuberObjective) -> GradientProvider:
    return Analytic(objective.value, value_and_grad=objective.value_and_grad)


def _autograd(objective: HuberObjective) -> GradientProvider:
    return Autograd(objective.value)


def _finite_difference(objective: HuberObjective) -> GradientProvider:
    return FiniteDifference(objective.value, method="central")


def _jax_block(
    v: Any, Xc: Any, yc: Any, weight: Any, scales: Any, *, fit_intercept: bool, log_sigma: bool
) -> Any:
    """The data term of ``HuberObjective``'s ``L`` on one block (``Xc``: its rows of
    ``X - mean``; ``yc``: of ``y - y_center``), in jax.numpy.

    The formulas of :func:`~gradopt.linear_model._huber_loss.huber_loss`, also in how
    they avoid overflow.
    """
    import jax
    import jax.numpy as jnp

    d = Xc.shape[1]
    y_scale, epsilon = scales[d], scales[d + 2]
    coef = scales[:d] * v[:d]
    sigma = y_scale * (jnp.exp(v[-1]) if log_sigma else v[-1])
    residual = yc - Xc @ coef
    if fit_intercept:
        residual = residual - y_scale * v[d]
    # Which samples are outliers is piecewise constant; one formula per branch keeps the
    # derivative in sigma exact: inliers r²/σ (in units of a power of two near sigma),
    # outliers 2ε|r| - ε²σ (ε² not formed).
    outlier = jnp.abs(residual) > epsilon * sigma
    unit = jax.lax.stop_gradient(jnp.ldexp(1.0, jnp.frexp(sigma)[1] - 1))
    inlier = jnp.where(outlier, 0.0, residual) / unit
    per_sample = inlier * (inlier / (sigma / unit)) * unit + jnp.where(
        outlier, 2.0 * epsilon * jnp.abs(residual), 0.0
    )
    outlier_weight = weight @ jnp.where(outlier, 1.0, 0.0)
    return weight @ per_sample - epsilon * (epsilon * outlier_weight) * sigma


def _jax_objective(v: Any, scales: Any, *data: Any, fit_intercept: bool, log_sigma: bool) -> Any:
    """``HuberObjective.value`` in jax.numpy: ``F(v) = L(params(v)) / value_scale``, on
    the blocks `data` of :func:`~gradopt.linear_model._jax_data.device_data`; ``scales =
    [coef_scale (d), y_scale, value_scale, epsilon, alpha, total_weight]``."""
    import jax.numpy as jnp

    d = v.shape[0] - 1 - int(fit_intercept)
    y_scale, value_scale, _, alpha, total_weight = scales[d:]
    coef = scales[:d] * v[:d]
    sigma = y_scale * (jnp.exp(v[-1]) if log_sigma else v[-1])
    block = functools.partial(_jax_block, fit_intercept=fit_intercept, log_sigma=log_sigma)
    loss = total_weight * sigma + block_sum(block, v, data, scales)
    loss += jnp.where(alpha > 0, alpha * (coef @ coef), 0.0)  # not 0·inf
    return loss / value_scale


# One function object per form of the objective, so compiled programs are reused by fits.
_JAX_OBJECTIVES = {
    (fit_intercept, log_sigma): functools.partial(
        _jax_objective, fit_intercept=fit_intercept, log_sigma=log_sigma
    )
    for fit_intercept in (False, True)
    for log_sigma in (False, True)
}


def _jax(objective: HuberObjective) -> GradientProvider:
    o = objective
    centre = o.mean if o.fit_intercept else None
    data = device_data(o.blocks, centre, o.y_center if o.fit_intercept else 0.0)
    scales = np.concatenate(
        [o.coef_scale, [o.y_scale, o.value_scale, o.epsilon, o.alpha, o.total_weight]]
    )
    return Jax(_JAX_OBJECTIVES[o.fit_intercept, o.log_sigma], args=(scales, *data))


GRADIENTS: dict[str, Callable[[HuberObjective], GradientProvider]] = {
    "analytic": _analytic,
    "autograd": _autograd,
    "finite-difference": _finite_difference,
    "jax": _jax,
}


@dataclass(frozen=True)
class Solver:
    """How to run one :func:`gradopt.minimize` method on the Huber objective."""

    method: str
    bounded: bool
    options: Callable[[int, float], dict[str, Any]]


def _lbfgs_options(max_iter: int, tol: float) -> dict[str, Any]:
    return {"maxiter": max_iter, "gtol": tol, "ftol": _FTOL}


SOLVERS: dict[str, Solver] = {
    "lbfgs": Solver("L-BFGS-B", True, _lbfgs_options),
    "L-BFGS-B": Solver("L-BFGS-B", True, _lbfgs_options),
    "gradient-descent": Solver(
        "gradient-descent",
        False,
        lambda max_iter, tol: {"max_iter": max_iter, "gtol": max(tol, np.finfo(float).tiny)},
    ),
    "BFGS": Solver("BFGS", False, lambda max_iter, tol: {"maxiter": max_iter, "gtol": tol}),
    "CG": Solver("CG", False, lambda max_iter, tol: {"maxiter": max_iter, "gtol": tol}),
}
