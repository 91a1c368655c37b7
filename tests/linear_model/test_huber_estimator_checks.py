"""scikit-learn's estimator checks, all of them, for gradopt's HuberRegressor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.utils.estimator_checks import parametrize_with_checks

from gradopt.linear_model import HuberRegressor


@parametrize_with_checks(
    [
        HuberRegressor(),
        HuberRegressor(fit_intercept=False, gradient="autograd"),
        HuberRegressor(solver="BFGS", max_iter=500),
    ]
)
def test_sklearn_compatible(estimator: HuberRegressor, check: Callable[[Any], None]) -> None:
    check(estimator)
