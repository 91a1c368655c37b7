"""``Analytic(fun, value_and_grad=...)``: value and gradient from one call."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gradopt import Analytic
from gradopt.exceptions import InvalidInputError, ObjectiveError


def counted() -> tuple[dict[str, int], Any, Any]:
    calls = {"fun": 0, "fused": 0}

    def fun(x: Any) -> float:
        calls["fun"] += 1
        return float(x @ x)

    def fused(x: Any) -> tuple[float, Any]:
        calls["fused"] += 1
        return float(x @ x), 2 * x

    return calls, fun, fused


def test_one_fused_call_gives_value_and_gradient() -> None:
    calls, fun, fused = counted()
    p = Analytic(fun, value_and_grad=fused)
    value, grad = p.value_and_grad(np.array([1.0, 2.0]))
    assert value == 5.0
    np.testing.assert_array_equal(grad, [2.0, 4.0])
    assert calls == {"fun": 0, "fused": 1}
    assert (p.nfev, p.ngev) == (1, 1)
    assert p.value(np.array([1.0, 2.0])) == 5.0  # cached with the gradient
    assert calls == {"fun": 0, "fused": 1}


def test_value_alone_uses_the_cheaper_fun() -> None:
    calls, fun, fused = counted()
    p = Analytic(fun, value_and_grad=fused)
    assert p.value(np.array([3.0])) == 9.0
    assert calls == {"fun": 1, "fused": 0}


def test_needs_a_gradient_of_some_kind() -> None:
    with pytest.raises(InvalidInputError, match="grad=, value_and_grad= or jacobian="):
        Analytic(lambda x: 0.0)
    with pytest.raises(InvalidInputError, match="value_and_grad must be callable"):
        Analytic(lambda x: 0.0, value_and_grad=3)


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (1.0, r"must return a \(value, gradient\) pair; got float"),
        ((1.0, np.ones(3)), r"shape \(2,\).*returned shape \(3,\)"),
        ((np.ones(2), np.ones(2)), r"must return a scalar.*shape \(2,\)"),
    ],
)
def test_bad_fused_output_is_named(out: Any, message: str) -> None:
    p = Analytic(lambda x: 0.0, value_and_grad=lambda x: out)
    with pytest.raises(ObjectiveError, match=message):
        p.grad(np.ones(2))
