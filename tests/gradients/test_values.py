"""What f returns, checked the same way by every provider evaluating in this process.

A careless objective (None, a string, a list, a dict, a bool, a complex number, an array
of several numbers) gets an ObjectiveError naming what it returned and the point, from
``value``, ``grad`` and ``value_and_grad`` alike; never a NaN, a silently dropped
imaginary part or a string read as a number.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gradopt import Analytic, Autograd, FiniteDifference, GradientProvider, Jax
from gradopt.exceptions import ObjectiveError

MAKERS: dict[str, Callable[[Callable[[Any], Any]], GradientProvider]] = {
    "analytic-fused": lambda f: Analytic(f, value_and_grad=lambda x: (f(x), np.zeros_like(x))),
    "forward": lambda f: FiniteDifference(f, method="forward"),
    "central": lambda f: FiniteDifference(f, method="central"),
    "complex": lambda f: FiniteDifference(f, method="complex"),
    "richardson": lambda f: FiniteDifference(f, method="richardson"),
    "autograd": Autograd,
}
if importlib.util.find_spec("jax") is not None:
    MAKERS["jax"] = Jax

# what the message names; it also names the point (x = [...]), wherever it puts it
BAD = {
    "None": (lambda x: None, r"returned None\b.*Is a return statement missing"),
    "str": (lambda x: "5.0", r"returned a str \('5.0'\)"),
    "list": (lambda x: [1.0], r"returned a list of 1 item\b"),
    "dict": (lambda x: {"f": 1.0}, r"returned a dict of 1 item\b"),
    "bool": (lambda x: True, r"returned a bool \(True\)"),
    "complex": (lambda x: 1.0 + 2.0j, r"returned a complex number \(\(1\+2j\)\)"),
    "vector": (lambda x: np.ones(2), r"returned an array of shape \(2,\)"),
}


@pytest.mark.parametrize("returns", list(BAD))
@pytest.mark.parametrize("maker", list(MAKERS))
@pytest.mark.parametrize("call", ["value", "grad", "value_and_grad"])
def test_unusable_values_name_what_came_back_and_where(
    maker: str, returns: str, call: str
) -> None:
    fun, message = BAD[returns]
    if maker == "complex" and returns == "complex" and call != "value":
        pytest.skip("complex values at complex points are what the complex step expects")
    p = MAKERS[maker](fun)
    with pytest.raises(ObjectiveError, match=message) as info:
        getattr(p, call)(np.array([1.0, 2.0]))
    assert "x = [1" in str(info.value)


@pytest.mark.parametrize("maker", ["forward", "central", "complex", "richardson"])
def test_a_value_gone_bad_off_x_names_the_stepped_point(maker: str) -> None:
    """f fine at x, None at the points of the difference: the message names one of those."""

    def f(x: Any) -> Any:
        return float(np.sum(np.real(x) ** 2)) if np.all(x == 1.0) else None

    p = MAKERS[maker](f)
    assert p.value(np.ones(2)) == 2.0
    # the point named is x + h e_j (or x + i h e_j for the complex step), not x
    stepped = r"(1\.0+\d+|\(1\+1e-20j\))"
    with pytest.raises(ObjectiveError, match=rf"(stepped to |at x = \[){stepped}"):
        p.grad(np.ones(2))
