"""Finite differences on a Dask cluster: the gradient equals the serial one, bit for bit.

One ``LocalCluster`` (two worker processes) serves the whole module; it takes a second or
two to start. Functions defined here travel by value (cloudpickle), since the workers
cannot import this test module.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pytest

from gradopt import FiniteDifference
from gradopt.exceptions import (
    EvaluationError,
    EvaluationTimeoutError,
    NonFiniteEvaluationError,
    ObjectiveError,
)

distributed = pytest.importorskip("distributed")

X = np.linspace(-0.9, 1.3, 6)


@pytest.fixture(scope="module")
def dask_executor() -> Iterator[Executor]:
    with (
        distributed.LocalCluster(
            # A free port: a fixed one clashes with other clusters on the machine.
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client.get_executor()


def make_objective() -> Any:
    """A closure (so it is shipped by value) that carries complex numbers through."""
    shift = 0.5

    def objective(x: Any) -> Any:
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2) + np.sum(
            np.exp(x - shift) * np.sin(x)
        )

    return objective


@pytest.mark.parametrize("method", ["forward", "central", "complex"])
def test_dask_gradient_is_the_serial_one(dask_executor: Executor, method: str) -> None:
    f = make_objective()
    serial = FiniteDifference(f, method)  # type: ignore[arg-type]
    dask = FiniteDifference(f, method, executor=dask_executor)  # type: ignore[arg-type]
    (f_dask, g_dask), (f_serial, g_serial) = dask.value_and_grad(X), serial.value_and_grad(X)
    assert f_dask == f_serial
    assert np.array_equal(g_dask, g_serial)  # bit for bit
    assert (dask.nfev, dask.ngev) == (serial.nfev, serial.ngev)


def test_dask_failures(dask_executor: Executor) -> None:
    def fails(x: Any) -> float:
        if x[3] != X[3]:
            raise ArithmeticError("solver blew up")
        return float(np.sum(x))

    with pytest.raises(EvaluationError, match="ArithmeticError at coordinate 3") as info:
        FiniteDifference(fails, executor=dask_executor).grad(X)
    assert isinstance(info.value.__cause__, ArithmeticError)

    def nan(x: Any) -> float:
        return float("nan") if x[4] != X[4] else float(np.sum(x))

    with pytest.raises(NonFiniteEvaluationError, match="coordinate 4"):
        FiniteDifference(nan, executor=dask_executor).grad(X)


def test_dask_careless_objectives(dask_executor: Executor) -> None:
    """Values from a Dask worker are checked as value() checks them, naming the point."""
    cases = [(None, "None"), ("5.0", "str"), ({"a": 1.0}, "dict"), (1 + 2j, "complex")]
    cases += [(np.array([1.0, 2.0]), r"shape \(2,\)")]
    for bad, what in cases:

        def careless(x: Any, bad: Any = bad) -> Any:
            return bad if x[2] != X[2] else float(np.sum(x))

        p = FiniteDifference(careless, executor=dask_executor)
        with pytest.raises(ObjectiveError, match=rf"coordinate 2 .*returned .*{what}"):
            p.grad(X)


def test_dask_errors_keep_their_attributes_and_time_out(dask_executor: Executor) -> None:
    class SolverError(Exception):
        def __init__(self, message: str, code: int) -> None:
            super().__init__(message)
            self.code = code

    def fails(x: Any) -> float:
        if x[1] != X[1]:
            raise SolverError("no convergence", code=7)
        return float(np.sum(x))

    with pytest.raises(EvaluationError, match="SolverError at coordinate 1") as info:
        FiniteDifference(fails, executor=dask_executor).grad(X)
    assert info.value.code == 7  # type: ignore[attr-defined]

    def slow(x: Any) -> float:
        import time

        if x[0] != X[0]:
            time.sleep(0.5)  # a Dask task cannot be stopped: keep it short
        return float(np.sum(x))

    with pytest.raises(EvaluationTimeoutError, match=r"timeout=0.1 s at coordinate 0"):
        FiniteDifference(slow, executor=dask_executor, timeout=0.1).grad(X)


def test_dask_jacobians_dense_and_sparse_are_the_serial_ones(dask_executor: Executor) -> None:
    import scipy.sparse as sp

    shift = 0.5

    def banded(x: Any) -> Any:  # f_i depends on x_i and x_{i+1}: 2 groups of columns
        return np.append(np.exp(x[:-1] - shift) * np.sin(x[1:]), x[-1] ** 2)

    structure = sp.csr_array(np.eye(X.size) + np.eye(X.size, k=1))
    for sparsity in (None, structure):
        for method in ("central", "richardson"):
            serial = FiniteDifference(banded, method, sparsity=sparsity)  # type: ignore[arg-type]
            dask = FiniteDifference(banded, method, sparsity=sparsity, executor=dask_executor)  # type: ignore[arg-type]
            (f_dask, j_dask), (f_serial, j_serial) = (
                dask.value_and_jacobian(X),
                serial.value_and_jacobian(X),
            )
            assert np.array_equal(f_dask, f_serial)
            assert (j_dask != j_serial).sum() == 0  # bit for bit (dense or sparse)
            assert (dask.nfev, dask.njev) == (serial.nfev, serial.njev)


def test_dask_jacobian_times_out(dask_executor: Executor) -> None:
    def slow(x: Any) -> Any:
        import time

        if x[2] != X[2]:
            time.sleep(3.0)  # a Dask task cannot be stopped: it runs on, briefly
        return np.sin(x)

    # A margin that a fast task does not reach on a loaded machine (0.1 s did, and 0.5 s
    # once at load 5).
    with pytest.raises(EvaluationTimeoutError, match=r"timeout=1.5 s at coordinate 2"):
        FiniteDifference(slow, executor=dask_executor, timeout=1.5).jacobian(X)
