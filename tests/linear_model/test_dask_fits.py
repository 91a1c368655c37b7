"""HuberRegressor and RobustRegressor on Dask arrays: the fits equal the fits in memory.

One ``LocalCluster`` (two worker processes) serves the module's cluster tests; it takes
a second or two to start. Functions that build data on the workers are closures, so
that they travel by value (the workers cannot import this test module).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gradopt.exceptions import InvalidInputError
from gradopt.linear_model import HuberRegressor, RobustRegressor
from gradopt.linear_model._blocked import RowBlocks
from gradopt.linear_model._moments import combine_moments, moments_block

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
from gradopt.linear_model._dask_blocks import DaskBlocks  # noqa: E402

N, D, CHUNK = 70_000, 4, 10_000  # more than 65,536 rows: the fit starts from a sample


def _data(offset: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D))
    X[:, 0] += offset  # a column like a timestamp
    y = X @ [1.0, -2.0, 0.5, 3.0] + 2.0 + 0.1 * rng.normal(size=N)
    y[: N // 20] += 40.0 * rng.normal(size=N // 20)
    return X, y, rng.uniform(0.5, 2.0, size=N)


def _dask(*arrays: np.ndarray) -> list[Any]:
    return [da.from_array(a, chunks=(CHUNK, *a.shape[1:])) for a in arrays]


def test_without_a_cluster_the_chunks_reduce_on_any_scheduler() -> None:
    """The executor's other path: a task per chunk and a tree, e.g. on threads."""
    X, y, w = _data()
    with dask.config.set(scheduler="threads"):
        blocks = DaskBlocks(*_dask(X, y, w))
        moments = blocks.reduce(moments_block, combine_moments)
    ref = RowBlocks(X, y, w).reduce(moments_block, combine_moments)
    np.testing.assert_allclose(moments.mean, ref.mean, rtol=1e-13)
    np.testing.assert_allclose(moments.spread, ref.spread, rtol=1e-12)
    assert moments.weight == pytest.approx(ref.weight, rel=1e-14)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(  # ":0": a free port (None still binds 8787, which clashes)
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_the_fit_on_a_cluster_is_the_fit_in_memory(client: Any, offset: float) -> None:
    X, y, w = _data(offset)
    ref = HuberRegressor().fit(X, y, sample_weight=w)
    model = HuberRegressor().fit(*_dask(X, y), sample_weight=_dask(w)[0])
    assert model.optimize_result_.success, model.optimize_result_.message
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-8)
    assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-8)
    assert model.scale_ == pytest.approx(ref.scale_, rel=1e-8)
    assert model.n_features_in_ == D
    prediction = model.predict(_dask(X)[0])
    assert isinstance(prediction, da.Array)
    np.testing.assert_allclose(prediction.compute(), ref.predict(X), rtol=1e-9, atol=1e-9)
    assert isinstance(model.outliers_, da.Array)
    np.testing.assert_array_equal(model.outliers_.compute(), ref.outliers_)


def _counted_chunks(folder: Path) -> Callable[..., np.ndarray]:
    def chunk(block_id: Any = None) -> np.ndarray:
        row = block_id[0]
        (folder / f"{row}-{np.random.default_rng().integers(1 << 62)}").touch()
        return np.random.default_rng(row).normal(size=(CHUNK, D))

    return chunk


def test_x_is_computed_once_per_fit(client: Any, tmp_path: Path) -> None:
    """X is built chunk by chunk on the workers and persisted: no chunk twice."""
    X = da.map_blocks(_counted_chunks(tmp_path), dtype=np.float64, chunks=((CHUNK,) * 7, (D,)))
    y = X @ np.arange(1.0, D + 1) + da.random.default_rng(1).normal(size=N, chunks=CHUNK)
    HuberRegressor().fit(X, y)
    built = sorted(path.name.split("-")[0] for path in tmp_path.iterdir())
    assert built == [str(row) for row in range(7)]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda X, y, w: (X, y[:-1], w), "inconsistent numbers of samples"),
        (lambda X, y, w: (X, y, -w), "sample_weight must be non-negative"),
        (lambda X, y, w: (X.astype(bool), y, w), None),
        (lambda X, y, w: (da.where(X > 3, np.nan, X), y, w), "X must be finite"),
        (lambda X, y, w: (X[:, 0], y, w), "2-D dask.array"),
    ],
)
def test_bad_dask_input_is_named(client: Any, change: Any, match: str | None) -> None:
    X, y, w = _dask(*_data()[:3])
    X, y, w = change(X, y, w)
    if match is None:  # booleans are numbers to scikit-learn too: a fit
        HuberRegressor().fit(X, y, sample_weight=w)
        return
    with pytest.raises(InvalidInputError, match=match):
        HuberRegressor().fit(X, y, sample_weight=w)


@pytest.mark.parametrize(
    "params",
    [{}, {"loss": "bisquare", "cov": "H2"}, {"scale": "joint"}, {"solver": "lbfgs"}],
    ids=["huber-mad", "bisquare-mad", "joint", "lbfgs"],
)
def test_robust_fit_on_a_cluster_is_the_fit_in_memory(client: Any, params: dict) -> None:
    """The MAD of all residuals by exact distributed selection: the same scale."""
    X, y, w = _data(1e6)
    ref = RobustRegressor(**params).fit(X, y, sample_weight=w)
    model = RobustRegressor(**params).fit(*_dask(X, y), sample_weight=_dask(w)[0])
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-8)
    assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-8)
    assert model.scale_ == pytest.approx(ref.scale_, rel=1e-8)
    np.testing.assert_allclose(model.bse_, ref.bse_, rtol=1e-6)
    np.testing.assert_allclose(model.weights_.compute(), ref.weights_, atol=1e-8)
    np.testing.assert_array_equal(model.outliers_.compute(), ref.outliers_)
    assert isinstance(model.predict(_dask(X)[0]), da.Array)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"method": "MM"}, "method='MM' needs the data in memory"),
        ({"scale": "huber"}, "scale='huber' needs the data in memory"),
        ({"gradient": "autograd"}, "gradient='autograd' needs the data in memory"),
        ({"gradient": "jax"}, "gradient='jax' needs the data in memory"),
    ],
)
def test_robust_settings_that_need_memory_are_named(params: dict, match: str) -> None:
    X, y, _ = _data()
    with pytest.raises(InvalidInputError, match=match):
        RobustRegressor(**params).fit(*_dask(X, y))


def test_the_jax_gradient_needs_the_data_in_memory(client: Any) -> None:
    pytest.importorskip("jax")
    X, y, _ = _data()
    with pytest.raises(InvalidInputError, match="gradient='jax' needs the data in memory"):
        HuberRegressor(gradient="jax").fit(*_dask(X, y))
