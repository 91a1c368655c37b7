"""Peak memory of reading ``gradopt demo --data`` CSV files, against the file's size.

Writes a CSV file of about the requested size (default 200 MB: n rows of 10 features
and a target, ``%.17g`` numbers), then reads it in fresh processes, one per reader, and
prints each one's peak resident memory (``ru_maxrss``) beside the file's size and the
size of the float64 arrays it yields:

- ``baseline``: the interpreter with numpy, scipy and gradopt imported, reading nothing;
- ``gradopt read_csv``: :func:`gradopt._cli_csv.read_csv` (blocks parsed by numpy);
- ``gradopt, from a pipe``: the same reading ``/dev/stdin`` fed by ``cat`` (no count of
  the rows in advance: the blocks are assembled at the end);
- ``csv.reader + float``: the reader gradopt used before (every cell a Python string);
- ``numpy.loadtxt``: one call on the whole file, for reference;
- ``pandas.read_csv``: for reference, when pandas is installed.

"beyond baseline / arrays" is the memory a reader adds, in units of the float64 X and
y it returns; target (issue 16): a small multiple, where ``csv.reader`` needed about 10x
the file. Run from the repository root::

    python benchmarks/bench_cli_csv.py              # 200 MB (about a minute)
    python benchmarks/bench_cli_csv.py --mb 20      # quicker
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

READERS = {
    "baseline": "X = y = np.empty(0)",
    "gradopt read_csv": "t = read_csv(path, 'y'); X, y = t.X, t.y",
    "gradopt, from a pipe": "t = read_csv(Path('/dev/stdin'), 'y'); X, y = t.X, t.y",
    "csv.reader + float": (
        "import csv\n"
        "rows = list(csv.reader(open(path, newline='')))\n"
        "values = np.array([[float(c) for c in r] for r in rows[1:]])\n"
        "X, y = values[:, :-1], values[:, -1]"
    ),
    "numpy.loadtxt": (
        "values = np.loadtxt(path, delimiter=',', skiprows=1)\n"
        "X, y = values[:, :-1], values[:, -1]"
    ),
    "pandas.read_csv": (
        "import pandas\n"
        "values = pandas.read_csv(path).to_numpy()\n"
        "X, y = values[:, :-1], values[:, -1]"
    ),
}


def write_csv(path: Path, megabytes: float, d: int = 10) -> tuple[int, int]:
    """About `megabytes` of CSV: a header and rows of d features and a target."""
    rng = np.random.default_rng(0)
    line_bytes = (d + 1) * 20.2  # %.17g of a normal number and a comma: measured
    n = int(megabytes * 1e6 / line_bytes)
    header = ",".join([f"x{j}" for j in range(d)] + ["y"])
    with path.open("w") as handle:
        handle.write(header + "\n")
        for start in range(0, n, 100_000):
            block = rng.normal(size=(min(100_000, n - start), d + 1))
            np.savetxt(handle, block, delimiter=",", fmt="%.17g")
    return n, d


def peak_mb(reader: str, path: Path) -> tuple[float, float]:
    """Peak RSS of a fresh process running `reader`, and the seconds it took."""
    code = (
        "import resource, sys, time\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "import numpy as np, scipy.optimize\n"
        "from pathlib import Path\n"
        "from gradopt._cli_csv import read_csv\n"
        f"path = Path({str(path)!r})\n"
        "start = time.perf_counter()\n"
        f"{READERS[reader]}\n"
        "seconds = time.perf_counter() - start\n"
        "assert X.shape[0] == y.shape[0]\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, seconds)\n"
    )
    command = [sys.executable, "-c", code]
    with subprocess.Popen(["cat", str(path)], stdout=subprocess.PIPE) as cat:
        stdin = cat.stdout if "stdin" in READERS[reader] else subprocess.DEVNULL
        out = subprocess.run(command, stdin=stdin, capture_output=True, text=True, check=False)
        cat.kill()
    if out.returncode != 0:
        print(f"{reader} failed: {out.stderr.strip().splitlines()[-1]}", file=sys.stderr)
        return np.nan, np.nan
    rss, seconds = out.stdout.split()
    return float(rss), float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0, help="file size (default 200)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        n, d = write_csv(path, args.mb)
        file_mb = path.stat().st_size / 2**20
        arrays_mb = 8 * n * (d + 1) / 2**20
        print(f"load average {os.getloadavg()[0]:.2f}; file {file_mb:.0f} MiB, n = {n}, ")
        print(f"d = {d}; float64 X and y {arrays_mb:.0f} MiB (RSS in MiB)\n")
        base = None
        beyond = "beyond baseline / arrays"
        print(f"{'reader':20s} {'peak RSS':>9s} {'/ file':>7s} {beyond:>25s} {'s':>6s}")
        for reader in READERS:
            rss, seconds = peak_mb(reader, path)
            if reader == "baseline":
                base = rss
            extra = (rss - base) / arrays_mb if base is not None else np.nan
            print(f"{reader:20s} {rss:9.0f} {rss / file_mb:7.2f} {extra:25.2f} {seconds:6.2f}")


if __name__ == "__main__":
    main()
