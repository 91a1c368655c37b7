"""Which coordinates a finite difference moves together: one per point, or sparse groups.

A dense difference moves one coordinate per point, so a Jacobian of d columns costs
(a multiple of) d calls of f. When the Jacobian is sparse, columns that share no row are
*structurally independent*: moving all of them in one point changes each output through
at most one of them, so one difference serves the whole group (Curtis, Powell and Reid,
1974). :func:`group_columns` finds such groups greedily, as scipy's
``optimize._numdiff.group_columns`` does: each new group takes, in order, every column
not yet grouped that shares no row with the columns already in it. A banded Jacobian of
bandwidth b needs about b groups whatever d.

:class:`Groups` is the layout every scheme evaluates over: the group of each coordinate,
``-1`` for a coordinate that does not move (fixed by bounds ``lo == hi``, or left out of
a later round of Richardson extrapolation). A subset of a group is still independent, so
restricting groups to fewer coordinates never needs a new grouping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError

__all__ = ["Groups", "Sparsity", "check_sparsity_shape", "group_columns", "parse_sparsity"]

IntArray = np.ndarray[Any, np.dtype[np.intp]]


@dataclass(frozen=True, eq=False)
class Groups:
    """The group of each coordinate (``-1``: it does not move); groups are ``0..count-1``.

    Points are laid out group by group in increasing order, so for dense groups (each
    coordinate its own group, :meth:`each`) they come coordinate by coordinate.
    """

    of: IntArray
    count: int
    dense: bool = False
    _members: list[IntArray] = field(default_factory=list, repr=False)

    @staticmethod
    def each(d: int) -> Groups:
        """Every coordinate in a group of its own (a dense difference)."""
        return _each(d)

    @property
    def moving(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Which coordinates move in some group."""
        out: np.ndarray[Any, np.dtype[np.bool_]] = self.of >= 0
        return out

    def members(self) -> list[IntArray]:
        """The coordinates of each group, in order (computed once)."""
        if not self._members and self.count:
            if self.dense:
                self._members.extend(np.arange(self.count)[:, None])
            else:
                order = np.argsort(self.of, kind="stable")
                cut = np.searchsorted(self.of[order], np.arange(self.count + 1))
                self._members.extend(order[cut[i] : cut[i + 1]] for i in range(self.count))
        return self._members

    def restricted(self, keep: np.ndarray[Any, Any]) -> Groups:
        """The same groups over the coordinates in `keep` (a boolean mask) only."""
        of = np.where(keep, self.of, -1)
        if self.dense and keep.all():
            return self
        used, of_kept = np.unique(of[of >= 0], return_inverse=True)
        renumbered = np.full(of.shape, -1, dtype=np.intp)
        renumbered[of >= 0] = of_kept
        return Groups(renumbered, int(used.size))


@lru_cache(maxsize=16)
def _each(d: int) -> Groups:
    of = np.arange(d)
    of.flags.writeable = False
    return Groups(of, d, dense=True)


@dataclass(frozen=True, eq=False)
class Sparsity:
    """A Jacobian's structure, ``(m, d)`` boolean, and the groups of its columns."""

    structure: sp.csr_array
    groups: Groups

    @property
    def shape(self) -> tuple[int, int]:
        m, d = self.structure.shape
        return int(m), int(d)

    @cached_property
    def entries(self) -> tuple[IntArray, IntArray]:
        """Rows and columns of the structural nonzeros, row by row (CSR order)."""
        csr = self.structure
        rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
        return rows.astype(np.intp), csr.indices.astype(np.intp)

    def matrix(self, data: FloatArray) -> sp.csr_array:
        """A sparse matrix with this structure holding `data` (one value per entry)."""
        csr = self.structure
        return sp.csr_array((data, csr.indices.copy(), csr.indptr.copy()), shape=csr.shape)


def group_columns(structure: Any) -> IntArray:
    """Group structurally independent columns greedily: the group of each column.

    Parameters
    ----------
    structure : array_like or scipy.sparse matrix, shape (m, d)
        Nonzero where an output may depend on a coordinate.

    Returns
    -------
    ndarray of int, shape (d,)
        Columns in the same group share no row.

    Examples
    --------
    >>> import numpy as np
    >>> tridiagonal = np.eye(6) + np.eye(6, k=1) + np.eye(6, k=-1)
    >>> group_columns(tridiagonal).tolist()
    [0, 1, 2, 0, 1, 2]
    """
    csc = sp.csc_array(structure)
    csc.sort_indices()
    m, d = csc.shape
    groups = np.full(d, -1, dtype=np.intp)
    left = np.arange(d)
    indptr, indices = csc.indptr, csc.indices
    g = 0
    while left.size:
        used = np.zeros(m, dtype=bool)
        taken = np.zeros(left.size, dtype=bool)
        for n, j in enumerate(left.tolist()):
            rows = indices[indptr[j] : indptr[j + 1]]
            if not used[rows].any():
                used[rows] = True
                taken[n] = True
        groups[left[taken]] = g
        left = left[~taken]
        g += 1
    return groups


def parse_sparsity(sparsity: Any) -> Sparsity | None:
    """Validate ``sparsity=`` (a 2-D boolean array or scipy.sparse matrix) and group it."""
    if sparsity is None:
        return None
    if sp.issparse(sparsity):
        structure = sp.csc_array(sparsity, dtype=bool)
    else:
        arr = np.asarray(sparsity)
        if arr.dtype.kind not in "biuf":
            raise ValueError(
                "sparsity must be a 2-D boolean array or a scipy.sparse matrix of shape "
                f"(outputs m, coordinates d); got an array of dtype {arr.dtype}"
            )
        if arr.ndim != 2:
            raise ValueError(
                "sparsity must be a 2-D array or scipy.sparse matrix of shape "
                f"(outputs m, coordinates d); got shape {arr.shape}"
            )
        structure = sp.csc_array(arr != 0)
    structure.eliminate_zeros()
    m, d = structure.shape
    if m == 0 or d == 0:
        raise ValueError(f"sparsity must have at least one row and column; got shape {(m, d)}")
    groups = group_columns(structure)
    csr = sp.csr_array(structure)
    csr.sort_indices()
    return Sparsity(csr, Groups(groups, int(groups.max()) + 1))


def check_sparsity_shape(sparsity: Sparsity, m: int | None, d: int) -> None:
    """Refuse a sparsity whose shape is not ``(m, d)`` (m: outputs of f, when known)."""
    sm, sd = sparsity.shape
    if sd != d or (m is not None and sm != m):
        got = f"({m}, {d})" if m is not None else f"(m, {d})"
        raise InvalidInputError(
            f"sparsity has shape {(sm, sd)} but the Jacobian has shape {got} "
            "(outputs of f, coordinates of x)."
        )
