"""``gradopt demo --mode least-squares``: gradopt.least_squares with robust losses."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradopt.cli import main

NAMES = [
    "sum of squares, central",
    "soft_l1, central",
    "cauchy, central",
    "cauchy, autograd",
    "scipy cauchy, 2-point",
    "L-BFGS-B, sum of squares",
]


def _rows(text: str) -> dict[str, list[str]]:
    return {
        name: line[len(name) :].split()
        for line in text.splitlines()
        for name in NAMES
        if line.startswith(name)
    }


def test_robust_losses_resist_the_outliers_and_agree_with_scipy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["demo", "--mode", "least-squares", "--n-samples", "300", "--n-features", "3"]
    assert main([*argv, "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "n = 300, d = 3, 15 targets shifted by 10·N(0,1)" in captured.out
    rows = _rows(captured.out)
    assert list(rows) == NAMES
    error = {name: float(cells[0]) for name, cells in rows.items()}
    # the outliers pull the plain sum of squares; the robust losses see through them
    assert error["sum of squares, central"] > 5 * error["cauchy, central"]
    assert error["cauchy, central"] < 0.02 and error["soft_l1, central"] < 0.05
    # the same cauchy minimum from differences, autograd and scipy
    assert float(rows["cauchy, central"][1]) < 1e-6
    assert float(rows["cauchy, autograd"][1]) < 1e-6
    assert rows["scipy cauchy, 2-point"][1] == "reference"
    # nit, nfev, njev: an exact Jacobian costs fewer calls than central differences
    # (2d = 6 per Jacobian), and Gauss-Newton fewer derivatives than L-BFGS-B
    nfev = {name: int(cells[3]) for name, cells in rows.items()}
    njev = {name: int(cells[4]) for name, cells in rows.items()}
    assert nfev["cauchy, autograd"] < nfev["cauchy, central"]
    assert njev["sum of squares, central"] < njev["L-BFGS-B, sum of squares"]


def test_without_outliers_every_fit_finds_the_truth(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["demo", "--mode", "least-squares", "--n-samples", "200", "--n-features", "2"]
    assert main([*argv, "--outlier-fraction", "0", "--seed", "3", "-q"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert list(rows) == NAMES
    assert all(float(cells[0]) < 0.05 for cells in rows.values())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--data", "d.csv", "--target", "y"], "--data applies to --mode huber or robust"),
        (["--plot", "out.png"], "--plot applies to --mode huber or robust"),
        (["--alpha", "0.1"], "--alpha applies to --mode huber, not --mode least-squares"),
    ],
)
def test_options_of_the_other_modes_are_refused(
    extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = [str(tmp_path / a) if a.endswith((".csv", ".png")) else a for a in extra]
    assert main(["demo", "--mode", "least-squares", *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"gradopt demo: error: {message}\n"
    assert not (tmp_path / "out.png").exists()
