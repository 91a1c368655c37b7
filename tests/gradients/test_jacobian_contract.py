"""The contract every provider keeps for vector-valued functions, on the shared problems.

Every provider of the registry in :mod:`tests.forms` (finite differences of every method,
hand-written, autograd, sympy, JAX) gives ``jacobian(x)`` against the exact Jacobian of
each vector problem of :mod:`tests.problems`, within the tolerance its method has for
gradients, with the same counting and caching.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradopt import Autograd
from tests.forms import PROVIDERS
from tests.forms.autograd_forms import form as autograd_form
from tests.gradients.test_contract import TOLERANCE, VALUE_RTOL, relative_error
from tests.problems import PROBLEMS, VECTOR_PROBLEMS, Problem, problem

NAMES = list(PROVIDERS)


@pytest.fixture(params=NAMES)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=VECTOR_PROBLEMS, ids=[p.name for p in VECTOR_PROBLEMS])
def prob(request: pytest.FixtureRequest) -> Problem:
    return request.param  # type: ignore[no-any-return]


def test_jacobian_matches_truth(name: str, prob: Problem) -> None:
    p = PROVIDERS[name](prob)
    jac = p.jacobian(prob.x)  # type: ignore[attr-defined]
    truth = np.asarray(prob.grad(prob.x), dtype=np.float64)
    assert isinstance(jac, np.ndarray) and jac.dtype == np.float64
    assert jac.shape == truth.shape == (truth.shape[0], np.size(prob.x))
    assert relative_error(jac, truth) <= TOLERANCE[name]
    assert (p.njev, p.ngev) == (1, 0)  # type: ignore[attr-defined]


def test_outputs_and_jacobian_agree_with_each_alone(name: str, prob: Problem) -> None:
    p = PROVIDERS[name](prob)
    f, jac = p.value_and_jacobian(prob.x)  # type: ignore[attr-defined]
    truth = np.asarray(prob.fun(prob.x), dtype=np.float64).reshape(-1)
    np.testing.assert_allclose(f, truth, rtol=VALUE_RTOL.get(name, 1e-15), atol=1e-300)
    np.testing.assert_array_equal(PROVIDERS[name](prob).vector_value(prob.x), f)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(PROVIDERS[name](prob).jacobian(prob.x), jac)  # type: ignore[attr-defined]


def test_cache_counts_and_copies(name: str, prob: Problem) -> None:
    p = PROVIDERS[name](prob)
    f, jac = p.value_and_jacobian(prob.x)  # type: ignore[attr-defined]
    nfev = p.nfev
    f[...], jac[...] = np.nan, np.nan  # the cached ones are untouched
    same = np.array(prob.x, dtype=np.float64)
    f2, jac2 = p.value_and_jacobian(same)  # type: ignore[attr-defined]
    assert np.isfinite(f2).all() and np.isfinite(jac2).all()
    assert (p.nfev, p.njev) == (nfev, 1)  # type: ignore[attr-defined]
    p.jacobian(same * 1.01 + 0.01)  # type: ignore[attr-defined]
    assert p.njev == 2  # type: ignore[attr-defined]
    p.reset_counts()
    assert (p.nfev, p.njev) == (0, 0)  # type: ignore[attr-defined]


def test_outputs_first_then_the_jacobian_reuse_them(name: str, prob: Problem) -> None:
    """As least squares asks: outputs at a point, then the Jacobian there (reused by
    finite differences; autograd's forward mode, chosen once m > d is known, costs d
    traced calls instead of one)."""
    alone = PROVIDERS[name](prob)
    alone.jacobian(prob.x)  # type: ignore[attr-defined]
    p = PROVIDERS[name](prob)
    p.vector_value(prob.x)  # type: ignore[attr-defined]
    assert p.nfev == 1
    p.jacobian(prob.x)  # type: ignore[attr-defined]
    assert p.nfev <= 1 + max(alone.nfev, np.size(prob.x))


@pytest.mark.parametrize("scalar", [PROBLEMS[0], *PROBLEMS[1:3], PROBLEMS[-1]], ids=repr)
def test_a_scalar_function_has_its_gradient_as_a_one_row_jacobian(
    name: str, scalar: Problem
) -> None:
    p = PROVIDERS[name](scalar)
    jac = p.jacobian(scalar.x)  # type: ignore[attr-defined]
    assert jac.shape == (1, np.size(scalar.x))
    assert relative_error(jac[0], np.reshape(scalar.grad(scalar.x), -1)) <= TOLERANCE[name]


def test_autograd_takes_the_cheaper_mode() -> None:
    """Forward mode (d traced calls) for m > d once m is known, reverse (one traced call,
    m backward passes) otherwise."""
    tall = problem("rosen-residuals-d6")  # m = 10 > d = 6
    p = Autograd(autograd_form(tall))
    p.jacobian(tall.x)  # m unknown: reverse
    assert p.nfev == 1
    p.jacobian(tall.x + 0.1)  # m known: forward, d traced calls
    assert p.nfev == 1 + tall.x.size
    wide = problem("two-of-five")  # m = 2 < d = 5
    q = Autograd(autograd_form(wide))
    q.vector_value(wide.x)
    q.jacobian(wide.x)  # reverse: one more traced call
    assert (q.nfev, q.njev) == (2, 1)


def test_bad_jacobians_and_outputs_get_clear_errors() -> None:
    import autograd.numpy as anp

    from gradopt import Analytic, Symbolic
    from gradopt.exceptions import MissingCapabilityError, ObjectiveError

    x = np.array([1.0, 2.0])
    three = Analytic(lambda z: np.array([z[0], z[1], z[0] * z[1]]), jacobian=lambda z: np.eye(2))
    with pytest.raises(ObjectiveError, match=r"shape \(3, 2\).*returned shape \(2, 2\)"):
        three.value_and_jacobian(x)
    none = Analytic(lambda z: np.ones(2), jacobian=lambda z: None)
    with pytest.raises(ObjectiveError, match="returned None"):
        none.jacobian(x)
    with pytest.raises(ObjectiveError, match="no outputs"):
        Analytic(lambda z: np.zeros(0), jacobian=lambda z: np.zeros((0, 2))).vector_value(x)
    with pytest.raises(ObjectiveError, match="no outputs"):
        Autograd(lambda z: anp.zeros(0) * z[0]).jacobian(x)
    with pytest.raises(ObjectiveError, match=r"1-D array.*shape \(2, 2\)"):
        Autograd(lambda z: anp.outer(z, z)).jacobian(x)
    with pytest.raises(MissingCapabilityError, match="Jacobian"):
        Symbolic(["x", "y"], ["x", "y"]).grad(x)
    with pytest.raises(MissingCapabilityError, match="not a gradient: pass grad="):
        Analytic(lambda z: z, jacobian=lambda z: np.eye(2)).grad(x)
    grows = Analytic(lambda z: np.ones(int(z[0])), jacobian=lambda z: np.ones((int(z[0]), 2)))
    grows.vector_value(x)
    with pytest.raises(ObjectiveError, match=r"returned 2 outputs .* but 1 before"):
        grows.vector_value(x + 1)
