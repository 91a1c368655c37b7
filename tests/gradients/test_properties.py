"""Property tests: finite differences on random quadratics, where the truth is known."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gradopt import FiniteDifference

EPS = float(np.finfo(np.float64).eps)
coords = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False)


@st.composite
def quadratics(draw: Any) -> tuple[Any, Any, Any]:
    """(A, b, x) with A symmetric, entries of A, b and x in [-10, 10]."""
    d = draw(st.integers(1, 6))
    m = draw(arrays(np.float64, (d, d), elements=coords))
    b = draw(arrays(np.float64, d, elements=coords))
    x = draw(arrays(np.float64, d, elements=coords))
    return (m + m.T) / 2, b, x


@given(quadratics())
def test_central_difference_of_a_quadratic(q: tuple[Any, Any, Any]) -> None:
    """f = x A x / 2 + b x has no third derivative: the central difference has no
    truncation error, only round-off, about eps * |f| / h per component (h ~ eps^(1/3)
    max(1, |x_j|)), so the error is bounded by a small multiple of eps^(2/3) times the
    size of the terms of f."""
    a, b, x = q
    x_before = x.copy()
    g = FiniteDifference(lambda z: z @ a @ z / 2 + b @ z, method="central").grad(x)
    np.testing.assert_array_equal(x, x_before)
    scale = np.abs(x) @ np.abs(a) @ np.abs(x) / 2 + np.abs(b) @ np.abs(x) + 1.0
    h = EPS ** (1 / 3) * np.maximum(1.0, np.abs(x))
    bound = 10 * EPS * scale / h + 10 * EPS * (np.abs(a) @ np.abs(x) + np.abs(b))
    assert np.all(np.abs(g - (a @ x + b)) <= bound)


@given(quadratics())
def test_forward_and_backward_bracket_a_quadratic(q: tuple[Any, Any, Any]) -> None:
    """For a quadratic, forward = g + h A_jj / 2 and backward = g - h A_jj / 2 exactly
    (up to round-off): they straddle the gradient by the curvature along each axis, and
    their mean is the central difference."""
    a, b, x = q
    fun = lambda z: z @ a @ z / 2 + b @ z  # noqa: E731
    step = 1e-3 * np.maximum(1.0, np.abs(x))  # large enough for truncation to show
    fwd = FiniteDifference(fun, method="forward", step=step).grad(x)
    bwd = FiniteDifference(fun, method="backward", step=step).grad(x)
    truth = a @ x + b
    scale = np.abs(x) @ np.abs(a) @ np.abs(x) / 2 + np.abs(b) @ np.abs(x) + 1.0
    roundoff = 10 * EPS * scale / step
    np.testing.assert_array_less(np.abs(fwd - (truth + step * np.diag(a) / 2)), roundoff)
    np.testing.assert_array_less(np.abs(bwd - (truth - step * np.diag(a) / 2)), roundoff)
    convex = np.diag(a) > 0
    assert np.all((fwd >= bwd - 2 * roundoff)[convex])  # convex along j: fwd above bwd


@given(arrays(np.float64, st.integers(1, 8), elements=coords))
def test_complex_step_is_exact_to_rounding(x: Any) -> None:
    g = FiniteDifference(lambda z: np.sum(np.exp(z / 4) * np.sin(z)), method="complex").grad(x)
    truth = np.exp(x / 4) * (np.sin(x) / 4 + np.cos(x))
    np.testing.assert_allclose(g, truth, rtol=1e-14, atol=1e-14 * float(np.max(np.abs(truth))))
