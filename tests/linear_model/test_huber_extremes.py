"""HuberRegressor on extreme but valid input: a fit, or an error naming the input.

Every case runs with every gradient provider. Warnings are errors in this suite, so a
case that is expected to fit also proves that no RuntimeWarning or ConvergenceWarning
escaped; a case that is refused must name the input it refuses.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from gradopt.exceptions import InvalidInputError
from gradopt.linear_model import HuberRegressor, huber_loss_and_gradient

GRADIENTS = ["analytic", "autograd", "finite-difference"]
TINY = np.finfo(np.float64).tiny


def _data(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    y = X @ [1.0, -2.0, 0.5] + 3.0 + 0.1 * rng.normal(size=n)
    y[:3] += 30.0
    return X, y


def _objective(model: HuberRegressor, X: Any, y: Any, sw: Any = None) -> float:
    params = np.concatenate([model.coef_, [model.intercept_], [model.scale_]])
    return float(huber_loss_and_gradient(params, X, y, model.epsilon, model.alpha, sw)[0])


X0, Y0 = _data()
SW0 = np.ones(len(Y0))
Case = tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray]

# name -> (estimator parameters, X, y, sample_weight); every one of them must fit.
FITS: dict[str, Case] = {
    "alpha=1e308": ({"alpha": 1e308}, X0, Y0, SW0),
    "alpha=1e308, epsilon=1e308": ({"alpha": 1e308, "epsilon": 1e308}, X0, Y0, SW0),
    "epsilon=1e200": ({"epsilon": 1e200}, X0, Y0, SW0),
    "epsilon=1e308": ({"epsilon": 1e308}, X0, Y0, SW0),
    "X*1e200": ({}, X0 * 1e200, Y0, SW0),
    "X*1e-300": ({}, X0 * 1e-300, Y0, SW0),  # the penalty keeps coef finite
    "y*1e300": ({}, X0, Y0 * 1e300, SW0),
    "y*1e-300": ({}, X0, Y0 * 1e-300, SW0),
    "X zero": ({}, np.zeros_like(X0), Y0, SW0),
    "y constant": ({}, X0, np.full_like(Y0, 7.0), SW0),
    "one sample": ({}, X0[:1], Y0[:1], SW0[:1]),
    "sample_weight=1e-300": ({}, X0, Y0, np.full_like(Y0, 1e-300)),
    "sample_weight=1e300": ({}, X0, Y0, np.full_like(Y0, 1e300)),
    "one column 1e300 times the rest": ({}, X0 * [1e300, 1.0, 1.0], Y0, SW0),
    "a constant column of 1e200": ({}, np.column_stack([X0, np.full(len(Y0), 1e200)]), Y0, SW0),
}

# name -> (estimator parameters, X, y, sample_weight, what the message must say).
REFUSED: dict[str, tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray, str]] = {
    "X*1e308": ({}, np.clip(X0, -1, 1) * 1e308, Y0, SW0, "overflows float64.*rescale X"),
    "X holds ±1e308": (
        {},
        np.where(np.eye(*X0.shape) > 0, 1e308, X0) * np.sign(X0),
        Y0,
        SW0,
        r"max \|X\| = 1e\+308",
    ),
    "y±1e308": ({}, X0, np.clip(Y0, -1, 1) * 1e308, SW0, "spread of y"),
    "X*1e-308, no penalty": ({"alpha": 0.0}, X0 * 1e-308, Y0, SW0, "column 0 of X"),
    "sample_weight=1e307": ({}, X0, Y0, np.full_like(Y0, 1e307), "sample_weight must have"),
    "sample_weight=1e-320": ({}, X0, Y0, np.full_like(Y0, 1e-320), "sum of sample_weight"),
}


@pytest.mark.parametrize("gradient", GRADIENTS)
@pytest.mark.parametrize("case", list(FITS))
def test_extreme_input_fits_without_warnings(case: str, gradient: str) -> None:
    params, X, y, sw = FITS[case]
    model = HuberRegressor(gradient=gradient, **params).fit(X, y, sample_weight=sw)
    result = model.optimize_result_
    assert result.success, result.message
    assert result.message.startswith("converged")
    for value in (model.coef_, model.intercept_, model.scale_, result.fun, result.jac):
        assert np.all(np.isfinite(value))
    assert model.scale_ > 0
    assert 0 <= model.n_iter_ <= model.max_iter
    # Every provider reaches the analytic fit (the objective, to rounding).
    if gradient != "analytic":
        ref = HuberRegressor(**params).fit(X, y, sample_weight=sw)
        f, f_ref = _objective(model, X, y, sw), _objective(ref, X, y, sw)
        assert f == pytest.approx(f_ref, rel=1e-8)


@pytest.mark.parametrize("gradient", GRADIENTS)
@pytest.mark.parametrize("case", list(REFUSED))
def test_input_beyond_float64_is_refused_by_name(case: str, gradient: str) -> None:
    params, X, y, sw, match = REFUSED[case]
    with pytest.raises(InvalidInputError, match=match):
        HuberRegressor(gradient=gradient, **params).fit(X, y, sample_weight=sw)


def test_the_extreme_fits_are_the_right_fits() -> None:
    """Huge epsilon: least squares; huge alpha: no slope; X of zeros: the same."""
    ols = HuberRegressor(alpha=0.0, epsilon=1e200, tol=1e-10).fit(X0, Y0)
    lstsq = np.linalg.lstsq(np.column_stack([X0, np.ones(len(Y0))]), Y0, rcond=None)[0]
    np.testing.assert_allclose(ols.coef_, lstsq[:3], rtol=1e-7)
    assert ols.intercept_ == pytest.approx(lstsq[3], rel=1e-7)
    residual = Y0 - X0 @ lstsq[:3] - lstsq[3]
    assert ols.scale_ == pytest.approx(np.sqrt(np.mean(residual**2)), rel=1e-6)
    flat = HuberRegressor(alpha=1e308).fit(X0, Y0)
    assert np.max(np.abs(flat.coef_)) < 1e-150
    location = HuberRegressor().fit(np.zeros_like(X0), Y0)
    assert flat.intercept_ == pytest.approx(location.intercept_, rel=1e-7)
    assert flat.scale_ == pytest.approx(location.scale_, rel=1e-6)


@pytest.mark.parametrize("gradient", GRADIENTS)
@pytest.mark.parametrize(
    ("cx", "cy"), [(1.0, 1e300), (1.0, 1e-300), (1e300, 1.0), (1e-300, 1.0), (1e150, 1e-150)]
)
def test_fits_are_equivariant_over_600_decades(gradient: str, cx: float, cy: float) -> None:
    """Without a penalty, fitting (cx·X, cy·y) gives (cy/cx·coef, cy·intercept, cy·scale)."""
    ref = HuberRegressor(alpha=0.0, gradient=gradient).fit(X0, Y0)
    model = HuberRegressor(alpha=0.0, gradient=gradient).fit(X0 * cx, Y0 * cy)
    # tol asks for the mean equations to 1e-7: the fits agree to about that.
    np.testing.assert_allclose(model.coef_ * cx / cy, ref.coef_, rtol=1e-6)
    assert model.intercept_ / cy == pytest.approx(ref.intercept_, rel=1e-6)
    assert model.scale_ / cy == pytest.approx(ref.scale_, rel=1e-6)


def test_max_iter_zero_keeps_the_start() -> None:
    with pytest.warns(ConvergenceWarning, match="max_iter = 0 iterations ran out"):
        model = HuberRegressor(max_iter=0).fit(X0, Y0)
    assert model.n_iter_ == 0
    np.testing.assert_array_equal(model.coef_, np.zeros(3))
    assert model.intercept_ == pytest.approx(np.mean(Y0), rel=1e-15)
    assert not model.optimize_result_.success
    # Warm-started at a converged fit, zero iterations are enough: no warning.
    warm = HuberRegressor(warm_start=True).fit(X0, Y0)
    coef = warm.coef_.copy()
    warm.set_params(max_iter=0).fit(X0, Y0)
    assert warm.n_iter_ == 0
    assert warm.optimize_result_.success
    np.testing.assert_allclose(warm.coef_, coef, rtol=1e-12)


@pytest.mark.parametrize("solver", ["lbfgs", "BFGS", "CG", "gradient-descent"])
def test_n_iter_never_exceeds_max_iter(solver: str) -> None:
    for max_iter in range(4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = HuberRegressor(solver=solver, max_iter=max_iter).fit(X0, Y0)
        assert model.n_iter_ <= max_iter
        assert model.n_iter_ == model.optimize_result_.nit


def _verdict(model_factory: Callable[[], HuberRegressor]) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = model_factory()
    return model.optimize_result_, [str(w.message) for w in caught]


@pytest.mark.parametrize(
    "factory",
    [
        lambda: HuberRegressor().fit(X0, Y0),
        lambda: HuberRegressor(solver="CG", max_iter=1000).fit(X0 + 1e6, Y0),
        lambda: HuberRegressor(max_iter=2).fit(X0, Y0),
        lambda: HuberRegressor(solver="BFGS", tol=0.0).fit(X0, Y0),
        lambda: HuberRegressor(fit_intercept=False).fit(X0[:2], Y0[:2]),
    ],
    ids=["converges", "CG on an offset", "max_iter=2", "tol=0", "exact fit"],
)
def test_one_verdict_in_the_result_and_the_warning(factory: Any) -> None:
    """A warning exactly when the result says no success, and a message that agrees."""
    result, caught = _verdict(factory)
    assert len(caught) == (0 if result.success else 1)
    assert result.message.startswith("converged") == bool(result.success)
    if caught:
        assert result.message in caught[0]
        assert "successfully" not in caught[0]
        assert ("increase max_iter" in caught[0]) == (result.status == 1)
    assert "solver_message" in result


def test_a_stalled_solver_is_not_told_to_iterate_more() -> None:
    """tol = 0 cannot be met: the solver stops on rounding, and more iterations won't help."""
    result, caught = _verdict(lambda: HuberRegressor(solver="BFGS", tol=0.0).fit(X0, Y0))
    if not result.success:  # else: converged as far as rounding allows, also honest
        assert "more iterations would not help" in caught[0]
    else:
        assert "as far as rounding allows" in result.message


@pytest.mark.parametrize("c", [1e-300, 1e-20, 1e-5, 1e12, 1e300])
def test_exact_fits_are_certified_at_any_scale_of_y(c: float) -> None:
    """The certificate's tolerances follow y: a kink at 1e-20 is certified as at 1."""
    X = np.repeat([[1.0, 3.0], [2.0, 1.0], [3.0, 3.0], [4.0, 1.0]], 4, axis=0)
    y = np.repeat([1.0, 2.0, 1.0, 2.0], 4)
    sw = np.ones(16)
    sw[0] = 10.0
    ref = HuberRegressor(alpha=0.0, fit_intercept=False).fit(X, y, sample_weight=sw)
    model = HuberRegressor(alpha=0.0, fit_intercept=False).fit(X, y * c, sample_weight=sw)
    # sigma at its bound 10·eps·s_y, or at the smallest normal float64 number (then no
    # exact kink: a fit to tol, as close as the mean equations to 1e-7 allow).
    assert model.scale_ == pytest.approx(max(ref.scale_ * c, TINY), rel=1e-12)
    exact = ref.scale_ * c >= TINY
    np.testing.assert_allclose(model.coef_ / c, ref.coef_, rtol=1e-12 if exact else 1e-7)


def test_epsilon_1e200_on_an_exact_fit() -> None:
    """The certificate's test S - ε²·Σ(outlier weights) >= 0 does not overflow."""
    rng = np.random.default_rng(14)
    X = rng.uniform(size=(12, 25))
    y = rng.integers(0, 3, size=12).astype(float)
    model = HuberRegressor(epsilon=1e200).fit(X, y)
    np.testing.assert_allclose(model.predict(X), y, atol=1e-9)
