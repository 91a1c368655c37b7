"""step_error: the step-size study, its models and its input checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gradopt.analysis import StepErrorResult, step_error
from gradopt.exceptions import InvalidInputError
from gradopt.gradients import FiniteDifference

EPS = float(np.finfo(np.float64).eps)


def test_forward_on_exp_matches_the_textbook() -> None:
    r = step_error(np.exp, 1.0, np.e)
    assert isinstance(r, StepErrorResult)
    assert r.steps.shape == r.errors.shape == (161,)
    assert r.steps[0] == pytest.approx(1e-16) and r.steps[-1] == 1.0
    # f = f'' = e: predicted best h = 2 sqrt(eps |f| / |f''|) = 2 sqrt(eps).
    assert r.higher_derivative == pytest.approx(np.e, rel=1e-8)
    assert r.predicted_best_step == pytest.approx(2 * np.sqrt(EPS), rel=1e-6)
    # The measured best is within a decade of the prediction, with the model's error.
    assert 0.1 < r.best_step / r.predicted_best_step < 10
    assert r.best_error <= r.model[np.argmin(np.abs(r.steps - r.predicted_best_step))]
    # Truncation dominates for large h and follows its model; round-off for small h.
    big = r.steps > 1e-4
    np.testing.assert_allclose(r.errors[big], r.truncation[big], rtol=0.6)
    small = (r.steps < 1e-11) & ~r.plateau
    assert np.all(r.errors[small] <= 3 * r.roundoff[small])
    assert np.median(r.errors[small] / r.roundoff[small]) > 0.05


def test_estimates_come_from_finite_difference() -> None:
    r = step_error(np.sin, 0.5, np.cos(0.5), method="central", steps=[1e-3, 1e-5])
    for h, est in zip(r.steps, r.estimates, strict=True):
        assert est == float(FiniteDifference(np.sin, method="central", step=h).grad(0.5))


def test_plateau_where_x_plus_h_equals_x() -> None:
    # At x = 10, 10 + h == 10 for h below about 8.9e-16: the forward difference is 0.
    r = step_error(np.exp, 10.0, np.exp(10.0))
    assert np.all(r.plateau[r.steps < 8e-16])
    assert not np.any(r.plateau[r.steps > 2e-15])
    np.testing.assert_array_equal(r.errors[r.plateau], np.exp(10.0))


def test_central_and_complex() -> None:
    central = step_error(np.exp, 1.0, np.e, method="central")
    assert central.predicted_best_step == pytest.approx((3 * EPS) ** (1 / 3), rel=1e-5)
    assert central.best_error < 1e-9 < step_error(np.exp, 1.0, np.e).best_error
    complex_ = step_error(np.exp, 1.0, np.e, method="complex")
    # No subtraction: exact to rounding for every small step.
    assert np.all(complex_.errors[complex_.steps < 1e-8] <= 2 * EPS * np.e)
    np.testing.assert_allclose(complex_.roundoff, EPS * np.e)


def test_direction_in_d_dimensions() -> None:
    x0, v = np.array([0.1, -0.3, 0.2]), np.array([1.0, 2.0, -1.0])
    f = lambda x: float(np.sum(np.exp(x)))  # noqa: E731
    steps = np.logspace(-10, -1, 10)
    r = step_error(f, x0, np.exp(x0) @ v, method="central", steps=steps, direction=v)
    assert r.best_error < 1e-9


def test_zero_higher_derivative_has_no_finite_predicted_step() -> None:
    r = step_error(lambda x: 3.0 * x + 1.0, 2.0, 3.0, steps=[1e-3, 1e-1])
    assert r.predicted_best_step == np.inf
    assert "best_step" in repr(r)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"steps": [1e-3, 0.0]}, r"positive and finite; steps\[1\] = 0.0"),
        ({"steps": [-1e-3]}, r"steps\[0\] = -0.001"),
        ({"steps": [[1e-3]]}, "1-D array"),
        ({"steps": []}, "non-empty"),
        ({"derivative": [1.0, 2.0]}, r"one real number .* shape \(2,\)"),
        ({"derivative": np.nan}, "finite"),
        ({"method": "secant"}, "method must be one of"),
        ({"x0": np.ones(2)}, "give a direction"),
        ({"x0": np.ones(2), "direction": np.ones(3)}, "shape of x0"),
    ],
)
def test_bad_input(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"fun": np.sin, "x0": 1.0, "derivative": np.cos(1.0)}
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=match):
        step_error(**args)


def test_overflowing_steps_are_recorded_not_raised() -> None:
    # exp(10 + h) overflows for h > 700: NaN at those steps, the study goes on.
    r = step_error(np.exp, 10.0, np.exp(10.0), steps=np.logspace(-12, 3, 31))
    big = r.steps > 710
    assert np.all(np.isnan(r.estimates[big])) and np.all(np.isnan(r.errors[big]))
    assert np.all(np.isfinite(r.errors[~big]))
    assert 1e-9 < r.best_step < 1e-6


def test_higher_derivative_follows_the_scale_of_f() -> None:
    # cosh(1000 x) at 1e-3: f''' = 1e9 sinh(1). A step of 1/16 (1000 h = 62) used to be
    # taken as it is: a best step 1e5 too small and a truncation line 1e9 too high.
    f = lambda x: np.cosh(1000 * x)  # noqa: E731
    r = step_error(f, 1e-3, 1000 * np.sinh(1.0), method="central")
    assert r.higher_derivative == pytest.approx(1e9 * np.sinh(1.0), rel=1e-6)
    assert 0.1 < r.best_step / r.predicted_best_step < 10
    big = r.steps > 1e-5  # truncation dominates: the model follows the measurement
    np.testing.assert_allclose(
        r.errors[big & (r.steps < 1e-3)], r.truncation[big & (r.steps < 1e-3)], rtol=0.5
    )


def test_best_step_is_the_bottom_of_the_v_not_a_lucky_dip() -> None:
    # log at 3, backward: at some tiny steps the quantized difference happens to be
    # exactly 1/3 (error 0) -- the raw argmin lands there, 1e7 below the bottom of the V.
    r = step_error(np.log, 3.0, 1 / 3.0, method="backward")
    assert r.steps[np.argmin(r.errors)] < 1e-13 and r.errors.min() == 0
    assert 0.1 < r.best_step / r.predicted_best_step < 10
    assert r.best_error > 0


def test_steps_that_leave_the_domain_are_recorded_not_raised() -> None:
    # log at 1e-3: large steps reach x < 0 (NaN); the higher derivative is found at the
    # smaller steps that stay inside (f''' = 2 / x^3).
    r = step_error(np.log, 1e-3, 1e3, method="central")
    assert np.all(np.isnan(r.errors[r.steps > 1e-3]))
    assert r.higher_derivative == pytest.approx(2e9, rel=1e-6)
    assert 0.1 < r.best_step / r.predicted_best_step < 10


def test_richardson_by_first_step_with_its_error_estimate() -> None:
    r = step_error(np.sin, 1.0, np.cos(1.0), method="richardson")
    assert r.error_estimates is not None and r.error_estimates.shape == r.steps.shape
    # Steps too small for the ladder are refused by FiniteDifference: NaN, not a number.
    refused = r.steps < 1e-14
    assert np.all(np.isnan(r.errors[refused]) & np.isnan(r.error_estimates[refused]))
    ok = ~np.isnan(r.errors)
    assert np.all(r.errors[ok] <= r.error_estimates[ok])  # its estimate covers its error
    assert np.nanmax(r.errors[r.steps >= 1e-3]) < 1e-12
    assert r.best_error < 1e-13 and r.best_step >= 1e-3
    assert r.predicted_best_step == 1 / 16  # its default first step
    assert np.all(np.isnan(r.truncation)) and np.isnan(r.higher_derivative)
    for h, est in zip(r.steps[-3:], r.estimates[-3:], strict=True):
        fd = FiniteDifference(np.sin, method="richardson", step=h)
        assert est == float(fd.grad(1.0))
