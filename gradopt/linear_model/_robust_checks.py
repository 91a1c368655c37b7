"""Degenerate input to :class:`RobustRegressor`: clear errors before a fit, warnings after.

Errors (before fitting, they would make the estimating equations singular): no more
samples than parameters, a constant column beside the intercept, linearly dependent
columns (all without a ridge penalty, which makes each of them well posed). A warning
after a fit whose residual scale is 0: at least half of the weight sits on residuals
that are exactly 0 (all-identical ``y``, an exact linear relation, or more than half of
the samples on one hyperplane). That fit is the exact fit of those samples, which is
what a high-breakdown estimator should return, but ``u = r/σ`` is undefined: the
weights are then 1 and the covariance 0.
"""

from __future__ import annotations

import warnings

import numpy as np

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError

__all__ = ["ZeroScaleWarning", "check_design", "check_rank", "degenerate_warning"]


class ZeroScaleWarning(UserWarning):
    """The fitted residual scale is 0: an exact fit of at least half of the samples."""


def check_design(
    X: FloatArray, y: FloatArray, sample_weight: FloatArray, fit_intercept: bool, alpha: float
) -> None:
    """Raise :class:`InvalidInputError` for input no M-estimate can be computed from."""
    keep = sample_weight > 0
    n, d = int(np.count_nonzero(keep)), X.shape[1]
    p = d + int(fit_intercept)
    if n == 0:
        raise InvalidInputError("sample_weight is zero for every sample; nothing to fit.")
    if alpha == 0 and n <= p:
        what = "n_features + 1 (intercept)" if fit_intercept else "n_features"
        raise InvalidInputError(
            f"RobustRegressor needs more samples than parameters (or alpha > 0): "
            f"n_samples = {n} (with positive weight) <= {p} = {what}."
        )
    if alpha == 0 and fit_intercept:
        rows = X[keep]
        constant = np.flatnonzero(np.ptp(rows, axis=0) == 0)
        if constant.size:
            raise InvalidInputError(
                f"column(s) {constant.tolist()} of X are constant: with fit_intercept=True "
                "they duplicate the intercept. Drop them, or set alpha > 0."
            )


def check_rank(gram: FloatArray, alpha: float) -> None:
    """Raise when the (standardised, weighted) design is numerically rank-deficient."""
    if alpha > 0:
        return
    eigenvalues = np.linalg.eigvalsh(gram)
    top = float(eigenvalues[-1])
    if not top > 0 or float(eigenvalues[0]) <= 1e-12 * top:
        rank = int(np.count_nonzero(eigenvalues > 1e-12 * max(top, 0.0)))
        raise InvalidInputError(
            f"the columns of X (with the intercept) are linearly dependent: rank {rank} < "
            f"{gram.shape[0]} parameters. Drop redundant columns, or set alpha > 0."
        )


def degenerate_warning(reason: str) -> None:
    """Warn that the fit has a zero residual scale (see the module docstring)."""
    warnings.warn(
        f"RobustRegressor: the residual scale is 0 ({reason}); the fit is exact for at "
        "least half of the samples, weights_ are 1 and cov_ is 0.",
        ZeroScaleWarning,
        stacklevel=4,
    )
