"""What only Autograd offers: forward-mode directional derivatives (``jvp``)."""

from __future__ import annotations

import numpy as np
import pytest

from gradopt import Autograd
from tests.problems import PROBLEMS, Problem


@pytest.mark.parametrize("prob", PROBLEMS, ids=repr)
def test_jvp_is_the_directional_derivative(prob: Problem) -> None:
    p = Autograd(prob.fun)
    v = np.sin(np.arange(np.size(prob.x)) + 0.5).reshape(np.shape(prob.x))
    value, slope = p.jvp(prob.x, v)
    truth = float(np.sum(np.asarray(prob.grad(prob.x)) * v))
    assert value == pytest.approx(float(prob.fun(prob.x)), rel=1e-15)
    assert slope == pytest.approx(truth, rel=1e-13, abs=1e-13)
    assert type(value) is float and type(slope) is float
    assert (p.nfev, p.ngev) == (1, 0)
