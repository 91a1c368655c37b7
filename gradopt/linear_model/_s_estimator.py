"""The S-estimate by fast-S (Salibian-Barrera & Yohai 2006), the start of an MM fit.

The S-estimate minimises the M-scale ``σ(β)`` of the residuals (:class:`MScale`:
bisquare ``ρ`` with ``c = 1.54764``, ``b = 0.5``: 50% breakdown). Fast-S:

1. Candidates: ``n_starts`` elemental fits, each through ``p`` random rows (an exact
   fit; singular draws are dropped), drawn in a pool of at most ``POOL`` rows (all rows
   when there are fewer: robustbase's "large n" strategy draws from row groups too).
2. Each candidate takes one I-step on the pool (a weighted least-squares fit with the
   bisquare weights at its own M-scale); the ``KEEP_POOL`` with the smallest M-scale
   are refined to convergence on the pool, the ``n_keep`` best of those on all rows.
3. The candidate with the smallest M-scale on all rows is the S-estimate.

Everything on the pool is vectorised over the candidates (one array of residuals per
candidate); refinement on all rows uses the blocked Gram matrices of
:class:`~gradopt.linear_model._robust_objective.RobustObjective`, and stops when the
scaled estimating equations hold to ``tol`` (the test every other fit uses).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradopt._typing import FloatArray
from gradopt.linear_model._robust_fit import MFit, fit_m
from gradopt.linear_model._robust_losses import Bisquare
from gradopt.linear_model._robust_objective import RobustObjective
from gradopt.linear_model._robust_scale import MScale

__all__ = ["fast_s"]

POOL = 2000  # rows on which candidates are drawn and screened
KEEP_POOL = 10  # candidates refined on the pool
_POOL_REFINE = 10  # I-steps per candidate on the pool


def _design(X: FloatArray, fit_intercept: bool) -> FloatArray:
    return np.column_stack([X, np.ones(X.shape[0])]) if fit_intercept else np.asarray(X)


def _mscales(R: FloatArray, w: FloatArray, n_params: int, rho: MScale) -> FloatArray:
    """M-scales of each row of residuals `R` (candidates × rows): Newton on ``log σ``."""
    target = rho.b * (float(np.sum(w)) - n_params)
    A = np.abs(R)
    # Without a root (too much weight on zero residuals) the scale is 0; σ = 1 stands in.
    positive = (A > 0) @ w > target
    scale = np.median(A, axis=1) / 0.6745
    scale = np.where(scale > 0, scale, np.max(A, axis=1))
    log_s = np.log(np.where(positive, scale, 1.0))
    for _ in range(60):
        value, slope = rho.chi(A / np.exp(log_s)[:, None])
        excess = value @ w - target
        derivative = -(slope @ w)  # d/dlogσ of Σ w·ρ(|r|/σ)
        newton = -excess / np.where(derivative < 0, derivative, -1.0)
        step = np.clip(np.where(derivative < 0, newton, np.sign(excess)), -1.0, 1.0)
        step = np.where(positive, step, 0.0)
        log_s = log_s + step
        if np.max(np.abs(step)) < 1e-10:
            break
    scales: FloatArray = np.where(positive, np.exp(log_s), 0.0)
    return scales


def _i_step(
    A: FloatArray, y: FloatArray, w: FloatArray, theta: FloatArray, scales: FloatArray, c: float
) -> FloatArray:
    """One weighted least-squares fit per candidate, at the bisquare weights."""
    R = y[None, :] - theta @ A.T
    safe = np.where(scales > 0, scales, 1.0)[:, None]
    W = w[None, :] * (1.0 - np.minimum((R / (c * safe)) ** 2, 1.0)) ** 2
    G = np.empty((theta.shape[0], A.shape[1], A.shape[1]))
    chunk = max(1, (1 << 20) // A.size)  # candidates per product: a bounded temporary
    for k in range(0, theta.shape[0], chunk):
        G[k : k + chunk] = A.T @ (W[k : k + chunk, :, None] * A)
    b = (W * y[None, :]) @ A
    new = np.empty_like(theta)
    for k in range(theta.shape[0]):  # p x p solves; keep the candidate if singular
        try:
            new[k] = np.linalg.solve(G[k], b[k])
        except np.linalg.LinAlgError:
            new[k] = theta[k]
    keep: FloatArray = np.where((scales > 0)[:, None], new, theta)
    return keep


def _candidates(
    A: FloatArray, y: FloatArray, rng: np.random.Generator, n_starts: int
) -> FloatArray:
    """Exact fits through ``p`` random rows each; singular draws dropped."""
    m, p = A.shape
    idx = np.stack([rng.choice(m, size=p, replace=False) for _ in range(n_starts)])
    S = A[idx]
    singular = np.linalg.svd(S, compute_uv=False)
    good = singular[:, -1] > 1e-10 * singular[:, 0]
    theta: FloatArray = np.linalg.solve(S[good], y[idx[good]][..., None])[..., 0]
    return theta


def fast_s(
    objective: RobustObjective,
    *,
    rng: np.random.Generator,
    n_starts: int,
    n_keep: int,
    solver: str,
    gradient: str | Callable[..., Any],
    tol: float,
    max_iter: int,
    rho: MScale | None = None,
) -> MFit:
    """The S-estimate of the regression behind `objective` (see the module docstring).

    Returns the fit (internal point and S-scale) of the candidate with the smallest
    M-scale after refinement on all rows.
    """
    rho = rho or MScale()
    X, y, sample_weight = objective.X, objective.y, objective.sample_weight
    rows = np.flatnonzero(sample_weight > 0)
    pool = rows if rows.size <= POOL else np.sort(rng.choice(rows, size=POOL, replace=False))
    A = _design(X[pool], objective.fit_intercept)
    yp, wp = y[pool], sample_weight[pool]
    if rows.size > POOL:  # the pool stands for all rows: equal total weight
        wp = wp * (objective.total_weight / float(np.sum(wp)))
    p = A.shape[1]
    theta = _candidates(A, yp, rng, n_starts)
    if theta.shape[0] == 0:
        theta = np.asarray(np.linalg.lstsq(A, yp, rcond=None)[0][None, :], dtype=np.float64)
    for step in range(_POOL_REFINE + 1):
        scales = _mscales(yp[None, :] - theta @ A.T, wp, p, rho)
        if step == 1:  # after one I-step: keep the most promising few
            best = np.argsort(scales, kind="stable")[:KEEP_POOL]
            theta, scales = theta[best], scales[best]
        if step == _POOL_REFINE:
            break
        theta = _i_step(A, yp, wp, theta, scales, rho.c)
    s_objective = objective.with_loss(Bisquare(rho.c))
    s_objective.alpha = 0.0
    d = objective.n_features
    fits = []
    for k in np.argsort(scales, kind="stable")[:n_keep]:
        intercept = float(theta[k, d]) if objective.fit_intercept else 0.0
        v0 = s_objective.internal(theta[k, :d], intercept)
        fits.append(
            fit_m(
                s_objective,
                v0,
                rho,
                solver=solver,
                gradient=gradient,
                tol=tol,
                max_iter=max_iter,
            )
        )
    return min(fits, key=lambda fit: fit.scale)
