"""The ``gradopt`` command: the demo's table and its error paths."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
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
    ("args", "message"),
    [
        (["demo", "--n-samples", "0"], "argument --n-samples: must be a positive integer"),
        (["demo", "--n-samples", "abc"], "argument --n-samples: must be an integer, got 'abc'"),
        (["demo", "--outlier-fraction", "1.5"], "must be in [0, 1)"),
        (["demo", "--epsilon", "x"], "argument --epsilon: must be a number, got 'x'"),
        (["nope"], "invalid choice: 'nope'"),
    ],
)
def test_bad_options_are_one_line_with_status_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "--help" in err


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


def _csv(path: Path, header: str, rows: np.ndarray) -> Path:
    lines = [",".join(repr(float(v)) for v in row) for row in rows]
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


def _small(tmp_path: Path, header: str = "a,b,y") -> Path:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2))
    y = X @ [1.0, -1.0] + 0.1 * rng.normal(size=40)
    return _csv(tmp_path / "data.csv", header, np.column_stack([X, y]))


def test_input_without_newlines_is_refused_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    """--data /dev/zero: a NUL byte on line 1, after reading one bounded line."""
    assert main(["demo", "--data", "/dev/zero", "--target", "y"]) == 2
    assert "holds a NUL byte on line 1: not a text file" in capsys.readouterr().err


def test_an_endless_line_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    from gradopt._cli_csv import DataError, read_csv

    path = tmp_path / "long.csv"
    path.write_text("a,y\n" + "1" * 5000)
    with pytest.raises(DataError, match="line 2 is longer than 1,000 characters"):
        read_csv(path, "y", max_line=1000)
    path.write_text("a" * 5000 + ",y\n1,2\n")
    with pytest.raises(DataError, match="line 1 is longer than 1,000 characters"):
        read_csv(path, "y", max_line=1000)


def test_too_many_numbers_are_refused(tmp_path: Path) -> None:
    from gradopt._cli_csv import DataError, read_csv

    with pytest.raises(DataError, match="more than 100 numbers"):
        read_csv(_small(tmp_path), "y", max_cells=100)


def test_duplicate_column_names_are_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The target twice would otherwise be a feature equal to y: a silent perfect fit."""
    assert main(["demo", "--data", str(_small(tmp_path, "y,a,y")), "--target", "y"]) == 2
    err = capsys.readouterr().err
    assert "column name 'y' appears twice (columns 1 and 3)" in err
    assert len(err.strip().splitlines()) == 1


def test_a_byte_order_mark_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _small(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert main(["demo", "--data", str(path), "--target", "a"]) == 0
    assert "n = 40, d = 2" in capsys.readouterr().out


def test_crlf_quotes_blank_lines_and_a_pipe(tmp_path: Path) -> None:
    """Windows line ends, quoted names and numbers, blank lines; from a file and a pipe
    (no count of rows in advance), in blocks smaller than the file."""
    from gradopt import _cli_csv

    body = '1,"2.5"\r\n\r\n 2 , 3.5\r\n ,\r\n3,4.4\r\n4,6\r\n'
    path = tmp_path / "data.csv"
    path.write_bytes(('"x","y"\r\n' + body * 3).encode())
    read, write = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(write, path.read_bytes()), os.close(write)))
    writer.start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_cli_csv, "_BLOCK", 16)
        from_file = _cli_csv.read_csv(path, "y")
        from_pipe = _cli_csv.read_csv(Path(f"/dev/fd/{read}"), "y")
    writer.join()
    os.close(read)
    expected = [2.5, 3.5, 4.4, 6.0] * 3
    for table in (from_file, from_pipe):
        assert table.features == ["x"]
        np.testing.assert_array_equal(table.y, expected)
        np.testing.assert_array_equal(table.X[:, 0], [1.0, 2.0, 3.0, 4.0] * 3)


def test_the_csv_reader_names_line_and_column(tmp_path: Path) -> None:
    from gradopt._cli_csv import read_csv

    path = tmp_path / "data.csv"
    path.write_text("a,y\n1,2\n3,4\n")
    table = read_csv(path, "y")
    np.testing.assert_array_equal(table.X, [[1.0], [3.0]])
    np.testing.assert_array_equal(table.y, [2.0, 4.0])
    assert table.X.flags.c_contiguous


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,y\n1,2\n3,4\n5,1e999\n", "line 4, column 'y': '1e999' is NaN or infinite"),
        ("a,y\n1,2\n3,1_000\n", "line 3, column 'y': '1_000' is not a number"),
        ("a,y\n1,2\n3,4,5\n", "line 3 has 3 fields, expected 2"),
        ("a,,y\n1,2,3\n", "column 2 of the header has no name"),
        ("", "is empty"),
        ("a,y\n", "has 0 data row(s)"),
        ("a,y\n1,2\n", "has 1 data row(s): the demo needs at least 2"),
        ("a,y\n1,3\n2,3\n4,3\n", "the target is constant (3 in every row)"),
    ],
)
def test_unusable_files_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "data.csv"
    path.write_text(content)
    assert main(["demo", "--data", str(path), "--target", "y"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_binary_input_is_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,y\n1,2\n\xff\xfe,3\n")
    assert main(["demo", "--data", str(path), "--target", "y"]) == 2
    assert "is not UTF-8 text" in capsys.readouterr().err


def test_a_closed_pipe_ends_quietly() -> None:
    """``gradopt demo | head -1``: the reader is gone before the table is written."""
    with subprocess.Popen(
        [sys.executable, "-m", "gradopt", "demo", "--n-samples", "20", "--n-features", "1", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[1],
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # as head does after its line
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 141
    assert err == ""


def test_wide_data_skips_finite_differences_with_a_note(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["demo", "--n-samples", "60", "--n-features", "6", "--fd-max-features", "5"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "gradopt finite-difference" not in _table(out)
    assert "gradopt finite-difference: skipped: d = 6 features > --fd-max-features 5" in out
    assert "2·(d + 2) = 16 evaluations" in out
    assert list(_table(out)) == [row for row in ROWS if "finite" not in row]


def test_warnings_of_a_fit_become_notes(capsys: pytest.CaptureFixture[str]) -> None:
    """n < d: every fit stops at max_iter; the warnings are notes, not stderr noise."""
    argv = ["demo", "--n-samples", "30", "--n-features", "60", "--fd-max-features", "0"]
    assert main([*argv, "--quiet"]) == 0  # no progress bar on a loaded machine either
    captured = capsys.readouterr()
    assert captured.err == ""
    notes = captured.out.split("notes:\n", 1)[1].splitlines()
    assert all(line.startswith("  ") and ": " in line for line in notes)


def test_an_unexpected_error_is_still_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import gradopt.cli

    def boom(*args: object) -> None:
        raise MemoryError("Unable to allocate 7.3 TiB\nfor an array")

    monkeypatch.setattr(gradopt.cli, "synthetic_problem", boom)
    assert main(["demo"]) == 2
    err = capsys.readouterr().err
    assert err == "gradopt demo: error: Unable to allocate 7.3 TiB for an array (MemoryError)\n"


def test_a_huge_synthetic_problem_is_refused_before_allocating(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--n-samples", "1000000000", "--n-features", "1000"]) == 2
    assert "more than 100,000,000 numbers" in capsys.readouterr().err


def test_demo_plot_draws_fits_with_outliers_marked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from matplotlib.figure import Figure

    from gradopt._cli_demo import fit_all, synthetic_problem
    from gradopt._cli_demo_plot import draw_demo

    out = tmp_path / "demo.png"
    argv = ["demo", "--n-samples", "200", "--n-features", "3", "--plot", str(out)]
    assert main(argv) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"picture: {out}")
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    problem = synthetic_problem(200, 1, 0.05, 0)
    rows, _ = fit_all(problem, 1.35, 1e-4)
    fig = Figure()
    draw_demo(fig, problem, rows, 1.35)
    data, *residuals = [ax for ax in fig.axes if ax.get_visible()]
    assert len(residuals) == len(rows) == 5
    # Panel 1: the data, the 10 shifted targets marked, one line per method.
    labels = [line.get_label() for line in data.get_lines()]
    assert labels == ["data", "planted outliers", *(row.name for row in rows)]
    assert len(data.get_lines()[1].get_xdata()) == 10
    for ax, row in zip(residuals, rows, strict=True):
        assert ax.get_title() == f"{row.name}: residuals"
        marked = ax.get_lines()[1]
        assert len(marked.get_xdata()) == 10


def test_demo_plot_of_a_csv_file_marks_the_outliers_huber_finds(tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    from gradopt._cli_demo import csv_problem, fit_all
    from gradopt._cli_demo_plot import draw_demo

    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 2))
    y = X @ [1.0, 2.0] + 0.1 * rng.normal(size=60)
    y[[5, 17, 40]] += 50.0
    problem = csv_problem(_csv(tmp_path / "d.csv", "a,b,y", np.column_stack([X, y])), "y")
    rows, _ = fit_all(problem, 1.35, 1e-4)
    fig = Figure()
    draw_demo(fig, problem, rows, 1.35)
    marked = fig.axes[1].get_lines()[1]
    assert marked.get_label() == "outliers by gradopt analytic"
    assert {5, 17, 40} <= set(marked.get_xdata().astype(int))


def test_demo_robust_mode_mm_resists_leverage_points(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "robust.png"
    argv = ["demo", "--mode", "robust", "--n-samples", "400", "--n-features", "3"]
    assert main([*argv, "--plot", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    assert "20 rows moved to a far leverage point" in text
    names = ["least squares", "Huber M (MAD scale)", "bisquare M", "MM (S start, bisquare)"]
    rows = {
        name: line[len(name) :].split()
        for line in text.splitlines()
        for name in [*names, "scikit-learn Huber"]
        if line.startswith(name)
    }
    assert list(rows) == [*names, "scikit-learn Huber"]
    errors = {name: float(cells[0]) for name, cells in rows.items()}
    assert errors["MM (S start, bisquare)"] < 0.02
    assert min(errors[n] for n in names[:3]) > 10 * errors["MM (S start, bisquare)"]
    assert rows["MM (S start, bisquare)"][3:6] == ["20", "of", "20"]  # planted, all flagged
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_demo_robust_mode_on_a_csv_file_and_huber_only_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _small(tmp_path)
    assert main(["demo", "--mode", "robust", "--data", str(path), "--target", "y"]) == 0
    text = capsys.readouterr().out
    assert "n = 40, d = 2" in text and "MM (S start, bisquare)" in text
    assert main(["demo", "--mode", "robust", "--epsilon", "1.5"]) == 2
    err = capsys.readouterr().err
    assert err == "gradopt demo: error: --epsilon applies to --mode huber, not --mode robust\n"
