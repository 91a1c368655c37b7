"""The degenerate case: a linear model fits the data exactly (say, fewer samples than features).

Then the minimiser of the Huber objective has every residual at zero and ``sigma`` at its
lower bound, where the loss is ``2·ε·Σ sᵢ·|rᵢ| + α·‖coef‖²``: non-smooth exactly at the
solution, so gradient methods crawl towards it (scikit-learn's own fit stops far from it,
one reason it fails the sample-weight equivalence checks). The minimiser is the
minimum-norm interpolant, and Lagrange multipliers certify it: ``Xᵀλ = 2·α·coef``,
``Σλ = 0`` (with an intercept) and ``|λᵢ| <= 2·ε·sᵢ`` are the optimality conditions.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from gradopt._typing import FloatArray
from gradopt.linear_model._huber_objective import HuberObjective

__all__ = ["certified_interpolant"]

_MAX_ENTRIES = 1_000_000  # the dense least-squares problems copy X: only when small


def certified_interpolant(objective: HuberObjective) -> tuple[FloatArray, float] | None:
    """``(coef, intercept)`` of the interpolant, when it provably minimises; else None.

    Examples
    --------
    >>> import numpy as np
    >>> from gradopt.linear_model._huber_objective import HuberObjective
    >>> X = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]])
    >>> objective = HuberObjective(
    ...     X, np.array([1.0, 2.0]), np.ones(2),
    ...     epsilon=1.35, alpha=1e-4, fit_intercept=False, log_sigma=False,
    ... )
    >>> coef, intercept = certified_interpolant(objective)
    >>> np.allclose(X @ coef, [1.0, 2.0])
    True
    """
    X, y, sample_weight = objective.X, objective.y, objective.sample_weight
    epsilon, alpha, fit_intercept = objective.epsilon, objective.alpha, objective.fit_intercept
    keep = sample_weight > 0
    if np.count_nonzero(keep) * X.shape[1] > _MAX_ENTRIES:
        return None
    A = X[keep]
    A = A.toarray() if sp.issparse(A) else np.asarray(A, dtype=np.float64)
    b, s = y[keep], sample_weight[keep]
    if fit_intercept:
        a_mean, b_mean = A.mean(axis=0), float(b.mean())
        coef = np.linalg.lstsq(A - a_mean, b - b_mean, rcond=None)[0]
        intercept = b_mean - float(a_mean @ coef)
    else:
        coef, intercept = np.linalg.lstsq(A, b, rcond=None)[0], 0.0
    scale = max(1.0, float(np.max(np.abs(b))))
    if np.max(np.abs(b - A @ coef - intercept)) > 1e-9 * scale:
        return None  # no exact fit
    # The multipliers of min α‖coef‖² subject to A·coef + intercept = b.
    M = np.vstack([A.T, np.ones((1, b.size))]) if fit_intercept else A.T
    rhs = np.concatenate([2.0 * alpha * coef, [0.0] if fit_intercept else []])
    lam = np.linalg.lstsq(M, rhs, rcond=None)[0]
    if np.max(np.abs(M @ lam - rhs), initial=0.0) > 1e-9 * max(1.0, np.max(np.abs(rhs))):
        return None
    if np.any(np.abs(lam) > 2.0 * epsilon * s * (1.0 + 1e-9)):
        return None  # the penalty is strong enough to prefer non-zero residuals
    result: FloatArray = np.asarray(coef, dtype=np.float64)
    return result, intercept
