"""The data of a fit on the JAX device, in row blocks, and one pass over it per gradient.

The ``"jax"`` gradients of :class:`HuberRegressor` and :class:`RobustRegressor` write
their objective with ``jax.numpy`` and pass the data to the compiled program as
arguments (compiled once per data shape, reused by later fits).

:func:`device_data` copies the in-memory data once per fit, centred (``X - x_center``,
``y - y_center``: the digits an offset in a column would take from the residuals are
kept; the analytic path centres its blocks too) into memory on a 64-byte boundary, which
``jax.device_put`` on CPU then uses as it is. The copy is kept for as long as the blocks
live: RobustRegressor builds a provider per scale round (and S-refinement), all of which
share it. The rows are seen as equal blocks plus a shorter tail (views, no second copy).

:func:`block_sum` is the sum over those blocks of a block function, whose gradient JAX
computes block by block in the same pass (a ``custom_vjp``). Reverse mode over the whole
of X made one pass forward and one backward, each through n-long intermediates out of
cache: 3-4 times the analytic gradient's time at (1e6, 20); block by block, X is read
once and each block's intermediates stay in cache.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError
from gradopt.gradients.jax import _import_jax
from gradopt.linear_model._blocked import BLOCK_ELEMENTS, Blocks, RowBlocks

__all__ = ["Data", "aligned_copy", "block_sum", "device_data"]

_MIN_ROWS = 1024
_BLOCK_ELEMENTS = BLOCK_ELEMENTS  # entries of X per block, as the analytic path (1 MB)

Data = tuple[Any, ...]
"""``(X_blocks, y_blocks, w_blocks, X_tail, y_tail, w_tail)``, the tail's three arrays
absent when the blocks hold every row (a flat tuple: it passes as arguments of a
compiled program and pickles with the provider)."""


# blocks -> (key of the centres, device arrays); dropped with the blocks after a fit.
_CACHE: weakref.WeakKeyDictionary[RowBlocks, tuple[bytes, Data]] = weakref.WeakKeyDictionary()


def device_data(blocks: Blocks, x_center: FloatArray | None, y_center: float) -> Data:
    """The rows of ``X - x_center``, ``y - y_center`` and the sample weights (ones when
    None) on JAX's default device in float64, as blocks ``(n_blocks, rows, ...)`` and
    the remaining rows (see :data:`Data`).

    A sparse X is made dense in that copy. Raises
    :class:`~gradopt.exceptions.InvalidInputError` for data on Dask arrays and when the
    copy does not fit in memory, :class:`~gradopt.exceptions.BackendUnavailableError`
    without jax.
    """
    if not isinstance(blocks, RowBlocks):
        raise InvalidInputError(
            "gradient='jax' needs the data in memory; on Dask arrays use gradient="
            "'analytic' (each chunk's share computed where it lives)."
        )
    center = None if x_center is None else np.asarray(x_center, dtype=np.float64)
    key = (b"" if center is None else center.tobytes()) + np.float64(y_center).tobytes()
    known = _CACHE.get(blocks)
    if known is not None and known[0] == key:
        return known[1]
    jax = _import_jax()  # without jax: BackendUnavailableError, as Jax() says it
    n, d = blocks.X.shape
    rows = min(n, max(_MIN_ROWS, _BLOCK_ELEMENTS // max(d, 1) // 8 * 8))
    split = n // rows * rows
    X = aligned_copy(blocks.X, center)
    y = blocks.y - y_center
    w = np.ones(n) if blocks.sample_weight is None else blocks.sample_weight
    with jax.enable_x64(True):  # float64 stays float64 on the device
        data = tuple(jax.device_put(a[:split].reshape(-1, rows, *a.shape[1:])) for a in (X, y, w))
        if split < n:
            data += tuple(jax.device_put(a[split:]) for a in (X, y, w))
    _CACHE[blocks] = (key, data)
    return data


def aligned_copy(X: Any, center: FloatArray | None = None) -> FloatArray:
    """``X - center`` (or X) as C-contiguous float64 on a 64-byte boundary, copied in
    blocks of rows (a sparse X made dense); X itself when it already is that and there
    is no centre.

    Examples
    --------
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> aligned_copy(X, np.array([2.0, 3.0]))
    array([[-2., -2.],
           [ 0.,  0.],
           [ 2.,  2.]])
    >>> aligned_copy(X).ctypes.data % 64
    0
    """
    n, d = X.shape
    usable = isinstance(X, np.ndarray) and X.dtype == np.float64 and X.flags.c_contiguous
    if center is None and usable and X.ctypes.data % 64 == 0:
        same: FloatArray = X
        return same
    try:
        raw = np.empty(n * d + 8)
    except MemoryError:
        raise InvalidInputError(
            f"gradient='jax' works on a dense copy of X: {n} x {d} float64 needs "
            f"{n * d * 8 / 2**30:.1f} GiB, more than can be allocated. Use "
            "gradient='analytic' (which reads X in place, sparse or not)."
        ) from None
    start = (-raw.ctypes.data % 64) // raw.itemsize
    out: FloatArray = raw[start : start + n * d].reshape(n, d)
    rows = max(1, _BLOCK_ELEMENTS // max(d, 1))
    for first in range(0, n, rows):
        block = X[first : first + rows]
        block = block.toarray() if sp.issparse(block) else np.asarray(block, dtype=np.float64)
        if center is None:
            np.copyto(out[first : first + rows], block)
        else:
            np.subtract(block, center, out=out[first : first + rows])
    return out


def block_sum(block: Callable[..., Any], v: Any, data: Data, *rest: Any) -> Any:
    """``Σ block(v, X_b, y_b, w_b, *rest)`` over the blocks of `data` (traced by JAX).

    Its gradient in `v` is JAX's gradient of `block`, summed over the blocks in the
    same pass that sums the values; `data` and `rest` are not differentiated. (Forward
    mode through it, as in ``hessp``, is not available: the estimators do not use it.)
    """
    import jax
    import jax.numpy as jnp

    main, tail = data[:3], data[3:]
    k, m = len(main), len(tail)

    def values(v: Any, *args: Any) -> Any:
        extra = args[k + m :]
        total = jnp.sum(jax.lax.map(lambda b: block(v, *b, *extra), args[:k]))
        return total + block(v, *args[k : k + m], *extra) if m else total

    def forward(v: Any, *args: Any) -> Any:
        extra = args[k + m :]

        def one(b: Any) -> Any:
            return jax.value_and_grad(block)(v, *b, *extra)

        each = jax.lax.map(one, args[:k])
        value, grad = jnp.sum(each[0]), jnp.sum(each[1], axis=0)
        if m:
            last = one(args[k : k + m])
            value, grad = value + last[0], grad + last[1]
        return value, grad

    def backward(grad: Any, cotangent: Any) -> Any:
        return (cotangent * grad, *(None for _ in range(k + m + len(rest))))

    total = jax.custom_vjp(values)
    total.defvjp(forward, backward)
    return total(v, *main, *tail, *rest)
