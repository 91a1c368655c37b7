"""Evaluation over row blocks: one reduction, run where the blocks live.

A robust fit is a sequence of evaluations, each a sum over the rows of ``X``. Here that
sum is one reduction: a pure *block function* ``fn(X_b, y_b, sw_b) -> part`` runs on
every block of rows and the parts are combined pairwise (by default added, element by
element, through tuples). Losses are written once, as block functions of the form
``fn(w, X_b, y_b, sw_b, *, static...)`` bound to ``w`` by :func:`functools.partial`,
and two executors run them:

- :class:`RowBlocks` (here): the blocks are views of an in-memory ``X``, small enough
  (about 1 MB) to stay in cache between the block's ``X_b @ w`` and ``X_b.T @ psi_b``,
  so each evaluation reads ``X`` once and allocates nothing of size n;
- :class:`~gradopt.linear_model._dask_blocks.DaskBlocks`: the blocks are the row chunks
  of Dask arrays, persisted on the workers; each chunk runs the in-memory executor over
  its rows and a tree reduction brings back only the combined part.

``sw_b`` is None for unit weights (block functions then skip the products). The
executors also ``map`` a block function to per-row outputs (residuals, predictions)
and report ``n_samples``, ``n_features`` and ``in_memory``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import _check_sample_weight

from gradopt._typing import FloatArray

__all__ = [
    "BLOCK_ELEMENTS",
    "Blocks",
    "RowBlocks",
    "add",
    "block_residual",
    "block_rows",
    "centred",
    "checked_sample_weight",
    "scratch_elements",
]

# Entries of X per block: 128 Ki float64 = 1 MB, which stays in the (1-2 MB) L2 cache of
# one core with the block's centred copy. Larger blocks spill to L3 (slower on a busy
# machine); much smaller ones pay numpy's per-call overhead (about 10 calls per block).
BLOCK_ELEMENTS = 1 << 17
_MIN_ROWS = 4096


def add(a: Any, b: Any) -> Any:
    """Add two parts: numbers and arrays as usual, tuples (and lists) element by element.

    Examples
    --------
    >>> add((1.0, np.array([1.0, 2.0])), (2.0, np.array([3.0, 4.0])))
    (3.0, array([4., 6.]))
    """
    if isinstance(a, tuple | list):
        return type(a)(add(x, y) for x, y in zip(a, b, strict=True))
    return a + b


def scratch_elements(blocks: Blocks) -> int:
    """Entries of X per block for block functions that need block-sized scratch (a
    centred copy, :func:`centred`): at most 1/64 of X each (at least 8 Ki entries, at
    most half of :data:`BLOCK_ELEMENTS`: 512 KB), so that scratch stays a small share of
    X's memory.

    Examples
    --------
    >>> scratch_elements(RowBlocks(np.zeros((100_000, 10)), np.zeros(100_000), None))
    15625
    """
    size = blocks.n_samples * blocks.n_features
    return int(min(BLOCK_ELEMENTS // 2, max(1 << 13, size // 64)))


def block_rows(X: Any, elements: int = BLOCK_ELEMENTS) -> int:
    """Rows per block: about `elements` stored entries of `X` (non-zeros when sparse);
    for blocks of :data:`BLOCK_ELEMENTS` or more, at least 4096 rows while a block stays
    under 4x `elements` (wide X: the per-row work of a block function, about ten numpy
    calls on vectors of the block's length, then outweighs their fixed cost; the block
    still fits in the L3 cache). Smaller `elements` (scratch-sized blocks, bounded for
    memory) are taken as they are.

    Examples
    --------
    >>> [block_rows(np.empty((0, d))) for d in (10, 20, 100, 1000)]
    [13107, 6553, 4096, 524]
    """
    n_samples, n_features = X.shape
    per_row = max(X.nnz / max(n_samples, 1) if sp.issparse(X) else n_features, 1)
    rows = max(1, int(elements // per_row))
    if elements < BLOCK_ELEMENTS:
        return rows
    return max(rows, int(min(_MIN_ROWS, 4 * elements // per_row)))


_SCRATCH = threading.local()  # per thread: the tiled centre and a block-sized buffer


def centred(X_b: FloatArray, center: FloatArray) -> FloatArray:
    """``X_b - center`` for a dense C-ordered block, in a scratch buffer of this thread.

    numpy's broadcast ``X_b - center`` runs one inner loop per row (as many as the
    columns, often 10 or 20 entries): about 1.5 ns per entry, more than the products
    that follow. Subtracting a cached block-sized tile of `center` is one contiguous
    loop (3x faster). The result is overwritten by the next call in the same thread:
    use it before then.

    Examples
    --------
    >>> centred(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
    array([[0., 1.],
           [2., 3.]])
    """
    rows, d = X_b.shape
    tile = getattr(_SCRATCH, "tile", None)
    if (
        tile is None
        or tile.shape[0] < rows
        or tile.shape[1] != d
        or not np.array_equal(tile[0], center)
    ):
        tile = np.tile(np.asarray(center, dtype=np.float64), (max(rows, 1), 1))
        _SCRATCH.tile, _SCRATCH.buffer = tile, np.empty_like(tile)
    out: FloatArray = np.subtract(X_b, tile[:rows], out=_SCRATCH.buffer[:rows])
    return out


def block_residual(
    theta: FloatArray,
    X_b: Any,
    y_b: FloatArray,
    x_center: FloatArray | None,
    y_center: float,
    copy_centred: bool,
) -> tuple[Any, FloatArray | None, FloatArray]:
    """``(Z, correction, residual)``: the residual
    ``(y_b - y_center) - (X_b - x_center) @ coef - shift`` at ``theta = [coef, shift,
    ...]`` and how the block entered it, ``Z - correction = X_b - x_center`` row by row:
    with `copy_centred` (and a dense block) ``Z`` is a centred copy in this thread's
    scratch buffer (:func:`centred`) and ``correction`` None, so that no digits cancel
    when the centre is large next to the spread; else ``Z = X_b`` and
    ``correction = x_center`` (None without a centre), entering as ``x_center @ coef``.

    Examples
    --------
    >>> X, y = np.array([[10.0, 1.0], [12.0, 3.0]]), np.array([1.0, 2.0])
    >>> block_residual(np.array([1.0, 0.0, 0.5]), X, y, np.array([11.0, 2.0]), 1.5, True)[2]
    array([ 0., -1.])
    """
    d = X_b.shape[1]
    coef, shift = theta[:d], float(theta[d])
    Z, correction = X_b, x_center
    if x_center is not None and copy_centred and not sp.issparse(X_b):
        Z, correction = centred(X_b, x_center), None
    residual = y_b - y_center
    residual -= Z @ coef
    offset = (float(correction @ coef) if correction is not None else 0.0) - shift
    if offset:
        residual += offset
    return Z, correction, residual


class Blocks(Protocol):
    """Where the rows of ``(X, y, sample_weight)`` live, and how to reduce over them."""

    n_samples: int
    n_features: int
    in_memory: bool
    sparse: bool
    X: Any
    y: Any
    sample_weight: Any
    """The data (None: unit weights), as arrays in memory or Dask arrays."""

    def reduce(
        self,
        fn: Callable[..., Any],
        combine: Callable[[Any, Any], Any] = add,
        elements: int = BLOCK_ELEMENTS,
    ) -> Any:  # pragma: no cover - protocol
        """``fn(X_b, y_b, sw_b)`` over every block of about `elements` entries of X,
        combined pairwise by `combine`."""
        ...

    def every(
        self, step: int, with_x: bool = False
    ) -> tuple[Any, FloatArray, FloatArray | None]:  # pragma: no cover - protocol
        """``(X, y, sample_weight)`` of rows ``0, step, 2·step, ...``, in memory (X only
        `with_x`, else None; weights None for unit weights)."""
        ...

    def map(
        self, fn: Callable[..., Any], dtype: Any = np.float64, elements: int = BLOCK_ELEMENTS
    ) -> Any:  # pragma: no cover - protocol
        """``fn(X_b, y_b, sw_b)`` (one value of `dtype` per row) over every block,
        concatenated (lazily where the blocks are not in memory)."""
        ...


class RowBlocks:
    """The in-memory executor: blocks are row slices (views) of ``X``, ``y`` and weights.

    Parameters
    ----------
    X : ndarray or scipy.sparse CSR matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,) or None
        None (or all ones) means unit weights: block functions receive None.
    rows : int, optional
        Rows per block; by default about :data:`BLOCK_ELEMENTS` entries of ``X`` (or the
        `elements` asked of :meth:`reduce`).

    Examples
    --------
    >>> X, y = np.arange(10.0).reshape(5, 2), np.ones(5)
    >>> blocks = RowBlocks(X, y, None, rows=2)
    >>> blocks.reduce(lambda X_b, y_b, sw_b: (len(y_b), X_b.sum(axis=0)))
    (5, array([20., 25.]))
    >>> blocks.map(lambda X_b, y_b, sw_b: X_b[:, 0] + y_b)
    array([1., 3., 5., 7., 9.])
    """

    in_memory = True

    def __init__(
        self, X: Any, y: FloatArray, sample_weight: FloatArray | None, rows: int | None = None
    ) -> None:
        if sample_weight is not None and bool(np.all(sample_weight == 1.0)):
            sample_weight = None
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.n_samples, self.n_features = X.shape
        self.sparse = bool(sp.issparse(X))
        self.rows = None if rows is None else max(1, int(rows))

    def blocks(
        self, elements: int = BLOCK_ELEMENTS
    ) -> Iterator[tuple[Any, FloatArray, FloatArray | None]]:
        """``(X_b, y_b, sw_b)`` for each block of rows, in order (views, not copies)."""
        sw = self.sample_weight
        rows = block_rows(self.X, elements) if self.rows is None else self.rows
        for start in range(0, self.n_samples, rows):
            stop = start + rows
            yield self.X[start:stop], self.y[start:stop], None if sw is None else sw[start:stop]

    def reduce(
        self,
        fn: Callable[..., Any],
        combine: Callable[[Any, Any], Any] = add,
        elements: int = BLOCK_ELEMENTS,
    ) -> Any:
        """``fn(X_b, y_b, sw_b)`` over every block, combined in order by `combine`."""
        total: Any = None
        for i, block in enumerate(self.blocks(elements)):
            part = fn(*block)
            total = part if i == 0 else combine(total, part)
        if total is None:
            raise ValueError("there are no rows to reduce over (n_samples = 0)")
        return total

    def every(self, step: int, with_x: bool = False) -> tuple[Any, FloatArray, FloatArray | None]:
        """``(X, y, sample_weight)`` of rows ``0, step, 2·step, ...`` (y and the weights as
        views; X, only `with_x`, a copy)."""
        sw = self.sample_weight
        X = None
        if with_x:
            X = self.X[::step] if self.sparse else np.ascontiguousarray(self.X[::step])
        return X, self.y[::step], None if sw is None else sw[::step]

    def map(
        self, fn: Callable[..., Any], dtype: Any = np.float64, elements: int = BLOCK_ELEMENTS
    ) -> Any:
        """``fn(X_b, y_b, sw_b)`` over every block, concatenated along the rows."""
        parts = [np.asarray(fn(*block), dtype=dtype) for block in self.blocks(elements)]
        return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


def checked_sample_weight(sample_weight: Any, X: Any) -> FloatArray:
    """scikit-learn's check of ``sample_weight`` for in-memory ``X``, in float64.

    Non-negative, finite, one per row, and not all zero: scikit-learn checks the last
    only from 1.7 on, so it is checked here, in its words, for every supported version.
    """
    checked: FloatArray = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    if not np.any(checked > 0):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return checked
