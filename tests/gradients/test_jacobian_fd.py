"""Jacobians by finite differences: every method, sparse groups, fixed variables, every
evaluator (bit for bit), and clear errors for bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from gradopt import FiniteDifference
from gradopt.exceptions import (
    EvaluationTimeoutError,
    InvalidInputError,
    MissingCapabilityError,
    ObjectiveError,
)
from gradopt.gradients._groups import group_columns

EPS = float(np.finfo(np.float64).eps)
X = np.linspace(-0.9, 1.3, 7)


def residuals(x: Any) -> Any:
    """Rosenbrock's residuals and a dense row; the last axis holds the coordinates."""
    dense = np.sum(np.exp(x) * np.sin(x), axis=-1)[..., None]
    return np.concatenate([10 * (x[..., 1:] - x[..., :-1] ** 2), 1 - x[..., :-1], dense], -1)


def residuals_jac(x: np.ndarray) -> np.ndarray:
    d = x.size
    top = 10 * (np.eye(d - 1, d, k=1) - 2 * np.eye(d - 1, d) * x[:-1, None])
    return np.vstack([top, -np.eye(d - 1, d), np.exp(x) * (np.sin(x) + np.cos(x))])


def tridiagonal(x: Any) -> Any:
    """f_i = exp(x_i) + sin(x_i) - x_{i-1} x_{i+1}^2 (x_{-1} = x_d = 0): banded, elementwise."""
    pad = np.zeros((*np.shape(x)[:-1], 1), dtype=np.result_type(x, float))
    left = np.concatenate([pad, x[..., :-1]], -1)
    right = np.concatenate([x[..., 1:], pad], -1)
    return np.exp(x) + np.sin(x) - left * right**2


def tridiagonal_jac(x: np.ndarray) -> np.ndarray:
    d = x.size
    left, right = np.r_[0.0, x[:-1]], np.r_[x[1:], 0.0]
    jac = np.diag(np.exp(x) + np.cos(x))
    jac[np.arange(1, d), np.arange(d - 1)] = -(right[1:] ** 2)  # d f_i / d x_{i-1}
    jac[np.arange(d - 1), np.arange(1, d)] = -2 * left[:-1] * right[:-1]  # d f_i / d x_{i+1}
    return jac


def band(d: int) -> sp.csr_array:
    return sp.csr_array(np.eye(d) + np.eye(d, k=1) + np.eye(d, k=-1))


# Relative to the largest entry: one-sided O(sqrt(eps)), central O(eps^(2/3)), complex exact.
RTOL = {"forward": 1e-6, "backward": 1e-6, "central": 1e-9, "complex": 1e-14}


@pytest.mark.parametrize("method", [*RTOL, "richardson"])
def test_jacobian_of_every_method_against_the_exact_one(method: str) -> None:
    p = FiniteDifference(residuals, method)  # type: ignore[arg-type]
    truth = residuals_jac(X)
    if method == "richardson":
        jac, err = p.jacobian_and_error(X)
        assert np.all(np.abs(jac - truth) <= err)  # honest
        assert np.max(err) < 1e-9 * np.max(np.abs(truth))
    else:
        jac = p.jacobian(X)
        assert np.max(np.abs(jac - truth)) <= RTOL[method] * np.max(np.abs(truth))
    assert jac.shape == (2 * X.size - 1, X.size)
    assert p.njev == 1 and p.ngev == 0


def test_counts_and_the_cache_follow_scipy() -> None:
    p = FiniteDifference(residuals, "forward")
    fx = p.vector_value(X)
    np.testing.assert_array_equal(fx, residuals(X))
    f2, jac = p.value_and_jacobian(X)  # f(x) is reused: d more calls
    assert p.nfev == 1 + X.size and p.njev == 1
    np.testing.assert_array_equal(f2, fx)
    np.testing.assert_array_equal(p.jacobian(X), jac)  # cached
    assert p.nfev == 1 + X.size and p.njev == 1
    central = FiniteDifference(residuals)
    central.value_and_jacobian(X)
    assert central.nfev == 2 * X.size + 1
    p.jacobian(X + 0.5)
    assert (p.nfev, p.njev) == (2 + 2 * X.size, 2)


def test_a_scalar_function_has_a_one_row_jacobian() -> None:
    p = FiniteDifference(lambda x: float(np.sum(x**2)))
    jac = p.jacobian(np.array([1.0, 2.0]))
    assert jac.shape == (1, 2)
    np.testing.assert_allclose(jac[0], p.grad(np.array([1.0, 2.0])), rtol=0)


@pytest.mark.parametrize("method", ["forward", "backward", "central", "complex", "richardson"])
def test_grouped_sparse_jacobian_equals_the_dense_one(method: str) -> None:
    d = 40
    x = np.linspace(-1.0, 1.0, d)
    dense = FiniteDifference(tridiagonal, method)  # type: ignore[arg-type]
    sparse = FiniteDifference(tridiagonal, method, sparsity=band(d))  # type: ignore[arg-type]
    jac = sparse.jacobian(x)
    assert isinstance(jac, sp.csr_array) and jac.nnz == 3 * d - 2
    # Each output depends on one coordinate of each group: the same values, bit for bit.
    assert np.array_equal(jac.toarray(), dense.jacobian(x))
    points_per_group = {"forward": 1, "backward": 1, "central": 2, "complex": 1}
    if method == "richardson":
        assert 10 * 3 <= sparse.nfev <= dense.nfev / (d / 3)
        jac_err = sparse.jacobian_and_error(x)[1]
        assert sp.issparse(jac_err) and jac_err.nnz == jac.nnz
        assert np.all(np.abs(jac.toarray() - tridiagonal_jac(x)) <= jac_err.toarray())
    else:  # 3 groups, plus f(x) for one-sided differences
        one_sided = method in ("forward", "backward")
        assert sparse.nfev == 3 * points_per_group[method] + one_sided
        assert dense.nfev == d * points_per_group[method] + one_sided


def test_a_banded_jacobian_at_d_1000_costs_a_handful_of_calls() -> None:
    d = 1000
    x = np.linspace(-1.0, 1.0, d)
    p = FiniteDifference(tridiagonal, sparsity=band(d))
    jac = p.jacobian(x)
    assert p.nfev == 6  # 3 groups, 2 points each: instead of 2000
    err = np.abs(jac - sp.csr_array(tridiagonal_jac(x))).max()
    assert err < 1e-9 * np.max(np.abs(tridiagonal_jac(x)))


def test_groups_are_independent_and_as_few_as_scipy_finds() -> None:
    rng = np.random.default_rng(1)
    for structure in (band(12).toarray(), rng.random((30, 20)) < 0.15, np.eye(5), np.ones((3, 4))):
        groups = group_columns(structure)
        for g in np.unique(groups):  # no row is shared within a group
            assert np.all(np.asarray(structure)[:, groups == g].sum(axis=1) <= 1)
        numdiff = pytest.importorskip("scipy.optimize._numdiff")  # scipy's own, private
        order = np.arange(structure.shape[1])
        assert groups.max() + 1 == numdiff.group_columns(structure, order).max() + 1


def test_fixed_variables_are_left_out() -> None:
    seen: list[np.ndarray] = []

    def f(x: np.ndarray) -> np.ndarray:
        seen.append(x.copy())
        return residuals(x)

    x = np.array([0.3, 0.5, -0.2, 0.8])
    box = [(-1, 1), (0.5, 0.5), (-1, 1), (0.8, 0.8)]  # x[1] and x[3] fixed
    p = FiniteDifference(f, "central", bounds=box)
    jac = p.jacobian(x)
    assert p.nfev == 2 * 2  # only the two free coordinates move
    assert all(pt[1] == 0.5 and pt[3] == 0.8 for pt in seen)
    np.testing.assert_array_equal(jac[:, [1, 3]], 0.0)
    np.testing.assert_allclose(jac[:, [0, 2]], residuals_jac(x)[:, [0, 2]], atol=1e-9)
    # A gradient too, and with every coordinate fixed: nothing moves, f(x) gives m.
    g = FiniteDifference(lambda z: float(np.sum(z**2)), bounds=box).grad(x)
    np.testing.assert_allclose(g, [0.6, 0.0, -0.4, 0.0], atol=1e-9)
    q = FiniteDifference(residuals, "forward", bounds=[(v, v) for v in x])
    assert q.jacobian(x).shape == (7, 4) and q.nfev == 1 and not q.jacobian(x).any()


@pytest.mark.parametrize(
    "mode", ["threads", "user processes", "workers=2", "workers+timeout", "vectorized"]
)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_parallel_jacobians_equal_serial_ones_bit_for_bit(
    mode: str, sparse: bool, request: Any
) -> None:
    kwargs: dict[str, Any] = {"sparsity": band(X.size) if sparse else None}
    fun = tridiagonal if sparse else residuals
    if mode == "threads":
        kwargs["executor"] = request.getfixturevalue("threads")
    elif mode == "user processes":
        kwargs["executor"] = request.getfixturevalue("processes")
    elif mode.startswith("workers"):
        kwargs.update(workers=2, timeout=30.0 if "timeout" in mode else None)
    else:
        kwargs["vectorized"] = True
    for method in ("forward", "complex", "richardson"):
        serial = FiniteDifference(fun, method, sparsity=kwargs["sparsity"])  # type: ignore[arg-type]
        with FiniteDifference(fun, method, **kwargs) as par:  # type: ignore[arg-type]
            f, jac = par.value_and_jacobian(X)
            f_ref, jac_ref = serial.value_and_jacobian(X)
            assert np.array_equal(f, f_ref)
            dense = jac.toarray() if sparse else jac
            assert np.array_equal(dense, jac_ref.toarray() if sparse else jac_ref)
            assert (par.nfev, par.njev) == (serial.nfev, serial.njev)


def test_bounds_keep_jacobian_points_inside() -> None:
    def guarded(x: np.ndarray) -> np.ndarray:
        assert np.all(x >= 0.0) and np.all(x <= 1.0), x
        return tridiagonal(x)

    x = np.array([0.0, 0.5, 1.0, 1.0 - 1e-9])
    for method in ("forward", "central"):
        jac = FiniteDifference(guarded, method, bounds=[(0.0, 1.0)] * 4).jacobian(x)  # type: ignore[arg-type]
        np.testing.assert_allclose(jac, tridiagonal_jac(x), atol=1e-6)


def test_bad_input_gets_clear_errors() -> None:
    with pytest.raises(ObjectiveError, match="no outputs"):
        FiniteDifference(lambda x: np.zeros(0)).jacobian(X)
    with pytest.raises(ObjectiveError, match=r"1-D array.*shape \(2, 2\)"):
        FiniteDifference(lambda x: np.ones((2, 2))).jacobian(np.ones(2))
    with pytest.raises(ObjectiveError, match="must return a scalar"):
        FiniteDifference(residuals).grad(X)  # a vector function asked for a gradient
    with pytest.raises(InvalidInputError, match=r"sparsity has shape \(7, 7\) but the Jacobian"):
        FiniteDifference(residuals, sparsity=band(7)).jacobian(X)
    with pytest.raises(InvalidInputError, match=r"sparsity has shape \(7, 7\) but.*\(m, 5\)"):
        FiniteDifference(tridiagonal, sparsity=band(7)).jacobian(np.ones(5))
    with pytest.raises(InvalidInputError, match=r"option 'sparsity'.*2-D"):
        FiniteDifference(residuals, sparsity=np.ones(3))
    with pytest.raises(InvalidInputError, match=r"option 'sparsity'.*dtype"):
        FiniteDifference(residuals, sparsity=np.array([["a"]]))
    with pytest.raises(MissingCapabilityError, match="no error estimate"):
        FiniteDifference(residuals).jacobian_and_error(X)
    calls: list[int] = []

    def grows(x: np.ndarray) -> np.ndarray:
        calls.append(1)
        return np.ones(3 if len(calls) == 1 else 4)

    p = FiniteDifference(grows, "forward")
    p.vector_value(X)
    with pytest.raises(ObjectiveError, match=r"returned 4 outputs.*but 3 before"):
        p.jacobian(X + 1)


def test_outputs_of_different_lengths_at_the_points_are_named() -> None:
    def ragged(x: np.ndarray) -> np.ndarray:
        return np.ones(3 if x[2] == X[2] else 2)

    with pytest.raises(
        ObjectiveError, match=r"coordinate 2 .* returned 2 outputs, but 3 at coordinate 0"
    ):
        FiniteDifference(ragged).jacobian(X)


def hangs_at_coordinate_3(x: np.ndarray) -> np.ndarray:
    if x[3] != X[3]:
        import time

        time.sleep(60)
    return np.sin(x)


def test_a_hung_jacobian_evaluation_times_out_and_values_run_on_the_workers() -> None:
    with FiniteDifference(hangs_at_coordinate_3, workers=2, timeout=0.5) as p:
        np.testing.assert_array_equal(p.vector_value(X), np.sin(X))  # on a worker
        with pytest.raises(EvaluationTimeoutError, match=r"timeout=0.5 s at coordinate 3"):
            p.jacobian(X)
        assert p.nfev >= 1 + 3
