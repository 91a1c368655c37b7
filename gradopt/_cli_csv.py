"""Reading the ``gradopt demo --data`` CSV file: numbers straight into float64 arrays.

The file is read in blocks of text (1 Mi characters) that numpy's C parser turns into
float64 rows, copied straight into X and y (sized by a count of the file's newlines
first; from a pipe, assembled at the end). No cell ever lives as a Python string, so
memory stays about the size of those float64 arrays (``benchmarks/bench_cli_csv.py``;
reading every cell with ``csv.reader`` took about 10x the size of the file).
Input that is not a CSV file is refused early and by name: a line longer than 16 Mi
characters (``--data /dev/zero`` has no newline), a NUL byte, text that is not UTF-8,
more than 100 million numbers. A UTF-8 byte-order mark is skipped. The slow, exact
Python parse runs only on a block numpy refused, to name the line and column at fault.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from gradopt._cli_common import CommandError
from gradopt._typing import FloatArray

__all__ = ["MAX_CELLS", "MAX_LINE", "DataError", "read_csv"]

MAX_LINE = 1 << 24  # characters in one line (16 Mi): far beyond any real header or row
MAX_CELLS = 100_000_000  # numbers in one file (800 MB as float64)
_BLOCK = 1 << 20  # characters parsed at a time
_BLANK = re.compile(r"^[ \t,]+$", re.MULTILINE)  # blank lines numpy would not skip
_MAYBE_BLANK = ("\n ", "\n\t", "\n,")  # a cheap test before the regular expression


class DataError(CommandError):
    """The CSV file cannot be used; the message names the file, line and column."""


@dataclass
class Table:
    """The features, the target and the feature names of a CSV file."""

    X: FloatArray
    y: FloatArray
    features: list[str]


def read_csv(
    path: Path, target: str, *, max_cells: int = MAX_CELLS, max_line: int = MAX_LINE
) -> Table:
    """Read a numeric CSV file with a header row; `target` names the column to predict.

    Parameters
    ----------
    path : pathlib.Path
        Any readable file, including a pipe (``/dev/stdin``).
    target : str
        A column name of the header.
    max_cells, max_line : int, optional
        Refuse files with more numbers, or a line longer than this many characters.

    Returns
    -------
    Table

    Raises
    ------
    DataError
        With a one-line message naming the problem and where it is.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "data.csv"
    ...     _ = path.write_text("a,y,b\\n1,2,3\\n4,5,6\\n")
    ...     table = read_csv(path, "y")
    >>> table.X, table.y, table.features
    (array([[1., 3.],
           [4., 6.]]), array([2., 5.]), ['a', 'b'])
    """
    name = str(path)
    try:
        capacity = _count_lines(path) if path.is_file() else None
        with path.open(encoding="utf-8-sig") as handle:
            header, line_no = _header(handle, name, max_line)
            t = _target_column(header, target, name)
            table = _Columns(len(header), t, capacity)
            for block in _blocks(handle, name, header, line_no, max_line, max_cells):
                table.append(block)
    except OSError as exc:
        raise DataError(f"cannot read --data {name!r}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"--data {name!r} is not UTF-8 text ({exc.reason})") from None
    X, y = table.arrays()
    return Table(X, y, header[:t] + header[t + 1 :])


def _count_lines(path: Path) -> int:
    """An upper bound on the rows of a regular file: its newlines, plus one."""
    count = 1
    with path.open("rb") as raw:
        while chunk := raw.read(1 << 24):
            count += chunk.count(b"\n")
    return count


class _Columns:
    """X and y filled block by block: in place when the number of rows is bounded in
    advance (a regular file; pages never written are never resident, so memory is X
    and y), else from a list of blocks, each freed once copied (a pipe)."""

    def __init__(self, n_columns: int, target: int, capacity: int | None) -> None:
        self.target, self.rows, self.blocks = target, 0, list[FloatArray]()
        self.capacity = capacity or 0
        self.X = np.empty((self.capacity, n_columns - 1))
        self.y = np.empty(self.capacity)

    def append(self, block: FloatArray) -> None:
        if self.rows + block.shape[0] > self.capacity:
            self.blocks.append(block)  # no (or a wrong) bound: assembled at the end
            return
        self._copy(block, self.X, self.y, self.rows)
        self.rows += block.shape[0]

    def _copy(self, block: FloatArray, X: FloatArray, y: FloatArray, row: int) -> None:
        t, rows = self.target, slice(row, row + block.shape[0])
        X[rows, :t], X[rows, t:], y[rows] = block[:, :t], block[:, t + 1 :], block[:, t]

    def arrays(self) -> tuple[FloatArray, FloatArray]:
        if not self.blocks:
            return self.X[: self.rows], self.y[: self.rows]
        n = self.rows + sum(block.shape[0] for block in self.blocks)
        X, y = np.empty((n, self.X.shape[1])), np.empty(n)
        X[: self.rows], y[: self.rows] = self.X[: self.rows], self.y[: self.rows]
        row = self.rows
        while self.blocks:
            block = self.blocks.pop(0)
            self._copy(block, X, y, row)
            row += block.shape[0]
        return X, y


def _read_line(handle: TextIO, name: str, line_no: int, max_line: int) -> str:
    line = handle.readline(max_line + 1)
    if "\x00" in line:
        raise DataError(f"--data {name!r} holds a NUL byte on line {line_no}: not a text file")
    if len(line) > max_line:
        raise DataError(
            f"--data {name!r}: line {line_no} is longer than {max_line:,} characters "
            "(no newline): not a CSV file"
        )
    return line


def _header(handle: TextIO, name: str, max_line: int) -> tuple[list[str], int]:
    """The column names from the first non-blank line, and that line's number."""
    line_no = 1
    line = _read_line(handle, name, line_no, max_line)
    while line and not line.strip(" \t,\r\n"):
        line_no += 1
        line = _read_line(handle, name, line_no, max_line)
    if not line:
        raise DataError(f"--data {name!r} is empty: it needs a header row and data rows")
    header = [cell.strip() for cell in next(csv.reader([line]))]
    for j, column in enumerate(header):
        if not column:
            raise DataError(f"--data {name!r}: column {j + 1} of the header has no name")
        if column in header[:j]:
            first = header.index(column) + 1
            raise DataError(
                f"--data {name!r}: column name {column!r} appears twice (columns {first} "
                f"and {j + 1}); every column needs its own name"
            )
    return header, line_no


def _target_column(header: list[str], target: str, name: str) -> int:
    if target not in header:
        raise DataError(
            f"--target {target!r} is not a column of {name!r}; columns: {', '.join(header)}"
        )
    if len(header) < 2:
        raise DataError(f"{name}: no feature columns besides the target {target!r}")
    return header.index(target)


def _blocks(
    handle: TextIO, name: str, header: list[str], line_no: int, max_line: int, max_cells: int
) -> Iterator[FloatArray]:
    """float64 blocks of rows, each of whole lines; ``line_no`` is the header's line."""
    carry, cells = "", 0
    while True:
        chunk = handle.read(_BLOCK)
        text = carry + chunk
        cut = len(text) if not chunk else text.rfind("\n") + 1
        body, carry = text[:cut], text[cut:]
        if len(carry) > max_line:
            raise DataError(
                f"--data {name!r}: line {line_no + body.count(chr(10)) + 1} is longer than "
                f"{max_line:,} characters: not a CSV file"
            )
        if "\x00" in body:
            bad = line_no + body[: body.index("\x00")].count("\n") + 1
            raise DataError(f"--data {name!r} holds a NUL byte on line {bad}: not a text file")
        block = _parse(body, name, header, line_no + 1)
        cells += block.size
        if cells > max_cells:
            raise DataError(
                f"--data {name!r} holds more than {max_cells:,} numbers (the demo's limit, "
                f"{8 * max_cells / 1e6:,.0f} MB as float64)"
            )
        if block.shape[0]:
            yield block
        line_no += body.count("\n")
        if not chunk:
            return


def _parse(body: str, name: str, header: list[str], first: int) -> FloatArray:
    """The rows of `body` (lines from number `first` on) as a float64 array."""
    if body.startswith((" ", "\t", ",")) or any(start in body for start in _MAYBE_BLANK):
        body = _BLANK.sub("", body)
    if not body.strip():
        return np.empty((0, len(header)))
    try:
        block = np.loadtxt(
            io.StringIO(body),
            delimiter=",",
            dtype=np.float64,
            ndmin=2,
            comments=None,
            quotechar='"',
        )
    except ValueError as exc:
        raise _locate(body, name, header, first, str(exc)) from None
    if block.shape[1] != len(header):
        raise _locate(body, name, header, first, f"{block.shape[1]} fields")
    finite = np.isfinite(block)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        line, cells = _rows(body, first)[row]
        raise DataError(
            f"{name}: line {line}, column {header[col]!r}: {cells[col].strip()!r} is NaN or "
            "infinite (or beyond float64's range); every value must be a finite number"
        )
    return block


def _rows(body: str, first: int) -> list[tuple[int, list[str]]]:
    """``(line number, cells)`` of the non-blank lines of `body`, parsed by Python."""
    return [
        (first + i, next(csv.reader([line])))
        for i, line in enumerate(body.split("\n"))
        if line.strip(" \t,\r")
    ]


def _locate(body: str, name: str, header: list[str], first: int, numpy_says: str) -> DataError:
    """The first bad line or cell of a block numpy refused, as an error to raise."""
    for line, cells in _rows(body, first):
        if len(cells) != len(header):
            return DataError(
                f"{name}: line {line} has {len(cells)} fields, expected {len(header)}"
            )
        for column, cell in zip(header, cells, strict=True):
            try:
                if "_" in cell:  # Python reads 1_000, numpy does not
                    raise ValueError(cell)
                float(cell)
            except ValueError:
                return DataError(
                    f"{name}: line {line}, column {column!r}: {cell.strip()!r} is not a number"
                )
    return DataError(f"{name}: lines {first} and on: {numpy_says}")
