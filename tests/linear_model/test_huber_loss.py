"""The Huber loss equals scikit-learn's, its gradient equals autograd's and differences'."""

from __future__ import annotations

import autograd
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model._huber import _huber_loss_and_gradient as sklearn_loss

from gradopt.linear_model import huber_loss, huber_loss_and_gradient
from gradopt.linear_model._blocked import RowBlocks
from gradopt.linear_model._huber_objective import HuberObjective
from gradopt.linear_model._selection import weighted_median as _weighted_median


def _problem(seed: int, fit_intercept: bool, n: int = 300, d: int = 6):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10.0, size=d)
    y = X @ rng.normal(size=d) + rng.normal(size=n)
    y[: n // 10] += 30.0 * rng.normal(size=n // 10)  # some residuals beyond epsilon·sigma
    params = rng.normal(size=d + (2 if fit_intercept else 1))
    params[-1] = rng.uniform(0.5, 3.0)
    sample_weight = rng.uniform(0.0, 3.0, size=n)
    return X, y, params, sample_weight


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_loss_and_gradient_equal_sklearn(fit_intercept: bool, seed: int, alpha: float) -> None:
    X, y, params, sw = _problem(seed, fit_intercept)
    for weights in (sw, None):
        loss, grad = huber_loss_and_gradient(params, X, y, 1.35, alpha, weights)
        ref_loss, ref_grad = sklearn_loss(
            params, X, y, 1.35, alpha, np.ones_like(y) if weights is None else weights
        )
        # Summation order differs: a few ulps of the largest terms.
        assert loss == pytest.approx(ref_loss, rel=1e-12)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-12 * np.abs(ref_grad).max())
        assert float(huber_loss(params, X, y, 1.35, alpha, weights)) == pytest.approx(
            ref_loss, rel=1e-12
        )


def test_both_regimes_are_exercised() -> None:
    X, y, params, _ = _problem(0, True)
    residual = np.abs(y - X @ params[:-2] - params[-2])
    outliers = residual > 1.35 * params[-1]
    assert 0 < outliers.sum() < len(y)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gradient_equals_autograd_and_central_differences(fit_intercept: bool) -> None:
    X, y, params, sw = _problem(7, fit_intercept)
    _, grad = huber_loss_and_gradient(params, X, y, 1.35, 0.1, sw)
    auto = autograd.grad(huber_loss)(params, X, y, 1.35, 0.1, sw)
    np.testing.assert_allclose(grad, auto, rtol=1e-12, atol=1e-12 * np.abs(grad).max())
    # Central differences: truncation error h²·f'''/6 with h = eps^(1/3)·max(1, |p|);
    # the loss is piecewise quadratic, so a relative error well under 1e-6 is expected
    # unless a residual crosses epsilon·sigma within h (not the case at this point).
    h = np.finfo(float).eps ** (1 / 3) * np.maximum(1.0, np.abs(params))
    central = np.array(
        [
            (
                huber_loss_and_gradient(params + h[i] * e, X, y, 1.35, 0.1, sw)[0]
                - huber_loss_and_gradient(params - h[i] * e, X, y, 1.35, 0.1, sw)[0]
            )
            / (2 * h[i])
            for i, e in enumerate(np.eye(len(params)))
        ]
    )
    np.testing.assert_allclose(central, grad, rtol=1e-6, atol=1e-6 * np.abs(grad).max())


def test_autograd_gradient_stays_exact_when_sigma_is_tiny() -> None:
    """Residuals 1e12 times sigma: no cancellation in the derivative in sigma."""
    X, y, params, sw = _problem(2, True)
    params[-1] = 1e-12
    _, grad = huber_loss_and_gradient(params, X, y, 1.35, 0.1, sw)
    auto = autograd.grad(huber_loss)(params, X, y, 1.35, 0.1, sw)
    np.testing.assert_allclose(auto, grad, rtol=1e-12, atol=1e-12 * np.abs(grad).max())


def test_sparse_x_gives_the_same_loss_and_gradient() -> None:
    X, y, params, sw = _problem(3, True)
    X[np.abs(X) < 1.0] = 0.0
    dense = huber_loss_and_gradient(params, X, y, 1.5, 0.2, sw)
    sparse = huber_loss_and_gradient(params, sp.csr_matrix(X), y, 1.5, 0.2, sw)
    assert sparse[0] == pytest.approx(dense[0], rel=1e-13)
    np.testing.assert_allclose(sparse[1], dense[1], rtol=1e-12, atol=1e-12)
    auto = autograd.grad(huber_loss)(params, sp.csr_matrix(X), y, 1.5, 0.2, sw)
    np.testing.assert_allclose(auto, dense[1], rtol=1e-12, atol=1e-12 * np.abs(dense[1]).max())


def test_analytic_gradient_reads_x_once_in_row_blocks_without_copies() -> None:
    """X is read by row blocks that are views (plain slices) covering it once, with one
    product each way per block: no row of X is copied (scikit-learn copies the inlier
    and the outlier rows on every call)."""

    class Spy(np.ndarray):
        products = 0
        slices: list[slice] = []  # noqa: RUF012

        def __matmul__(self, other):  # type: ignore[no-untyped-def]
            Spy.products += 1
            return np.asarray(self) @ other

        def __getitem__(self, key):  # type: ignore[no-untyped-def]
            if not isinstance(key, slice) or key.step not in (None, 1):
                raise AssertionError(f"X was indexed with {key!r}")
            Spy.slices.append(key)
            view = np.asarray(self)[key]
            assert np.shares_memory(view, self)
            return view.view(Spy)

        @property
        def T(self):  # type: ignore[no-untyped-def]
            return np.asarray(self).T.view(Spy)

    X, y, params, sw = _problem(1, True, n=50_000)
    loss, grad = huber_loss_and_gradient(params, X.view(Spy), y, 1.35, 0.1, sw)
    assert len(Spy.slices) == 3  # 50,000 rows of 6 in blocks of 2**17 entries
    covered = np.concatenate([np.arange(len(y))[s] for s in Spy.slices])
    np.testing.assert_array_equal(covered, np.arange(len(y)))
    assert Spy.products == 2 * len(Spy.slices)
    ref_loss, ref_grad = sklearn_loss(params, X, y, 1.35, 0.1, sw)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-12 * np.abs(ref_grad).max())


def test_wrong_parameter_length_is_explained() -> None:
    X, y, params, _ = _problem(0, True)
    with pytest.raises(ValueError, match=r"n_features \+ 1 = 7"):
        huber_loss_and_gradient(params[:3], X, y, 1.35, 0.1)


@pytest.mark.parametrize("log_sigma", [True, False])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_standardised_objective_is_the_same_objective(
    log_sigma: bool, fit_intercept: bool
) -> None:
    """The internal coordinates map back exactly, and their gradient is the chain rule's."""
    X, y, params, sw = _problem(5, fit_intercept)
    # A column like a Unix time in milliseconds over a year, with a coefficient to match.
    X[:, 0] = 1.7e12 + 3e10 * np.random.default_rng(0).uniform(size=len(y))
    params[0] = 1e-10
    obj = HuberObjective(
        RowBlocks(X, y, sw),
        epsilon=1.35,
        alpha=0.1,
        fit_intercept=fit_intercept,
        log_sigma=log_sigma,
    )
    d = X.shape[1]
    v = obj.internal(params[:d], params[d] if fit_intercept else 0.0, params[-1])
    np.testing.assert_allclose(obj.params(v), params, rtol=1e-9, atol=1e-9)
    value, grad = obj.value_and_grad(v)
    loss, _ = huber_loss_and_gradient(obj.params(v), X, y, 1.35, 0.1, sw)
    assert value * obj.value_scale == pytest.approx(loss, rel=1e-12)
    auto = autograd.grad(obj.value)(v)
    np.testing.assert_allclose(grad, auto, rtol=1e-8, atol=1e-10 * np.abs(grad).max())


@pytest.mark.parametrize("n", [1, 2, 7, 10])
def test_weighted_median_is_the_median_of_repeated_values(n: int) -> None:
    rng = np.random.default_rng(n)
    values = rng.normal(size=n)
    weights = rng.integers(1, 4, size=n).astype(float)
    expected = np.median(np.repeat(values, weights.astype(int)))
    assert _weighted_median(values, weights) == expected
    assert _weighted_median(values, np.ones(n)) == np.median(values)
