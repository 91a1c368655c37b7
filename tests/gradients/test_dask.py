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
from gradopt.exceptions import EvaluationError, NonFiniteEvaluationError

distributed = pytest.importorskip("distributed")

X = np.linspace(-0.9, 1.3, 6)


@pytest.fixture(scope="module")
def dask_executor() -> Iterator[Executor]:
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
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
