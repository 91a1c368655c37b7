"""RobustRegressor(gradient="jax"): the M-objective differentiated by JAX.

The tests that need JAX are skipped where it is not installed (CI's oldest job, Python
3.10); the refusals run everywhere.
"""

from __future__ import annotations

import gc
import importlib.util
import pickle
import sys
from typing import Any

import numpy as np
import pytest

from gradopt.exceptions import BackendUnavailableError
from gradopt.linear_model import RobustRegressor
from gradopt.linear_model._blocked import RowBlocks
from gradopt.linear_model._robust_losses import LOSSES, make_loss
from gradopt.linear_model._robust_objective import RobustObjective
from gradopt.linear_model._robust_solvers import GRADIENTS

needs_jax = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="the jax extra is not installed"
)
EPS = np.finfo(np.float64).eps


def offset_data(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns of very different spreads, one far from 0; outliers; uneven weights."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)) * [1.0, 10.0, 0.1, 1e3] + [0.0, 0.0, 0.0, 1e5]
    y = X @ [1.0, -0.2, 5.0, 1e-3] + 0.1 * rng.standard_normal(n)
    y[: n // 15] += 30.0
    return X, y, rng.uniform(0.5, 2.0, n)


@needs_jax
@pytest.mark.parametrize(
    ("name", "fit_intercept"),
    [*((name, True) for name in LOSSES), ("bisquare", False), ("huber", False)],
)
def test_value_and_gradient_agree_with_the_analytic_objective(
    name: str, fit_intercept: bool
) -> None:
    """Same F and ∇F at points away from the optimum, to rounding: both sum the same n
    terms in another order (relative error a few eps times a modest growth factor)."""
    X, y, weights = offset_data()
    objective = RobustObjective(
        RowBlocks(X, y, weights),
        make_loss(name),
        alpha=0.1,
        fit_intercept=fit_intercept,
        scale=0.7,
    )
    provider = GRADIENTS["jax"](objective)
    rng = np.random.default_rng(1)
    for _ in range(3):
        v = 0.3 * rng.standard_normal(objective.n_params)
        f, g = provider.value_and_grad(v)
        f0, g0 = objective.value_and_grad(v)
        assert f == pytest.approx(f0, rel=64 * EPS)
        np.testing.assert_allclose(g, g0, rtol=0, atol=1e3 * EPS * np.max(np.abs(g0)))


@needs_jax
@pytest.mark.parametrize("n", [700, 2048, 2500])  # one block; two; two and a tail
def test_blocks_and_tail_sum_to_the_analytic_objective(
    n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data in blocks of 1024 rows (and the rest): the per-block gradients JAX sums
    in one pass are the gradient, for RobustRegressor's and HuberRegressor's objectives."""
    from gradopt.linear_model import _jax_data
    from gradopt.linear_model._huber_objective import HuberObjective
    from gradopt.linear_model._huber_strategies import GRADIENTS as HUBER_GRADIENTS

    monkeypatch.setattr(_jax_data, "_BLOCK_ELEMENTS", 4096)
    monkeypatch.setattr(_jax_data, "_MIN_ROWS", 256)
    X, y, weights = offset_data(n=n, seed=2)
    blocks = RowBlocks(X, y, weights)
    robust = RobustObjective(blocks, make_loss("welsch"), alpha=0.0, fit_intercept=True)
    huber = HuberObjective(
        RowBlocks(X, y, weights), epsilon=1.35, alpha=1e-4, fit_intercept=True, log_sigma=True
    )
    data = _jax_data.device_data(blocks, robust.mean, robust.y_center)
    assert data[0].shape[1:] == (min(n, 1024), 4) and (len(data) == 3) == (n in (700, 2048))
    coef = np.array([1.0, -0.2, 5.0, 1e-3])
    points = (robust.internal(coef, 0.5), huber.internal(coef, 0.5, 0.3))
    for objective, provider, v in (
        (robust, GRADIENTS["jax"](robust), points[0]),
        (huber, HUBER_GRADIENTS["jax"](huber), points[1]),
    ):
        f, g = provider.value_and_grad(v)
        f0, g0 = objective.value_and_grad(v)
        assert f == pytest.approx(f0, rel=64 * EPS)
        np.testing.assert_allclose(g, g0, rtol=0, atol=1e3 * EPS * np.max(np.abs(g0)))
        copy = pickle.loads(pickle.dumps(provider))  # the data travel with it
        assert copy.value_and_grad(v)[0] == f


@needs_jax
@pytest.mark.parametrize(
    "params",
    [
        {},  # huber, MAD scale
        {"loss": "cauchy", "scale": "huber"},
        {"loss": "hampel", "scale": 0.5, "alpha": 1.0},
        {"loss": "welsch", "fit_intercept": False},
        {"method": "MM", "random_state": 0},
        {"scale": "joint"},  # through HuberRegressor(gradient="jax")
    ],
    ids=["huber-mad", "cauchy-huber", "hampel-fixed", "welsch-no-intercept", "MM", "joint"],
)
def test_jax_fits_what_the_analytic_gradient_fits(params: dict[str, Any]) -> None:
    """Same solver (L-BFGS-B), same objective: the two fits differ by rounding carried
    through the iterations, far below what tol allows."""
    X, y, weights = offset_data()
    jax_fit = RobustRegressor(gradient="jax", tol=1e-8, **params)
    ref = RobustRegressor(gradient="analytic", solver="lbfgs", tol=1e-8, **params)
    jax_fit.fit(X, y, sample_weight=weights)
    ref.fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(jax_fit.coef_, ref.coef_, rtol=1e-7)
    # the intercept carries mean·coef (about 100 here, from the column at 1e5)
    size = abs(ref.intercept_) + np.abs(X.mean(axis=0)) @ np.abs(ref.coef_)
    assert jax_fit.intercept_ == pytest.approx(ref.intercept_, rel=0, abs=1e-7 * size)
    assert jax_fit.scale_ == pytest.approx(ref.scale_, rel=1e-7)
    np.testing.assert_array_equal(jax_fit.outliers_, ref.outliers_)


@needs_jax
def test_one_compilation_for_every_round_and_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scale, tuning and coordinates are arguments of the program: the rounds of an
    M-fit (a provider each), another tuning and other data of the same shape reuse one
    compilation, and the device copy of the data is dropped with the fit."""
    from gradopt.gradients.jax import _programs
    from gradopt.linear_model import _jax_data
    from gradopt.linear_model._robust_jax import _program
    from gradopt.linear_model._robust_losses import Cauchy

    built = []
    make = GRADIENTS["jax"]
    monkeypatch.setitem(GRADIENTS, "jax", lambda objective: built.append(1) or make(objective))
    compiled = _programs(_program(Cauchy, True), True).value_and_grad
    before = compiled._cache_size()
    X, y, weights = offset_data(n=211, seed=4)  # a shape no other test uses
    RobustRegressor(loss="cauchy", gradient="jax").fit(X, y, sample_weight=weights)
    X2, y2, _ = offset_data(n=211, seed=5)
    RobustRegressor(loss="cauchy", tuning=3.0, gradient="jax").fit(X2, y2)
    assert len(built) > 4  # scale rounds, Huber starts, two fits
    assert compiled._cache_size() == before + 1
    gc.collect()
    assert len(_jax_data._CACHE) == 0


@needs_jax
def test_unsupported_combinations_are_named() -> None:
    X, y, _ = offset_data(n=50)
    with pytest.raises(ValueError, match=r"solver='newton' uses the analytic gradient"):
        RobustRegressor(gradient="jax", solver="newton").fit(X, y)


def test_without_jax_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The missing extra is named, not an ImportError from deep inside the fit."""
    monkeypatch.setitem(sys.modules, "jax", None)  # `import jax` now raises ImportError
    X, y, _ = offset_data(n=50)
    with pytest.raises(BackendUnavailableError, match=r"pip install 'gradopt\[jax\]'"):
        RobustRegressor(gradient="jax").fit(X, y)
