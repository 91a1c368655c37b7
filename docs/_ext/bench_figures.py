"""Figures of the benchmark page, drawn from the stored outputs of the benchmark scripts.

``docs/benchmarks/<script>.txt`` is what ``python benchmarks/<script>.py`` printed (the
command and the load average are in the file). The tables are read back here and drawn;
nothing is measured at build time. A stored output this module cannot read is an error
that names the file, so a changed format is noticed when the output is refreshed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

DATA = Path(__file__).resolve().parents[1] / "benchmarks"


def _unit_seconds(text: str) -> float:
    value, unit = text.split()
    return float(value) * {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6}[unit]


def markdown_tables(text: str) -> list[tuple[str, list[dict[str, str]]]]:
    """Every ``| a | b |`` table in `text`, with the nearest non-empty line above it."""
    tables, lines, k = [], text.splitlines(), 0
    while k < len(lines):
        if not lines[k].lstrip().startswith("|"):
            k += 1
            continue
        caption = next((lines[j] for j in range(k - 1, -1, -1) if lines[j].strip()), "")
        header = [c.strip() for c in lines[k].strip().strip("|").split("|")]
        header = [  # a repeated name ("vs sklearn" for time, then memory) gets "#2", ...
            name if header[:j].count(name) == 0 else f"{name} #{header[:j].count(name) + 1}"
            for j, name in enumerate(header)
        ]
        rows, k = [], k + 1
        while k < len(lines) and lines[k].lstrip().startswith("|"):
            cells = [c.strip() for c in lines[k].strip().strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                rows.append(dict(zip(header, cells, strict=True)))
            k += 1
        tables.append((caption.strip(), rows))
    return tables


def spaced_table(text: str, first_header: str, numeric: tuple[int, ...]) -> list[list[str]]:
    """The rows of the table whose header line starts with `first_header`, split on runs
    of two or more spaces (names inside cells have single spaces); blank lines inside the
    table are skipped, and it ends at the first line whose `numeric` cells are not all
    numbers."""
    lines = text.splitlines()
    start = next((k for k, line in enumerate(lines) if line.startswith(first_header)), None)
    if start is None:
        return []
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip() or set(line.strip()) == {"-"}:
            continue
        cells = re.split(r"\s{2,}", line.strip())
        try:
            [float(cells[k]) for k in numeric]
        except (ValueError, IndexError):
            break
        rows.append(cells)
    return rows


def _read(name: str) -> str:
    path = DATA / f"{name}.txt"
    return path.read_text()


def _save(fig: Any, out: Path) -> None:
    fig.savefig(out, dpi=90)
    plt.close(fig)


def gradients(out: Path) -> None:
    """Time of one gradient of Rosenbrock by method, at each dimension measured."""
    tables = [(c, rows) for c, rows in markdown_tables(_read("bench_gradients")) if "d =" in c]
    if not tables:
        raise ValueError("docs/benchmarks/bench_gradients.txt: no table 'rosen, d = ...' found")
    fig, axes = plt.subplots(1, len(tables), figsize=(6 * len(tables), 4.4), sharey=True)
    for ax, (caption, rows) in zip(np.atleast_1d(axes), tables, strict=True):
        names = [r["method"] for r in rows]
        times = np.array([_unit_seconds(r["time"]) for r in rows])
        colors = ["tab:blue" if n.startswith("gradopt") else "0.6" for n in names]
        ax.barh(range(len(rows)), 1e3 * times, color=colors)
        for k, r in enumerate(rows):
            ax.text(1e3 * times[k], k, f" {r['max rel. error']}", va="center", fontsize=7)
        ax.set_yticks(range(len(rows)), names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("time per gradient [ms] (label: max relative error)")
        ax.set_title(caption.split("(")[0].strip(), fontsize=10)
    fig.tight_layout()
    _save(fig, out)


def accuracy(out: Path) -> None:
    """Normwise relative error against calls of f, by method, over the test problems."""
    rows = spaced_table(_read("bench_accuracy"), "problem", numeric=(2, 4))
    if not rows:
        raise ValueError("docs/benchmarks/bench_accuracy.txt: no table 'problem  method' found")
    fig, ax = plt.subplots(figsize=(8, 4.8))
    methods = list(dict.fromkeys(r[1] for r in rows))
    markers = "os^vD<>Ph"
    for k, method in enumerate(methods):
        pts = np.array([[float(r[4]), float(r[2])] for r in rows if r[1] == method])
        errors = np.maximum(pts[:, 1], 1e-17)  # exact (0) is drawn at 1e-17
        ax.loglog(pts[:, 0], errors, markers[k % len(markers)], label=method, alpha=0.8)
    ax.set(xlabel="calls of f per gradient", ylabel="normwise relative error (0 at 1e-17)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    _save(fig, out)


def parallel(out: Path) -> None:
    """One central-difference gradient of a slow simulation: serial, 2 workers, Dask."""
    text = _read("bench_parallel")
    rows = []
    lines = text.splitlines()
    start = next(k for k, line in enumerate(lines) if line.split()[:2] == ["d", "f"])
    for line in lines[start + 1 :]:
        cells = line.split()
        if not cells or not cells[0].isdigit():
            break
        rows.append(cells)
    if not rows:
        raise ValueError("docs/benchmarks/bench_parallel.txt: no table 'd  f (ms)' found")
    labels = [f"d = {r[0]}\n(f: {r[1]} ms)" for r in rows]
    serial = np.array([float(r[2]) for r in rows])
    workers = np.array([float(r[3]) for r in rows])
    dask = np.array([float(r[5]) for r in rows])
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(7, 4))
    for shift, values, name in ((-0.25, serial, "serial"), (0, workers, "workers=2"),
                                (0.25, dask, "Dask, 2 workers")):  # fmt: skip
        ax.bar(x + shift, values, 0.25, label=name)
    ax.set_xticks(x, labels)
    ax.set(ylabel="seconds per gradient", title="central differences of a slow simulation")
    ax.legend()
    fig.tight_layout()
    _save(fig, out)


def huber(out: Path) -> None:
    """Huber fit time relative to scikit-learn, by problem size and BLAS threads."""
    tables = [rows for _, rows in markdown_tables(_read("bench_huber")) if rows]
    if not tables or "vs sklearn" not in tables[0][0]:
        raise ValueError("docs/benchmarks/bench_huber.txt: no table with 'vs sklearn' found")
    rows = [r for r in tables[0] if r["method"] != "scikit-learn"]
    groups = list(dict.fromkeys(f"{r['(n, d)']}\n{r['BLAS']}" for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    fig, ax = plt.subplots(figsize=(max(7, 1.6 * len(groups)), 4.4))
    width = 0.8 / len(methods)
    for k, method in enumerate(methods):
        ratios = {f"{r['(n, d)']}\n{r['BLAS']}": float(r["vs sklearn"]) for r in rows
                  if r["method"] == method}  # fmt: skip
        x = np.arange(len(groups)) + (k - (len(methods) - 1) / 2) * width
        ax.bar(x, [ratios.get(g, np.nan) for g in groups], width, label=method)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(groups)), groups, fontsize=8)
    ax.set(ylabel="fit time / scikit-learn's (below 1: faster)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, out)


def optimizers(out: Path) -> None:
    """Calls of f to convergence by optimizer and gradient provider, per test problem."""
    tables = [(c.lstrip("# "), rows) for c, rows in markdown_tables(_read("bench_optimizers"))
              if rows and "provider" in rows[0] and "method" in rows[0]]  # fmt: skip
    if not tables:
        raise ValueError("docs/benchmarks/bench_optimizers.txt: no 'method | provider' table")
    fig, axes = plt.subplots(1, len(tables), figsize=(6.5 * len(tables), 4.4), squeeze=False)
    for ax, (caption, rows) in zip(axes[0], tables, strict=True):
        methods = list(dict.fromkeys(r["method"] for r in rows))
        providers = list(dict.fromkeys(r["provider"] for r in rows))
        width = 0.8 / len(providers)
        for k, provider in enumerate(providers):
            nfev = {r["method"]: float(r["nfev"]) for r in rows if r["provider"] == provider}
            ok = {r["method"]: r["success"] == "True" for r in rows if r["provider"] == provider}
            x = np.arange(len(methods)) + (k - (len(providers) - 1) / 2) * width
            heights = [nfev.get(m, np.nan) for m in methods]
            bars = ax.bar(x, heights, width, label=provider)
            for bar, m in zip(bars, methods, strict=True):
                if m in ok and not ok[m]:
                    bar.set_hatch("///")
        ax.set_yscale("log")
        ax.set_xticks(np.arange(len(methods)), methods, rotation=30, ha="right", fontsize=8)
        ax.set(ylabel="calls of f (nfev)", title=f"{caption} (hatched: success=False)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, out)


FIGURES = {"bench_gradients.png": gradients, "bench_accuracy.png": accuracy,
           "bench_parallel.png": parallel, "bench_huber.png": huber,
           "bench_optimizers.png": optimizers}  # fmt: skip


def draw_all(directory: Path) -> None:
    for name, draw in FIGURES.items():
        draw(directory / name)
