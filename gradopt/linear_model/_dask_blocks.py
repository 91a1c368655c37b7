"""The Dask executor of the row-block reduction: X stays on the workers.

:class:`DaskBlocks` holds row-chunked ``dask.array`` s ``X``, ``y`` and (optionally)
``sample_weight``, persisted once (on a ``distributed`` cluster: in the workers'
memory). Each chunk is reduced by the in-memory executor
:class:`~gradopt.linear_model._blocked.RowBlocks` over its rows (cache-sized blocks,
the same block functions), and only the chunks' parts, vectors of the size of ``w``,
travel to the client, which combines them in the order of the rows: the result is the
same wherever the chunks live, run after run.

- On a ``distributed`` cluster (a ``Client`` is the default scheduler), one task per
  worker thread reduces the chunks that worker holds (found once, after persisting): an
  evaluation is a handful of tasks, not one per chunk, which keeps its fixed cost to
  milliseconds.
- On any other Dask scheduler, one task per chunk.

:meth:`~DaskBlocks.map` gives a Dask array (one value per row) without computing it.
Dask is imported only when this module is used (the ``dask`` extra).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError
from gradopt.linear_model._blocked import BLOCK_ELEMENTS, RowBlocks, add

__all__ = ["DaskBlocks", "dask_predict", "is_dask_array"]


def _dask() -> Any:
    """The ``dask`` module, imported on first use (typed loosely: Dask is untyped)."""
    import dask

    return dask


def _da() -> Any:
    """The ``dask.array`` module, imported on first use."""
    import dask.array

    return dask.array


def is_dask_array(data: Any) -> bool:
    """Whether `data` is a ``dask.array.Array`` (without importing Dask otherwise)."""
    if not type(data).__module__.startswith("dask."):
        return False
    return isinstance(data, _da().Array)


def _reduce_chunk(
    fn: Callable[..., Any],
    combine: Callable[[Any, Any], Any],
    elements: int,
    X: Any,
    y: FloatArray,
    sample_weight: FloatArray | None,
) -> Any:
    """One chunk's part: the in-memory reduction over its rows."""
    return RowBlocks(X, y, sample_weight).reduce(fn, combine, elements)


def _reduce_chunks(
    fn: Callable[..., Any], combine: Callable[[Any, Any], Any], elements: int, *chunks: Any
) -> list[Any]:
    """One task's parts: the in-memory reduction over each of its chunks, ``(X, y, w)``
    in turn."""
    return [
        _reduce_chunk(fn, combine, elements, *chunks[i : i + 3]) for i in range(0, len(chunks), 3)
    ]


def _distributed_client() -> Any:
    """The default ``distributed.Client``, or None: no cluster, or another scheduler
    chosen with ``dask.config.set(scheduler=...)``."""
    if _dask().config.get("scheduler", None) not in (None, "dask.distributed"):
        return None
    try:
        distributed: Any = importlib.import_module("distributed")
    except ImportError:  # pragma: no cover - dask without distributed
        return None
    try:
        return distributed.default_client()
    except ValueError:
        return None


def _task_groups(client: Any, arrays: list[Any]) -> list[tuple[str, list[int], list[Any]]]:
    """``(worker, chunk numbers, [X_i, y_i, w_i, X_j, ...])`` per task: the chunks each
    worker holds, shared round-robin among its threads, in the order of the rows."""
    distributed: Any = importlib.import_module("distributed")
    futures = {future.key: future for future in distributed.futures_of(arrays)}
    distributed.wait(list(futures.values()))  # persisting runs in the background
    keys = [
        [row[0] if isinstance(row, list) else row for row in a.__dask_keys__()] for a in arrays
    ]
    chunks = [[futures[key] for key in column] for column in zip(*keys, strict=True)]
    holders = client.who_has([chunk[0] for chunk in chunks])
    threads = client.nthreads()
    groups: dict[tuple[str, int], tuple[list[int], list[Any]]] = {}
    seen: dict[str, int] = {}
    for number, chunk in enumerate(chunks):
        worker = sorted(holders[chunk[0].key])[0]
        slot = seen.get(worker, 0)
        seen[worker] = slot + 1
        numbers, args = groups.setdefault((worker, slot % threads.get(worker, 1)), ([], []))
        numbers.append(number)
        args.extend(chunk)
    return [(worker, numbers, args) for (worker, _), (numbers, args) in groups.items()]


def _map_chunk(
    fn: Callable[..., Any],
    dtype: Any,
    elements: int,
    X: Any,
    y: FloatArray,
    sample_weight: FloatArray | None = None,
) -> Any:
    return RowBlocks(X, y, sample_weight).map(fn, dtype, elements)


def _as_float_dask(name: str, data: Any, ndim: int, chunks: Any = None) -> Any:
    """`data` as a float64 Dask array of `ndim` dimensions (numpy data is wrapped)."""
    da = _da()
    if not is_dask_array(data):
        data = np.asarray(data)
        if chunks is None:
            raise InvalidInputError(f"{name} must be a dask.array when X is one.")
        data = da.from_array(data, chunks=chunks)
    if data.ndim != ndim:
        raise InvalidInputError(
            f"{name} must be a {ndim}-D dask.array; got {data.ndim} dimension(s), shape "
            f"{data.shape}."
        )
    if data.dtype.kind not in "biuf":
        raise InvalidInputError(f"{name} must hold real numbers; got dtype {data.dtype}.")
    if any(np.isnan(size) for size in data.shape):
        raise InvalidInputError(
            f"{name} has unknown chunk sizes (shape {data.shape}); call "
            f"{name}.compute_chunk_sizes() first."
        )
    return data.astype(np.float64)


def _check_weights(sample_weight: Any) -> None:
    """Refuse negative or non-finite weights, as scikit-learn does in memory."""
    da = _da()
    lowest, finite = _dask().compute(sample_weight.min(), da.isfinite(sample_weight).all())
    if not finite:
        raise InvalidInputError("sample_weight must be finite; it holds NaN or infinity.")
    if lowest < 0:
        raise InvalidInputError(
            f"sample_weight must be non-negative; its smallest value is {float(lowest):.3g}."
        )


def _predict_chunk(coef: FloatArray, intercept: float, X: Any) -> FloatArray:
    result: FloatArray = np.asarray(X @ coef) + intercept
    return result


def dask_predict(X: Any, coef: FloatArray, intercept: float, n_features: int) -> Any:
    """``X @ coef + intercept`` for a Dask array `X`, as a lazy Dask array.

    Examples
    --------
    >>> import dask.array as da
    >>> X = da.from_array(np.arange(6.0).reshape(3, 2), chunks=(2, 1))
    >>> dask_predict(X, np.array([1.0, -1.0]), 0.5, 2).compute()
    array([-0.5, -0.5, -0.5])
    """
    X = _as_float_dask("X", X, 2)
    if X.shape[1] != n_features:
        raise InvalidInputError(
            f"X has {X.shape[1]} features, but the model was fitted with {n_features}."
        )
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    chunk = functools.partial(_predict_chunk, np.asarray(coef, dtype=np.float64), intercept)
    return X.map_blocks(chunk, drop_axis=1, dtype=np.float64)


def _with_none(args: list[Any]) -> list[Any]:
    """``[X_0, y_0, X_1, y_1, ...]`` as ``[X_0, y_0, None, X_1, y_1, None, ...]``."""
    return [item for i in range(0, len(args), 2) for item in (args[i], args[i + 1], None)]


class DaskBlocks:
    """Row-chunked Dask arrays as blocks of the reduction, persisted once.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Rechunked to one chunk across the columns if needed.
    y : dask.array.Array or array-like of shape (n_samples,)
        Brought to the row chunks of X.
    sample_weight : dask.array.Array, array-like of shape (n_samples,) or None

    Raises
    ------
    gradopt.exceptions.InvalidInputError
        When the arrays are not numeric, have the wrong dimensions, unknown chunk sizes
        or different numbers of rows.

    Examples
    --------
    >>> import dask.array as da
    >>> X = da.from_array(np.arange(12.0).reshape(6, 2), chunks=(2, 2))
    >>> blocks = DaskBlocks(X, da.ones(6, chunks=3), None)
    >>> blocks.reduce(lambda X_b, y_b, sw_b: X_b.sum(axis=0) + y_b.sum())
    array([36., 42.])
    >>> blocks.map(lambda X_b, y_b, sw_b: X_b[:, 0] * y_b).compute()
    array([ 0.,  2.,  4.,  6.,  8., 10.])
    """

    in_memory = False
    sparse = False

    def __init__(self, X: Any, y: Any, sample_weight: Any) -> None:
        X = _as_float_dask("X", X, 2)
        if X.numblocks[1] > 1:
            X = X.rechunk({1: -1})
        rows = X.chunks[0]
        y = _as_float_dask("y", y, 1, rows)
        arrays = {"y": y}
        if sample_weight is not None:
            arrays["sample_weight"] = _as_float_dask("sample_weight", sample_weight, 1, rows)
        for name, array in arrays.items():
            if array.shape[0] != X.shape[0]:
                raise InvalidInputError(
                    f"X and {name} have inconsistent numbers of samples: {X.shape[0]} and "
                    f"{array.shape[0]}."
                )
        aligned = [array.rechunk((rows,)) for array in arrays.values()]
        persisted = _dask().persist(X, *aligned)
        self.X, self.y = persisted[0], persisted[1]
        self.sample_weight = persisted[2] if len(persisted) > 2 else None
        if self.sample_weight is not None:
            _check_weights(self.sample_weight)
        self.n_samples, self.n_features = (int(size) for size in self.X.shape)
        self._client = _distributed_client()
        if self._client is not None:
            held = [self.X, self.y] + ([] if self.sample_weight is None else [self.sample_weight])
            self._groups = _task_groups(self._client, held)
            if self.sample_weight is None:  # no weights: None in each chunk's place
                self._groups = [(w, k, _with_none(args)) for w, k, args in self._groups]
        self._chunks = list(
            zip(
                self.X.to_delayed()[:, 0],
                self.y.to_delayed(),
                [None] * len(rows)
                if self.sample_weight is None
                else self.sample_weight.to_delayed(),
                strict=True,
            )
        )

    def reduce(
        self,
        fn: Callable[..., Any],
        combine: Callable[[Any, Any], Any] = add,
        elements: int = BLOCK_ELEMENTS,
    ) -> Any:
        """The chunks' parts, combined on the client in the order of the rows."""
        if self._client is not None:
            parts = self._parts_on_cluster(fn, combine, elements)
        else:
            dask = _dask()
            task = dask.delayed(_reduce_chunk, pure=False)
            parts = dask.compute(*[task(fn, combine, elements, *chunk) for chunk in self._chunks])
        return functools.reduce(combine, parts)

    def _parts_on_cluster(
        self, fn: Callable[..., Any], combine: Callable[[Any, Any], Any], elements: int
    ) -> list[Any]:
        client = self._client
        tasks = [
            client.submit(
                _reduce_chunks,
                fn,
                combine,
                elements,
                *args,
                workers=[worker],
                allow_other_workers=True,
                pure=False,
            )
            for worker, _, args in self._groups
        ]
        parts: list[Any] = [None] * len(self._chunks)
        for (_, numbers, _), results in zip(self._groups, client.gather(tasks), strict=True):
            for number, part in zip(numbers, results, strict=True):
                parts[number] = part
        return parts

    def every(self, step: int, with_x: bool = False) -> tuple[Any, FloatArray, FloatArray | None]:
        """``(X, y, sample_weight)`` of rows ``0, step, 2·step, ...``, brought to the
        client (X only `with_x`)."""
        wanted = {"y": self.y, "X": self.X if with_x else None, "w": self.sample_weight}
        arrays = {key: array[::step] for key, array in wanted.items() if array is not None}
        values = dict(zip(arrays, _dask().compute(*arrays.values()), strict=True))
        return values.get("X"), values["y"], values.get("w")

    def map(
        self, fn: Callable[..., Any], dtype: Any = np.float64, elements: int = BLOCK_ELEMENTS
    ) -> Any:
        """``fn(X_b, y_b, sw_b)`` row by row, as a lazy Dask array of the rows' values."""
        arrays: list[Any] = [self.X, "ij", self.y, "i"]
        if self.sample_weight is not None:
            arrays += [self.sample_weight, "i"]
        return _da().blockwise(
            functools.partial(_map_chunk, fn, dtype, elements),
            "i",
            *arrays,
            concatenate=True,
            dtype=dtype,
        )
