"""What only the JAX provider needs checked: compilation, float64, tracing failures, data.

The contract every provider keeps (values, gradients, hessp, jvp, cache, counts, threads)
runs on Jax through the registry in :mod:`tests.forms`.
"""

from __future__ import annotations

import pickle
import sys
from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax")  # the `jax` extra (part of `test`)
jnp = jax.numpy

from scipy.optimize import rosen, rosen_der, rosen_hess_prod  # noqa: E402

from gradopt import Analytic, Jax, check_gradient, minimize  # noqa: E402
from gradopt.exceptions import (  # noqa: E402
    BackendUnavailableError,
    InvalidInputError,
    JaxTraceError,
    ObjectiveError,
)
from gradopt.optimizers import available_methods  # noqa: E402


def jrosen(x: Any) -> Any:
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_one_compilation_per_shape_and_program() -> None:
    """Each program (value and gradient, value, hessp, jvp) is traced once per shape of
    x, whatever the number of points; a second provider of the same function reuses it."""
    traces: list[tuple[int, ...]] = []

    def f(x: Any) -> Any:
        traces.append(x.shape)  # runs only while JAX traces f
        return jnp.sum(jnp.sin(x) * x)

    p = Jax(f)
    for k in range(5):
        p.value_and_grad(np.full(3, 0.1 * k))
    assert traces == [(3,)]
    for k in range(5):
        p.value_and_grad(np.full(4, 0.1 * k))
        p.value(np.full(4, 0.2 * k))
    assert traces == [(3,), (4,), (4,)]  # (4,): value and gradient, then value alone
    for k in range(3):
        p.hessp(np.full(3, 0.1 * k), np.ones(3))
        p.jvp(np.full(3, 0.1 * k), np.ones(3))
    assert len(traces) == 5
    Jax(f).value_and_grad(np.full(3, 7.0))
    assert len(traces) == 5


def test_float64_without_changing_the_global_configuration() -> None:
    """x64 off (JAX's default): values and gradients are float64 all the same, exact to
    rounding, and the user's configuration is left as it was."""
    x = np.tile([-1.2, 1.0], 50) + 1e-9  # float32 could not even hold this point
    with jax.enable_x64(False):  # JAX's default, whatever JAX_ENABLE_X64 says here
        f, g = Jax(jrosen).value_and_grad(x)
        assert not jax.config.jax_enable_x64
        assert jnp.ones(2).dtype == jnp.float32  # the user's own JAX code: still float32
    assert f == pytest.approx(rosen(x), rel=1e-14)
    np.testing.assert_allclose(g, rosen_der(x), rtol=1e-13)
    assert g.dtype == np.float64


def test_float64_with_x64_enabled_globally() -> None:
    with jax.enable_x64(True):
        f, g = Jax(jrosen).value_and_grad(np.ones(4) * 1.5)
    assert f == rosen(np.ones(4) * 1.5)
    np.testing.assert_allclose(g, rosen_der(np.ones(4) * 1.5), rtol=1e-14)


def test_a_function_casting_to_float32_is_refused() -> None:
    p = Jax(lambda x: jnp.sum(x.astype(jnp.float32) ** 2))
    with pytest.raises(ObjectiveError, match=r"returned a float32 value at x = \[1.0, 2.0\]"):
        p.value_and_grad(np.array([1.0, 2.0]))


def _python_if(x: Any) -> Any:
    return jnp.sum(x) if x[0] > 0 else -jnp.sum(x)


def _numpy_call(x: Any) -> Any:
    return np.sum(np.sin(x))


def _float_of_traced(x: Any) -> Any:
    return float(x[0]) * jnp.sum(x)


def _assigns(x: Any) -> Any:
    x[0] = 1.0
    return jnp.sum(x)


@pytest.mark.parametrize(
    ("fun", "advice"),
    [
        (_python_if, r"Python if .* jnp\.where, jax\.lax\.cond .* Jax\(fun, jit=False\)"),
        (_numpy_call, r"calls NumPy .* jax\.numpy \(import jax\.numpy as jnp\)"),
        (_float_of_traced, r"float\(\), int\(\), \.item\(\)"),
        (_assigns, r"assigns into an array.* x\.at\[i\]\.set\(v\)"),
    ],
    ids=["python-if", "numpy", "float", "assignment"],
)
def test_untraceable_functions_are_explained(fun: Any, advice: str) -> None:
    p = Jax(fun)
    for call in ("value_and_grad", "value"):
        with pytest.raises(JaxTraceError, match=advice) as info:
            getattr(p, call)(np.array([1.0, 2.0]))
        assert isinstance(info.value, TypeError) and info.value.__cause__ is not None
    with pytest.raises(JaxTraceError):
        p.hessp(np.array([1.0, 2.0]), np.ones(2))


def test_without_jit_python_control_flow_works() -> None:
    p = Jax(_python_if, jit=False)
    np.testing.assert_array_equal(p.grad(np.array([1.0, 2.0])), [1.0, 1.0])
    np.testing.assert_array_equal(p.grad(np.array([-1.0, 2.0])), [-1.0, -1.0])


@pytest.mark.parametrize(
    ("fun", "named"),
    [
        (lambda x: None, r"returned None at x = \[1.0, 2.0\]\. Is a return statement missing"),
        (lambda x: x * 2.0, r"returned an array of shape \(2,\) at x = \[1.0, 2.0\]"),
        (lambda x: [jnp.sum(x)], r"returned a list of 1 item at x"),
        (lambda x: "1.0", r"returned a str \('1.0'\) at x"),
        (lambda x: jnp.sum(x) * 1j, r"returned an array of dtype complex128 at x"),
        (lambda x: jnp.sum(x > 0), r"returned an array of dtype int"),
    ],
    ids=["None", "vector", "list", "str", "complex", "int"],
)
def test_unusable_values_are_named_with_the_point(fun: Any, named: str) -> None:
    p = Jax(fun)
    for call in (p.value_and_grad, p.value):
        with pytest.raises(ObjectiveError, match=named):
            call(np.array([1.0, 2.0]))


def test_data_as_arguments() -> None:
    """args are passed to the compiled program (not compiled into it), not differentiated."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 3)), rng.standard_normal(50)

    def loss(w: Any, X: Any, y: Any) -> Any:
        return jnp.sum((X @ w - y) ** 2)

    p = Jax(loss, args=(X, y))
    w = np.array([0.5, -1.0, 2.0])
    f, g = p.value_and_grad(w)
    assert f == pytest.approx(np.sum((X @ w - y) ** 2), rel=1e-14)
    np.testing.assert_allclose(g, 2 * X.T @ (X @ w - y), rtol=1e-13)
    np.testing.assert_allclose(p.hessp(w, np.ones(3)), 2 * X.T @ X @ np.ones(3), rtol=1e-13)
    q = Jax(loss, args=(X, y + 1.0))  # same program, other data: no new compilation
    assert q.value(w) == pytest.approx(np.sum((X @ w - y - 1.0) ** 2), rel=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"jit": "yes"}, "jit must be True or False"), ({"args": 3}, "args must be a tuple")],
)
def test_bad_options(kwargs: Any, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        Jax(jrosen, **kwargs)


def test_without_jax_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jax", None)  # `import jax` now raises ImportError
    with pytest.raises(BackendUnavailableError, match=r"pip install 'gradopt\[jax\]'"):
        Jax(jrosen)


def test_pickles() -> None:
    p = Jax(jrosen)
    p.value_and_grad(np.ones(3))
    q = pickle.loads(pickle.dumps(p))
    assert q.value_and_grad(np.ones(3) * 2)[0] == rosen(np.ones(3) * 2)


def test_check_gradient_accepts_the_jax_gradient() -> None:
    x = np.tile([-1.2, 1.0], 5)
    assert check_gradient(rosen, Jax(jrosen).grad, x).ok


GRADIENT_METHODS = [
    m for m in available_methods() if m not in ("Nelder-Mead", "Powell", "COBYLA", "COBYQA")
]


@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_every_optimizer(method: str) -> None:
    """Jax takes the same path as the exact hand-written derivatives (Newton-CG and the
    trust methods through hessp); the counts are the provider's."""
    x0 = np.tile([-1.2, 1.0], 2)
    p = Jax(jrosen)
    res = minimize(p, x0, method)
    ref = minimize(Analytic(rosen, rosen_der, rosen_hess_prod), x0, method)
    assert (res.success, res.status) == (ref.success, ref.status), res.message
    # Loose stopping tests (CG, TNC, gradient descent) end wherever rounding tips them:
    # as close to the minimizer (1, ..., 1) as the exact derivatives get, within 1e-4.
    ref_error = np.max(np.abs(ref.x - 1.0))
    np.testing.assert_allclose(res.x, np.ones(4), rtol=0, atol=max(1e-4, 10 * ref_error))
    assert abs(res.nit - ref.nit) <= max(2, ref.nit // 4)
    assert (res.nfev, res.njev, res.nhev) == (p.nfev, p.ngev, p.nhev)
    assert (res.nhev > 0) == (ref.nhev > 0)


def test_shared_programs_do_not_keep_the_function_alive() -> None:
    """Compiled programs are cached per function, weakly: they go when the function goes."""
    import gc
    import weakref

    def make() -> Any:
        return lambda x: jnp.sum(x**2)

    f = make()
    alive = weakref.ref(f)
    Jax(f).value_and_grad(np.ones(3))
    del f
    gc.collect()
    assert alive() is None


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"fit_intercept": False},
        {"solver": "BFGS"},  # sigma through its logarithm
        {"alpha": 10.0, "epsilon": 1.1},
    ],
    ids=["default", "no-intercept", "log-sigma", "penalty"],
)
def test_huber_regressor_with_jax_gradients(params: dict[str, Any]) -> None:
    """gradient="jax" fits what the hand-derived gradient fits (same objective)."""
    from gradopt.linear_model import HuberRegressor
    from gradopt.linear_model._blocked import RowBlocks
    from gradopt.linear_model._huber_objective import HuberObjective
    from gradopt.linear_model._huber_strategies import GRADIENTS

    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 4)) * [1.0, 10.0, 0.1, 1e3]
    y = X @ [1.0, -0.2, 5.0, 1e-3] + 0.1 * rng.standard_normal(300)
    y[:15] += 50.0 * rng.standard_normal(15)
    weights = rng.uniform(0.5, 2.0, 300)
    jax_fit = HuberRegressor(gradient="jax", **params).fit(X, y, sample_weight=weights)
    ref = HuberRegressor(gradient="analytic", **params).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(jax_fit.coef_, ref.coef_, rtol=1e-6, atol=1e-9)
    assert jax_fit.scale_ == pytest.approx(ref.scale_, rel=1e-6)
    # and the objective itself, at points away from the optimum
    objective = HuberObjective(
        RowBlocks(X, y, weights), epsilon=1.35, alpha=1e-4, fit_intercept=True, log_sigma=False
    )
    provider = GRADIENTS["jax"](objective)
    for v in (objective.start(), objective.start() + 0.3):
        f, g = provider.value_and_grad(v)
        f0, g0 = objective.value_and_grad(v)
        assert f == pytest.approx(f0, rel=1e-12)
        np.testing.assert_allclose(g, g0, rtol=1e-10, atol=1e-12 * np.max(np.abs(g0)))


def test_huber_regressor_with_jax_on_sparse_x() -> None:
    """A sparse X is made dense in the JAX path's one copy of X: the fit is the dense
    fit; a copy that cannot be allocated is refused by name."""
    import scipy.sparse as sp

    from gradopt.linear_model import HuberRegressor
    from gradopt.linear_model._jax_data import aligned_copy

    X = sp.random(200, 3, density=0.5, format="csr", random_state=0)
    y = X @ np.array([1.0, -2.0, 0.5]) + np.random.default_rng(0).standard_normal(200)
    sparse = HuberRegressor(gradient="jax").fit(X, y)
    dense = HuberRegressor(gradient="jax").fit(X.toarray(), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-12)
    with pytest.raises(InvalidInputError, match=r"gradient='jax' works on a dense copy"):
        aligned_copy(sp.csr_matrix((10**6, 10**8)))  # 745 TiB
