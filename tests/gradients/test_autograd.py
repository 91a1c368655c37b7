"""What only Autograd needs checked: functions it can trace only slowly, or not at all."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der

from gradopt import Autograd
from gradopt.exceptions import ObjectiveError
from gradopt.gradients import ObjectArrayWarning
from tests.forms import autograd_forms
from tests.problems import PROBLEMS, Problem


@pytest.mark.parametrize("prob", PROBLEMS, ids=repr)
def test_autograd_forms_trace_without_object_arrays(prob: Problem) -> None:
    """The shared problems, written with autograd.numpy, never take the slow path."""
    Autograd(autograd_forms.form(prob)).value_and_grad(prob.x)  # warnings are errors


def test_plain_numpy_functions_work_but_warn() -> None:
    """scipy's rosen calls np.asarray on its argument: autograd then traces every element
    of an object array. Right, but 100 times slower: say so, and name the way out."""
    x = np.tile([-1.2, 1.0], 5)
    p = Autograd(rosen)
    with pytest.warns(ObjectArrayWarning, match=r"autograd\.numpy") as record:
        f, g = p.value_and_grad(x)
    assert record[0].filename.endswith(".py")  # points at the line that converts
    assert f == rosen(x) and np.allclose(g, rosen_der(x), rtol=1e-13)
    assert (p.nfev, p.ngev) == (1, 1)


@pytest.mark.parametrize(
    "fun",
    [
        lambda x: np.dot(x, x),
        lambda x: np.sum(np.where(x > 0, x, -x)),
        lambda x: np.linalg.norm(x) ** 2,
    ],
    ids=["dot", "where", "norm"],
)
def test_other_numpy_functions_on_the_argument_warn(fun: Any) -> None:
    with pytest.warns(ObjectArrayWarning):
        Autograd(fun).grad(np.array([1.0, -2.0, 3.0]))


def test_ufuncs_and_methods_do_not_warn() -> None:
    """NumPy ufuncs and array methods dispatch to autograd: nothing to warn about."""
    g = Autograd(lambda x: (np.exp(x) * x).sum() + x @ x).grad(np.array([0.0, 1.0]))
    np.testing.assert_allclose(g, [1.0, 2 * np.e + 2.0], rtol=1e-15)


@pytest.mark.parametrize(
    ("fun", "named"),
    [
        (lambda x: None, r"returned None at x = \[1.0, 2.0\]\. Is a return statement missing"),
        (lambda x: x * 2.0, r"returned an array of shape \(2,\) at x = \[1.0, 2.0\]"),
        (lambda x: "1.0", r"returned a str \('1.0'\) at x"),
        (lambda x: {"f": np.sum(x)}, r"returned a dict of 1 item at x"),
        (lambda x: 1j * np.sum(x), r"returned a complex number"),
    ],
    ids=["None", "vector", "str", "dict", "complex"],
)
def test_unusable_values_get_a_gradopt_error(fun: Any, named: str) -> None:
    """Not autograd's "Can't find vector space for value None"."""
    p = Autograd(fun)
    for call in (p.value_and_grad, p.grad, p.value):
        with pytest.raises(ObjectiveError, match=named):
            call(np.array([1.0, 2.0]))
