"""``RobustRegressor(gradient="jax")``: the fixed-scale M-objective differentiated by JAX.

:func:`jax_provider` builds a :class:`~gradopt.gradients.Jax` provider of
:meth:`RobustObjective.value <gradopt.linear_model._robust_objective.RobustObjective.value>`
written with ``jax.numpy``: the loss's own ``rho`` (written once over an array namespace,
see :mod:`~gradopt.linear_model._robust_losses`) on the centred data of
:func:`~gradopt.linear_model._jax_data.device_data`. Everything that changes between
fits and rounds (the scale, the tuning constants, the coordinates) is an argument of the
compiled program, so it is compiled once per loss, intercept and data shape, and reused
by every scale round, S-refinement and later fit.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from gradopt.gradients import GradientProvider, Jax
from gradopt.linear_model._jax_data import block_sum, device_data
from gradopt.linear_model._robust_losses import RobustLoss
from gradopt.linear_model._robust_objective import RobustObjective

__all__ = ["jax_provider"]


def _with_tuning(kind: type[RobustLoss], tuning: Any) -> RobustLoss:
    """A loss of class `kind` whose constants are the (traced) entries of `tuning`:
    its ``rho`` then depends on them as on arguments, not as on compiled constants."""
    loss = object.__new__(kind)
    loss.tuning = tuple(tuning[i] for i in range(len(kind.default_tuning)))
    return loss


def _block(
    v: Any,
    Xc: Any,
    yc: Any,
    weight: Any,
    scales: Any,
    tuning: Any,
    *,
    kind: type[RobustLoss],
    fit_intercept: bool,
) -> Any:
    """``2σ²·Σ s·ρ(r/σ)`` on one block, ``r = yc - Xc @ coef - y_scale·v[d]``."""
    import jax.numpy as jnp

    d = Xc.shape[1]
    y_scale, scale = scales[d], scales[d + 1]
    residual = yc - Xc @ (scales[:d] * v[:d])
    if fit_intercept:
        residual = residual - y_scale * v[d]
    rho = _with_tuning(kind, tuning).rho(residual / scale, jnp)
    return 2.0 * scale * scale * (weight @ rho)


def _objective(
    v: Any, scales: Any, tuning: Any, *data: Any, kind: type[RobustLoss], fit_intercept: bool
) -> Any:
    """``F(v) = (2σ²·Σ s·ρ(r/σ) + α‖coef‖²) / value_scale`` in jax.numpy, over the blocks
    `data` of :func:`~gradopt.linear_model._jax_data.device_data`; ``scales = [coef_scale (d),
    y_scale, σ, value_scale, α]``."""
    import jax.numpy as jnp

    d = v.shape[0] - int(fit_intercept)
    value_scale, alpha = scales[d + 2], scales[d + 3]
    coef = scales[:d] * v[:d]
    block = functools.partial(_block, kind=kind, fit_intercept=fit_intercept)
    loss = block_sum(block, v, data, scales, tuning)
    loss += jnp.where(alpha > 0, alpha * (coef @ coef), 0.0)  # not 0·inf
    return loss / value_scale


_PROGRAMS: dict[tuple[type[RobustLoss], bool], Any] = {}


def _program(kind: type[RobustLoss], fit_intercept: bool) -> Any:
    """One function object per loss class and intercept: compiled programs are kept per
    function object, so every provider of that form shares them."""
    key = (kind, fit_intercept)
    if key not in _PROGRAMS:
        _PROGRAMS[key] = functools.partial(_objective, kind=kind, fit_intercept=fit_intercept)
    return _PROGRAMS[key]


def jax_provider(objective: RobustObjective) -> GradientProvider:
    """A :class:`~gradopt.gradients.Jax` provider of ``objective.value`` at its current
    scale (raises :class:`~gradopt.exceptions.InvalidInputError` for data on Dask arrays
    or a sparse X, :class:`~gradopt.exceptions.BackendUnavailableError` without jax)."""
    o = objective
    data = device_data(o.blocks, o.mean if o.fit_intercept else None, o.y_center)
    scales = np.concatenate([o.coef_scale, [o.y_scale, o.scale, o.value_scale, o.alpha]])
    tuning = np.asarray(o.loss.tuning, dtype=np.float64)
    return Jax(_program(type(o.loss), o.fit_intercept), args=(scales, tuning, *data))
