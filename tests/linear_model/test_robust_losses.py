"""The robust losses and scale estimators, against calculus and statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from autograd import elementwise_grad
from scipy import integrate, stats

from gradopt.exceptions import InvalidInputError
from gradopt.linear_model._robust_losses import LOSSES, make_loss
from gradopt.linear_model._robust_scale import GAUSSIAN_MAD, HuberScale, MScale, mad_scale

U = np.concatenate([np.linspace(-15.0, 15.0, 3001), [0.0, 1e-300, -1e-300]])


def _away_from_kinks(u: np.ndarray, knots: tuple[float, ...]) -> np.ndarray:
    corners = np.array([0.0, *knots])
    return np.min(np.abs(np.abs(u)[:, None] - corners[None, :]), axis=1) > 1e-4


@pytest.mark.parametrize("name", list(LOSSES))
def test_psi_is_the_derivative_of_rho(name: str) -> None:
    loss = make_loss(name)
    drho = elementwise_grad(loss.rho)(U)
    np.testing.assert_allclose(drho, loss.psi(U), rtol=1e-12, atol=1e-12)
    assert float(loss.rho(0.0)) == 0.0


@pytest.mark.parametrize("name", list(LOSSES))
def test_psi_deriv_and_weight(name: str) -> None:
    loss = make_loss(name)
    h = 1e-6
    central = (loss.psi(U + h) - loss.psi(U - h)) / (2 * h)
    smooth = _away_from_kinks(U, loss.tuning) | (name == "least-squares")
    np.testing.assert_allclose(central[smooth], loss.psi_deriv(U)[smooth], atol=1e-8)
    np.testing.assert_allclose(loss.weight(U) * U, loss.psi(U), rtol=1e-14, atol=1e-300)
    weights = loss.weight(U)
    assert np.all(np.isfinite(weights)) and np.all((weights >= 0) & (weights <= 1))
    assert loss.weight(np.array([0.0]))[0] == 1.0


@pytest.mark.parametrize(
    ("name", "efficiency"),
    [
        ("huber", 0.95),
        ("bisquare", 0.95),
        ("cauchy", 0.95),
        ("welsch", 0.95),
        ("pseudo-huber", 0.95),
        ("hampel", 0.9897),  # (2, 4, 8), the conventional constants, are more efficient
        ("least-squares", 1.0),
    ],
)
def test_default_tuning_efficiency_at_the_normal(name: str, efficiency: float) -> None:
    """Asymptotic efficiency (E ψ')² / E ψ² of the defaults, by quadrature."""
    loss = make_loss(name)
    points = sorted(set(loss.tuning) | {-t for t in loss.tuning}) or None
    lim = 40.0

    def expect(f: object) -> float:
        return integrate.quad(
            lambda u: f(np.array([u]))[0] * stats.norm.pdf(u),  # type: ignore[operator]
            -lim,
            lim,
            points=points,
            limit=200,
        )[0]

    ratio = expect(loss.psi_deriv) ** 2 / expect(lambda u: loss.psi(u) ** 2)
    assert ratio == pytest.approx(efficiency, abs=1e-4)


def test_tuning_validation() -> None:
    assert make_loss("huber", 2.0).tuning == (2.0,)
    assert make_loss("hampel", [1, 2, 3]).tuning == (1.0, 2.0, 3.0)
    with pytest.raises(InvalidInputError, match="tuning for loss 'hampel' must be 3"):
        make_loss("hampel", 2.0)
    with pytest.raises(InvalidInputError, match="a <= b < c"):
        make_loss("hampel", (4, 2, 8))
    with pytest.raises(InvalidInputError, match="positive finite"):
        make_loss("bisquare", -1.0)
    with pytest.raises(InvalidInputError, match="no constant"):
        make_loss("least-squares", 1.0)
    with pytest.raises(InvalidInputError, match="unknown loss 'tukey'; valid losses: huber"):
        make_loss("tukey")


def test_mad_scale_matches_statsmodels_and_repeated_rows() -> None:
    sm_scale = pytest.importorskip("statsmodels.robust.scale")
    rng = np.random.default_rng(0)
    r = rng.standard_t(3, size=101)
    assert mad_scale(r, np.ones(r.size)) == pytest.approx(sm_scale.mad(r, center=0), rel=1e-15)
    assert pytest.approx(0.6744897501960817, rel=1e-15) == GAUSSIAN_MAD
    counts = rng.integers(0, 4, size=r.size)
    repeated = np.repeat(r, counts)
    assert mad_scale(r, counts.astype(float)) == mad_scale(repeated, np.ones(repeated.size))


def test_huber_scale_matches_statsmodels() -> None:
    sm_scale = pytest.importorskip("statsmodels.robust.scale")
    rng = np.random.default_rng(1)
    r = rng.standard_t(2, size=500)
    reference = sm_scale.HuberScale(tol=1e-15, maxiter=100_000)(500 - 3, 500, r)
    assert HuberScale()(r, np.ones(r.size), 3) == pytest.approx(reference, rel=1e-12)


def test_m_scale_solves_its_equation_and_is_zero_for_an_exact_half() -> None:
    rng = np.random.default_rng(2)
    r, w = rng.normal(size=300), rng.uniform(0.5, 2.0, size=300)
    rho = MScale()
    sigma = rho(r, w, 4)
    assert float(w @ rho.rho(r / sigma)) == pytest.approx(0.5 * (w.sum() - 4), rel=1e-12)
    assert rho(r, w, 4, start=100.0) == pytest.approx(sigma, rel=1e-12)
    # At the normal with many rows: consistent (σ ≈ 1).
    assert rho(rng.normal(size=200_000), np.ones(200_000), 0) == pytest.approx(1.0, abs=0.01)
    half = np.concatenate([np.zeros(60), rng.normal(size=40)])
    assert rho(half, np.ones(100), 0) == 0.0
    assert HuberScale()(np.zeros(10), np.ones(10), 1) == 0.0


def test_m_scale_root_hit_exactly() -> None:
    """A start at the root to rounding (the excess exactly 0) returns that root."""
    rng = np.random.default_rng(3)
    r, w = rng.normal(size=80), np.ones(80)
    rho = MScale()
    sigma = rho(r, w, 3)
    for start in (sigma, sigma * (1 + 1e-15), sigma * (1 - 1e-15)):
        assert rho(r, w, 3, start=start) == pytest.approx(sigma, rel=1e-12)
