"""Finite-difference schemes: the points they lay out and how they combine values."""

from __future__ import annotations

import numpy as np
import pytest

from gradopt.gradients._groups import Groups
from gradopt.gradients._schemes import Scheme, Stencil
from gradopt.gradients.finite_difference import METHODS as SCHEMES

EPS = float(np.finfo(np.float64).eps)


@pytest.mark.parametrize("scheme", SCHEMES.values(), ids=lambda s: s.name)
def test_batch_and_iterated_points_agree(scheme: Scheme) -> None:
    x = np.array([0.5, -3.0, 1e4])
    h = scheme.default_step(x)
    for groups in (
        Groups.each(3),
        Groups(np.array([0, 1, 0]), 2),
        Groups(np.array([1, -1, 0]), 2),
    ):
        batch = scheme.points(x, h, groups)
        one_by_one = np.array(list(scheme.iter_points(x, h, groups)))
        np.testing.assert_array_equal(batch, one_by_one)
        assert batch.shape == (scheme.count(groups), 3)
        moved = batch != x
        assert not moved[:, groups.of < 0].any()  # coordinates outside every group stay
        np.testing.assert_array_equal(x, [0.5, -3.0, 1e4])


@pytest.mark.parametrize("scheme", SCHEMES.values(), ids=lambda s: s.name)
def test_combine_gives_the_gradient_of_a_quadratic(scheme: Scheme) -> None:
    a = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 4.0]])
    b = np.array([1.0, -2.0, 0.5])
    x = np.array([0.3, -1.2, 2.0])

    def f(z: np.ndarray) -> complex:
        return complex(z @ a @ z / 2 + b @ z)

    h = scheme.default_step(x)
    groups = Groups.each(3)
    values = np.array([[f(p)] for p in scheme.iter_points(x, h, groups)])
    if not scheme.imaginary:
        values = values.real
    estimate = scheme.combine(values, Stencil(x, h, groups, np.array([f(x).real])))
    assert estimate.value.shape == (1, 3)
    assert (estimate.error is None) != scheme.estimates_error
    g = estimate.value[0]
    truth = a @ x + b
    tol = {"forward": 1e-7, "backward": 1e-7, "central": 1e-10, "complex": 1e-15}
    tol["richardson"] = 1e-13  # exact for a quadratic: round-off over steps ~0.06 only
    assert np.linalg.norm(g - truth) <= tol[scheme.name] * np.linalg.norm(truth)


def test_default_steps_follow_the_theory() -> None:
    x = np.array([0.0, 0.5, -8.0, 1e6])
    scale = np.maximum(1.0, np.abs(x))
    np.testing.assert_allclose(SCHEMES["forward"].default_step(x), EPS**0.5 * scale, rtol=1e-6)
    np.testing.assert_allclose(
        SCHEMES["central"].default_step(x), EPS ** (1 / 3) * scale, rtol=1e-6
    )
    assert np.all(SCHEMES["complex"].default_step(x) == 1e-20 * scale)
    h = SCHEMES["forward"].default_step(x)
    np.testing.assert_array_equal((x + h) - x, h)  # exactly representable steps
