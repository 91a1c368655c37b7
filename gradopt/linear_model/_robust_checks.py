"""Degenerate input to :class:`RobustRegressor`: clear errors before a fit, warnings after.

Also the settings that need the data in memory, refused for Dask arrays.

Errors (before fitting; without a ridge penalty, which makes each case well posed): a
constant column beside the intercept, linearly dependent columns, and no more samples
than parameters when no exact fit of them exists. With no more samples than parameters
and an exact fit, the fit is the exact fit of minimum norm (in standardised units).

A warning after a fit whose residual scale is 0: at least half of the weight sits on
residuals that are exactly 0 (all-identical ``y``, an exact linear relation, no more
samples than parameters, or more than half of the samples on one hyperplane). That fit
is the exact fit of those samples, which is what a high-breakdown estimator should
return, but ``u = r/σ`` is undefined: the weights are then 1 and the covariance 0.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError
from gradopt.linear_model._robust_objective import RobustObjective

__all__ = [
    "ZeroScaleWarning",
    "check_dask_settings",
    "check_design",
    "check_exact",
    "check_rank",
    "degenerate_warning",
    "underdetermined",
]


class ZeroScaleWarning(UserWarning):
    """The fitted residual scale is 0: an exact fit of at least half of the samples."""


def check_dask_settings(method: str, scale: Any, gradient: Any) -> None:
    """Raise :class:`InvalidInputError` for the settings that need the data in memory."""
    unsupported = {
        "method='MM'": method == "MM",
        "scale='huber'": scale == "huber",
        f"gradient={gradient!r}": gradient not in ("analytic", "finite-difference"),
    }
    for setting, present in unsupported.items():
        if present:
            raise InvalidInputError(
                f"{setting} needs the data in memory (fast-S draws subsets of rows, "
                "Huber's proposal 2 and autograd work on all residuals at once); on "
                "Dask arrays RobustRegressor fits method='M' with scale 'mad', 'joint' "
                "or a number, and the analytic or finite-difference gradient."
            )


def check_design(objective: RobustObjective, alpha: float) -> None:
    """Raise :class:`InvalidInputError` for a constant column beside the intercept.

    Constant on the rows of positive weight: its weighted spread is zero but for the
    rounding of its mean (a few eps of it).
    """
    if alpha == 0 and objective.fit_intercept:
        limit = 8 * np.finfo(np.float64).eps * np.abs(objective.mean)
        constant = np.flatnonzero(objective.column_spread <= limit)
        if constant.size:
            raise InvalidInputError(
                f"column(s) {constant.tolist()} of X are constant: with fit_intercept=True "
                "they duplicate the intercept. Drop them, or set alpha > 0."
            )


def underdetermined(sample_weight: FloatArray, n_params: int, alpha: float) -> bool:
    """No more samples (of positive weight) than parameters, and no penalty."""
    return alpha == 0 and int(np.count_nonzero(sample_weight > 0)) <= n_params


def check_exact(residual: FloatArray, sample_weight: FloatArray, y: FloatArray) -> None:
    """Raise unless the minimum-norm fit of an underdetermined problem is exact."""
    keep = sample_weight > 0
    size = float(np.max(np.abs(y[keep]), initial=0.0))
    if np.max(np.abs(residual[keep]), initial=0.0) > 1e-9 * max(size, 1e-300):
        n = int(np.count_nonzero(keep))
        raise InvalidInputError(
            f"n_samples = {n} (with positive weight) is not more than the number of "
            "parameters, and no linear model fits them exactly (repeated rows with "
            "different y?): no M-estimate exists. Add samples, or set alpha > 0."
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
