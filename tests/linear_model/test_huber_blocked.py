"""The row-block reduction behind HuberRegressor, and the verdicts it makes honest.

The blocks give the same sums as one pass over X; an offset in X costs no digits (no
warning at the optimum, the objective to rounding in extended precision); rounding-level
residuals of an exact fit are no outliers; the exact-fit certificate works in the
objective's standardised coordinates (timestamps near 1.7e12).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from gradopt.linear_model import HuberRegressor, huber_loss_and_gradient
from gradopt.linear_model._blocked import RowBlocks, centred
from gradopt.linear_model._huber_loss import huber_block
from gradopt.linear_model._moments import summarise
from gradopt.linear_model._selection import blocked_median, sample_step, weighted_median


def _problem(seed: int, n: int = 300, d: int = 4, offset: float = 0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10, size=d) + offset
    y = X @ rng.normal(size=d) + rng.normal(size=n)
    y[: n // 10] += 50 * rng.normal(size=n // 10)
    return X, y, rng.uniform(0.0, 3.0, size=n)


def _extended_objective(model: HuberRegressor, X, y, sample_weight=None) -> float:
    """scikit-learn's objective in np.longdouble on centred data: a reference that
    rounding in float64 does not blur."""
    L = np.longdouble
    w = np.ones(len(y), dtype=L) if sample_weight is None else sample_weight.astype(L)
    Xl, yl = X.astype(L), y.astype(L)
    mx, my = (w @ Xl) / w.sum(), (w @ yl) / w.sum()
    coef = model.coef_.astype(L)
    r = (yl - my) - (Xl - mx) @ coef - (L(model.intercept_) + mx @ coef - my)
    s, eps = L(model.scale_), L(model.epsilon)
    h = np.where(np.abs(r) <= eps * s, r * r / s, 2 * eps * np.abs(r) - eps * eps * s)
    return float(w.sum() * s + w @ h + L(model.alpha) * (coef @ coef))


@pytest.mark.parametrize("rows", [1, 7, 64, 300])
@pytest.mark.parametrize("weighted", [False, True])
def test_blocks_sum_to_the_whole(rows: int, weighted: bool) -> None:
    X, y, w = _problem(0)
    sw = w if weighted else None
    theta = np.concatenate([np.arange(1.0, 5.0) / 10, [0.3, 1.5]])
    mean = X.mean(axis=0)
    for copy in (False, True):
        block = functools.partial(
            huber_block, theta, epsilon=1.35, x_center=mean, y_center=0.7, copy_centred=copy
        )
        whole_loss, whole_grad = block(X, y, sw)
        loss, grad = RowBlocks(X, y, sw, rows=rows).reduce(block)
        assert loss == pytest.approx(whole_loss, rel=1e-13)
        np.testing.assert_allclose(grad, whole_grad, rtol=1e-11, atol=1e-12 * abs(grad).max())
    # and the centred parametrisation is the original one, shifted
    params = np.concatenate([theta[:4], [theta[4] + 0.7 - mean @ theta[:4], theta[5]]])
    assert whole_loss == pytest.approx(huber_loss_and_gradient(params, X, y, 1.35, 0.0, sw)[0])


def test_centred_reuses_a_tile_and_a_buffer() -> None:
    X = np.arange(12.0).reshape(4, 3)
    first = centred(X, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(first, X - [1.0, 2.0, 3.0])
    again = centred(X[:2], np.array([1.0, 2.0, 3.0]))
    assert np.shares_memory(first, again)  # the same scratch buffer, overwritten
    np.testing.assert_array_equal(centred(X, np.zeros(3)), X)


@pytest.mark.parametrize("center", [True, False])
def test_moments_are_exact_for_offsets_constants_and_huge_values(center: bool) -> None:
    rng = np.random.default_rng(3)
    n = 5000
    X = np.column_stack(
        [
            1.7e12 + 3e10 * rng.uniform(size=n),  # a timestamp: no cancellation
            np.full(n, 0.1),  # constant but for rounding: spread counted as its value
            rng.normal(size=n) * 1e200,  # squares overflow: the exact, scaled path
            np.zeros(n),
        ]
    )
    y = rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, size=n)
    s = summarise(RowBlocks(X, y, w, rows=333), center)
    L = np.longdouble
    wl = w.astype(L) / w.sum()
    mean = wl @ X.astype(L)
    spread = np.sqrt(wl @ ((X.astype(L) - (mean if center else 0)) ** 2))
    if center:  # exact to rounding of the spread
        error = np.abs(s.x_mean - mean.astype(float))
        assert np.all(error <= 1e-14 * np.maximum(spread.astype(float), np.abs(s.x_mean)))
    np.testing.assert_allclose(s.x_spread[[0, 2]], spread[[0, 2]].astype(float), rtol=1e-12)
    assert s.x_spread[1] == pytest.approx(0.1, rel=1e-15)  # a constant column: its value
    assert s.x_spread[3] == 1.0  # a zero column by 1
    assert s.total_weight == pytest.approx(w.sum(), rel=1e-14)


@pytest.mark.parametrize("weights", ["unit", "integer", "real"])
def test_blocked_median_is_numpys_median(weights: str) -> None:
    rng = np.random.default_rng(7)
    for trial in range(30):
        n = int(rng.integers(1, 3000))
        y = rng.normal(size=n) if trial % 2 else rng.integers(0, 5, size=n).astype(float)
        w = {
            "unit": None,
            "integer": rng.integers(0, 4, size=n).astype(float),
            "real": rng.uniform(0.1, 2.0, size=n),
        }[weights]
        if w is not None and not np.any(w > 0):
            continue
        blocks = RowBlocks(np.zeros((n, 1)), y, w, rows=int(rng.integers(1, 400)))
        median, peak = blocked_median(
            blocks, lambda X_b, y_b: y_b, max_gather=int(rng.integers(1, 40))
        )
        keep = np.ones(n, dtype=bool) if w is None else w > 0
        ref = weighted_median(y[keep], np.ones(n)[keep] if w is None else w[keep])
        assert median == ref
        assert peak == np.max(np.abs(y[keep]))


@pytest.mark.parametrize("offset", [1e4, 1e6, 1e8])
def test_an_offset_costs_no_digits_and_no_warning(offset: float) -> None:
    """The verdict is honest: at the optimum, no warning; the objective equals the best
    of tight fits in extended precision. (Up to offsets of 1e8 times the spread: beyond,
    the intercept itself, about offset·coef, cannot be written to 1e-13 in float64.)"""
    for seed in range(6):
        X, y, _ = _problem(seed, n=[50, 200, 1000][seed % 3], d=[2, 5, 10][seed % 3])
        X = X + offset * np.random.default_rng(seed).uniform(-1, 1, size=X.shape[1])
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            model = HuberRegressor().fit(X, y)
        assert model.optimize_result_.success
        tight = HuberRegressor(tol=1e-9, max_iter=5000).fit(X, y)
        f, best = _extended_objective(model, X, y), _extended_objective(tight, X, y)
        assert f <= best * (1 + 1e-13)


def test_rounding_level_residuals_of_an_exact_fit_are_no_outliers() -> None:
    rng = np.random.default_rng(1)
    for _ in range(5):
        X = rng.normal(size=(15, 3))
        y = X @ rng.normal(size=3) + 1.0  # fitted exactly: sigma at its bound
        y_off = y.copy()
        y_off[:2] += [1e-3, -2e-3]  # two real outliers of an exact fit of the rest
        for target, outliers in ((y, []), (y_off, [0, 1])):
            model = HuberRegressor().fit(X, target)
            assert model.scale_ < 1e-13
            np.testing.assert_array_equal(np.flatnonzero(model.outliers_), outliers)
        wide = HuberRegressor().fit(rng.uniform(size=(10, 25)), rng.normal(size=10))  # n < d
        assert not wide.outliers_.any()


def test_an_exact_fit_on_timestamps_is_certified() -> None:
    """The certificate's least squares run in standardised coordinates."""
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.normal(size=15), 1.7e12 + rng.uniform(0, 3e10, size=15)])
    y = X @ [2.0, 1e-9] + 5.0
    model = HuberRegressor().fit(X, y)
    assert "certified" in model.optimize_result_.message
    assert not model.outliers_.any()
    np.testing.assert_allclose(model.predict(X), y, rtol=1e-14)


def test_large_data_start_from_a_sample_and_need_few_evaluations() -> None:
    assert [sample_step(n) for n in (65_536, 65_537, 10**6)] == [1, 64, 64]
    rng = np.random.default_rng(4)
    n = 100_000
    X = rng.normal(size=(n, 5))
    y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=n)
    y[: n // 20] += 100 * rng.normal(size=n // 20)
    model = HuberRegressor().fit(X, y)
    assert model.optimize_result_.nfev <= 12  # about 20 from no slope and sigma = s_y
    cold = HuberRegressor(tol=1e-9).fit(X, y)
    assert _extended_objective(model, X, y) <= _extended_objective(cold, X, y) * (1 + 1e-12)
