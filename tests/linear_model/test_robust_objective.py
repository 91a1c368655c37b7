"""The fixed-scale M-objective: pure function, blocks, coordinates, Hessians."""

from __future__ import annotations

import numpy as np
import pytest
from autograd import grad
from sklearn.linear_model import Ridge

from gradopt import FiniteDifference
from gradopt.linear_model import robust_loss, robust_loss_and_gradient
from gradopt.linear_model._blocked import RowBlocks
from gradopt.linear_model._robust_losses import LOSSES, make_loss
from gradopt.linear_model._robust_objective import RobustObjective


def _data(n: int = 80, d: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * [1.0, 30.0, 0.01][:d] + [0.0, 500.0, 2.0][:d]
    y = X @ rng.normal(size=d) + 3.0 + rng.standard_t(2, size=n)
    return X, y, rng.uniform(0.2, 3.0, size=n)


def _near_fit(X: np.ndarray, y: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """Least squares, nudged: residuals of a few units, in every branch of every loss."""
    A = np.column_stack([X, np.ones(len(y))]) if fit_intercept else X
    return np.linalg.lstsq(A, y, rcond=None)[0] * 1.001


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gradient_matches_autograd(name: str, fit_intercept: bool) -> None:
    X, y, w = _data()
    loss = make_loss(name)
    params = _near_fit(X, y, fit_intercept)
    value, g = robust_loss_and_gradient(params, X, y, loss, 1.7, w, alpha=0.3)
    assert value == pytest.approx(float(robust_loss(params, X, y, loss, 1.7, w, alpha=0.3)))
    np.testing.assert_allclose(g, grad(robust_loss)(params, X, y, loss, 1.7, w, 0.3), rtol=1e-10)


def test_least_squares_is_ridge() -> None:
    X, y, w = _data()
    objective = RobustObjective(
        RowBlocks(X, y, w), make_loss("least-squares"), alpha=2.5, fit_intercept=True, scale=4.0
    )
    ridge = Ridge(alpha=2.5).fit(X, y, sample_weight=w)
    v = objective.internal(ridge.coef_, ridge.intercept_)
    assert np.max(np.abs(objective.value_and_grad(v)[1])) < 1e-9


def test_row_blocks_add_up() -> None:
    """A blocked evaluation: blocks with alpha = 0, the penalty added once."""
    X, y, w = _data(n=101)
    loss, params = make_loss("bisquare"), _near_fit(X, y, True)
    whole = robust_loss_and_gradient(params, X, y, loss, 2.0, w, alpha=0.7)
    parts = [
        robust_loss_and_gradient(params, X[s], y[s], loss, 2.0, w[s])
        for s in (slice(0, 40), slice(40, 77), slice(77, None))
    ]
    coef = params[:3]
    value = sum(p[0] for p in parts) + 0.7 * coef @ coef
    gradient = sum(p[1] for p in parts) + np.concatenate([1.4 * coef, [0.0]])
    assert whole[0] == pytest.approx(value, rel=1e-13)
    np.testing.assert_allclose(whole[1], gradient, rtol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_internal_coordinates_hessians(fit_intercept: bool) -> None:
    X, y, w = _data()
    objective = RobustObjective(
        RowBlocks(X, y, w), make_loss("cauchy"), alpha=0.5, fit_intercept=fit_intercept, scale=1.3
    )
    v = np.linspace(-0.5, 0.4, objective.n_params)
    coef = objective.params(v)[:3]
    back = objective.internal(coef, float(objective.params(v)[-1]) if fit_intercept else 0.0)
    np.testing.assert_allclose(back, v, rtol=1e-12, atol=1e-14)
    value, g = objective.value_and_grad(v)
    assert value == pytest.approx(float(objective.value(v)), rel=1e-13)
    np.testing.assert_allclose(g, FiniteDifference(objective.value).grad(v), rtol=1e-6, atol=1e-8)
    H = objective.hessian_at(v, "newton")
    for j in range(objective.n_params):
        e = np.eye(objective.n_params)[j]
        np.testing.assert_allclose(objective.hessp(v, e), H[:, j], rtol=1e-10, atol=1e-12)
        column = FiniteDifference(lambda x, j=j: objective.value_and_grad(x)[1][j]).grad(v)
        np.testing.assert_allclose(H[j], column, rtol=1e-5, atol=1e-6)


def test_wrong_parameter_count() -> None:
    X, y, _ = _data()
    with pytest.raises(ValueError, match="params must have n_features = 3"):
        robust_loss_and_gradient(np.zeros(5), X, y, make_loss("huber"), 1.0)
