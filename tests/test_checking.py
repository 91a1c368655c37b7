"""check_gradient: relative, per-component checks that scipy's check_grad cannot make."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy.optimize import check_grad, rosen, rosen_der

import gradopt
from gradopt import check_gradient
from gradopt.exceptions import ComplexStepError, InvalidInputError, ObjectiveError

X100 = np.tile([-1.2, 1.0], 50)


def _planted(j: int, rel: float = 1e-5) -> Callable[[Any], np.ndarray]:
    def grad(x: Any) -> np.ndarray:
        g = rosen_der(x)
        g[j] *= 1 + rel
        return g

    return grad


@pytest.mark.parametrize("j", [0, 1, 37, 98, 99])
def test_flags_a_1e5_relative_error_in_one_component(j: int) -> None:
    result = check_gradient(rosen, _planted(j), X100)
    assert not result.ok
    assert result.worst == j
    assert result.max_rel_error == pytest.approx(1e-5, rel=1e-3)
    assert f"at index {j}" in repr(result) and "MISMATCH" in repr(result)


def _problems() -> dict[str, tuple[Callable[..., Any], Callable[..., Any], np.ndarray]]:
    rng = np.random.default_rng(3)
    return {
        "rosen d=100": (rosen, rosen_der, X100),
        "rosen random": (rosen, rosen_der, rng.uniform(-2, 2, 100)),
        "rosen at the minimum": (rosen, rosen_der, np.ones(10)),
        "exp*sin d=100": (
            lambda x: np.sum(np.exp(x) * np.sin(x)),
            lambda x: np.exp(x) * (np.sin(x) + np.cos(x)),
            np.linspace(-2, 2, 100),
        ),
        "quadratic": (lambda x: 0.5 * x @ x, lambda x: x, rng.normal(size=30)),
        "beale": (
            lambda x: (
                (1.5 - x[0] + x[0] * x[1]) ** 2
                + (2.25 - x[0] + x[0] * x[1] ** 2) ** 2
                + (2.625 - x[0] + x[0] * x[1] ** 3) ** 2
            ),
            lambda x: np.array(
                [
                    2 * (1.5 - x[0] + x[0] * x[1]) * (x[1] - 1)
                    + 2 * (2.25 - x[0] + x[0] * x[1] ** 2) * (x[1] ** 2 - 1)
                    + 2 * (2.625 - x[0] + x[0] * x[1] ** 3) * (x[1] ** 3 - 1),
                    2 * (1.5 - x[0] + x[0] * x[1]) * x[0]
                    + 4 * (2.25 - x[0] + x[0] * x[1] ** 2) * x[0] * x[1]
                    + 6 * (2.625 - x[0] + x[0] * x[1] ** 3) * x[0] * x[1] ** 2,
                ]
            ),
            np.array([1.0, 1.0]),
        ),
        "logsumexp": (
            lambda x: np.log(np.sum(np.exp(x))),
            lambda x: np.exp(x) / np.sum(np.exp(x)),
            rng.normal(size=50),
        ),
        "sin scalar": (np.sin, np.cos, np.array(1.0)),
    }


@pytest.mark.parametrize("name", list(_problems()))
def test_passes_every_correct_gradient(name: str) -> None:
    fun, grad, x = _problems()[name]
    result = check_gradient(fun, grad, x)
    assert result.ok, result
    assert "ok" in repr(result)


def test_scipy_check_grad_cannot_tell_them_apart() -> None:
    # scipy returns an absolute norm against a forward difference: the wrong gradient
    # (1e-5 relative error in the last component) scores 1.3e-3, the correct one 1.0e-3 at
    # the same point and 1.7e-2 at 2x: no threshold separates right from wrong.
    wrong = check_grad(rosen, _planted(99), X100)
    right = check_grad(rosen, rosen_der, X100)
    right_elsewhere = check_grad(rosen, rosen_der, 2 * X100)
    assert right < wrong < 2 * right and wrong < right_elsewhere
    # check_gradient separates them by orders of magnitude.
    assert check_gradient(rosen, _planted(99), X100).max_rel_error > 1e3 * max(
        check_gradient(rosen, rosen_der, X100).max_rel_error,
        check_gradient(rosen, rosen_der, 2 * X100).max_rel_error,
        1e-9,
    )


def test_complex_and_array_references() -> None:
    x = np.tile([-1.2, 1.0], 5)
    assert check_gradient(rosen, rosen_der, x, reference="complex").ok
    assert not check_gradient(rosen, _planted(4, 1e-7), x, reference="complex", rtol=1e-9).ok
    assert check_gradient(rosen, rosen_der, x, reference=rosen_der(x), rtol=1e-15).ok
    assert gradopt.check_gradient is check_gradient


def test_default_reference_survives_code_the_complex_step_gets_wrong() -> None:
    # np.vdot conjugates its first argument: the complex step sees a constant. Richardson
    # only needs real evaluations; the complex reference refuses instead of answering 0.
    f = lambda x: np.vdot(x, x)  # noqa: E731
    x = np.arange(1.0, 4.0)
    assert check_gradient(f, lambda x: 2 * x, x).ok
    with pytest.raises(ComplexStepError, match="imaginary part of f is exactly 0"):
        check_gradient(f, lambda x: 2 * x, x, reference="complex")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"reference": "forward"}, InvalidInputError, "'richardson', 'complex' or an array"),
        ({"reference": np.ones(3)}, InvalidInputError, r"one entry per coordinate of x \(4\)"),
        ({"rtol": 0.0}, InvalidInputError, "rtol must be a positive number"),
        (
            {"grad": lambda x: np.ones(3)},
            ObjectiveError,
            r"array of shape \(4,\) \(the shape of x\)",
        ),
        ({"grad": 3.0}, InvalidInputError, "grad must be callable"),
    ],
)
def test_bad_input(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    args: dict[str, Any] = {"fun": rosen, "grad": rosen_der, "x": np.ones(4)}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        check_gradient(**args)


def test_a_nan_component_fails_the_check() -> None:
    x = np.full(5, 0.5)

    def grad(x: np.ndarray) -> np.ndarray:
        g = rosen_der(x)
        g[1] = np.nan
        return g

    check = check_gradient(rosen, grad, x)
    assert not check.ok
    assert check.worst == 1


def test_grad_gets_a_copy_of_x() -> None:
    x = np.array([1.0, 2.0])

    def grad(z: np.ndarray) -> np.ndarray:
        z *= 2  # scribbles on its argument
        return z

    assert check_gradient(lambda z: float(z @ z), grad, x).ok
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_a_component_at_rounding_level_is_right() -> None:
    # 6e-17 against a reference of 0 +- 4e-17 used to be judged against eps * ||g||.
    f = lambda x: x[0] ** 2 + np.sin(x[1])  # noqa: E731
    g = lambda x: np.array([2 * x[0], np.cos(x[1]) + 6e-17])  # noqa: E731
    assert check_gradient(f, g, np.array([1.0, np.pi / 2])).ok
    # ... while a component wrong by 1e-9 of the gradient's scale is still caught.
    wrong = lambda x: np.array([2 * x[0], np.cos(x[1]) + 1e-9])  # noqa: E731
    assert not check_gradient(f, wrong, np.array([1.0, np.pi / 2])).ok


@pytest.mark.parametrize(
    ("fun", "grad", "x"),
    [
        (  # a softplus shifted to x ~ 1000
            lambda x: np.sum(np.logaddexp(0.0, x - 1000)),
            lambda x: 1 / (1 + np.exp(1000 - x)),
            np.array([1000.3, 999.1, 1003.0]),
        ),
        (  # a sine with a frequency parameter near 200
            lambda x: np.sin(x[0] * x[1]),
            lambda x: np.cos(x[0] * x[1]) * x[::-1],
            np.array([0.7, 199.0]),
        ),
    ],
)
def test_passes_correct_gradients_where_the_old_reference_was_wrong(
    fun: Callable[..., Any], grad: Callable[..., Any], x: np.ndarray
) -> None:
    assert check_gradient(fun, grad, x).ok
