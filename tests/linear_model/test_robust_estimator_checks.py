"""scikit-learn's estimator checks, all of them, for gradopt's RobustRegressor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from gradopt.linear_model import RobustRegressor


@parametrize_with_checks(
    [
        RobustRegressor(),
        RobustRegressor(loss="bisquare", fit_intercept=False, cov="H3"),
        RobustRegressor(method="MM", random_state=0, n_starts=50),
        RobustRegressor(scale="joint", gradient="autograd"),
        RobustRegressor(loss="cauchy", scale="huber", solver="lbfgs"),
    ]
)
# Several checks fit an exactly linear y (e.g. check_sample_weights_shape): the fit is
# then exact, its residual scale 0, and RobustRegressor says so with a ZeroScaleWarning
# (tested on its own in test_robust.py), which the warnings-as-errors setting would
# turn into a failure of checks that are about the API, not about that data.
@pytest.mark.filterwarnings("ignore::gradopt.linear_model.ZeroScaleWarning")
def test_sklearn_compatible(estimator: RobustRegressor, check: Callable[[Any], None]) -> None:
    check(estimator)
