"""The ``gradopt`` command: the demo's table and its error paths."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradopt.cli import main

ROWS = [
    "gradopt analytic",
    "gradopt autograd",
    "gradopt finite-difference",
    "scikit-learn Huber",
    "least squares (OLS)",
]


def _table(out: str) -> dict[str, list[str]]:
    return {
        name: line[len(name) :].split()
        for line in out.splitlines()
        for name in ROWS
        if line.startswith(name)
    }


def test_demo_prints_one_row_per_method(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--n-samples", "300", "--n-features", "4", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "n = 300, d = 4, 15 targets shifted" in out
    table = _table(out)
    assert list(table) == ROWS
    # coef error, objective, nit, nfev, ngev, time, vs sklearn
    errors = {name: float(cells[0]) for name, cells in table.items()}
    objectives = {name: float(cells[1]) for name, cells in table.items()}
    assert max(errors[name] for name in ROWS[:4]) < 0.05 < errors["least squares (OLS)"]
    best = min(objectives.values())
    for name in ROWS[:3]:
        assert objectives[name] == pytest.approx(best, rel=1e-9)
        assert float(table[name][-1]) < 1e-4  # agreement with scikit-learn
    assert objectives["least squares (OLS)"] > 1.1 * best
    # Central differences: 2·(d + 2) calls of f per gradient.
    fd = table["gradopt finite-difference"]
    assert int(fd[3]) >= 12 * int(fd[4])
    assert table["scikit-learn Huber"][-1] == "reference"


def test_demo_reads_a_csv_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = X @ [1.0, -2.0] + 0.1 * rng.normal(size=80)
    y[:4] += 40.0
    path = tmp_path / "data.csv"
    lines = ["a,target,b"] + [f"{a},{t},{b}" for (a, b), t in zip(X, y, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    assert main(["demo", "--data", str(path), "--target", "target"]) == 0
    out = capsys.readouterr().out
    table = _table(out)
    assert list(table) == ROWS
    assert all(cells[0] == "n/a" for cells in table.values())  # no truth to compare with
    assert "n = 80, d = 2" in out


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, ["--target", "y"], "cannot read --data"),
        ("a,y\n1,2\n3,4\n", ["--target", "z"], "'z' is not a column"),
        ("a,y\n1,2\n3,x\n", ["--target", "y"], "line 3, column 'y': 'x' is not a number"),
        ("a,y\n1,2\n3\n", ["--target", "y"], "line 3 has 1 fields"),
        ("a,y\n1,nan\n", ["--target", "y"], "NaN or infinite"),
        ("y\n1\n2\n", ["--target", "y"], "no feature columns"),
        ("a,y\n1,2\n", [], "--data and --target go together"),
    ],
)
def test_bad_data_gives_one_line_and_a_nonzero_exit(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    args: list[str],
    message: str,
) -> None:
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_text(content)
    assert main(["demo", "--data", str(path), *args]) != 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    "args", [["demo", "--n-samples", "0"], ["demo", "--outlier-fraction", "1.5"], ["nope"]]
)
def test_bad_options_exit_with_usage(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert "usage: gradopt" in capsys.readouterr().err


def test_python_dash_m_gradopt_runs_the_demo() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gradopt", "demo", "--n-samples", "200", "--n-features", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "gradopt analytic" in proc.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--epsilon", "nan"], "--epsilon must be a finite number >= 1"),
        (["demo", "--alpha", "inf"], "--alpha must be a finite number >= 0"),
    ],
)
def test_non_finite_options_are_one_line_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_negative_seed_is_rejected_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--seed", "-1"])
    assert info.value.code == 2
    assert "non-negative integer" in capsys.readouterr().err
