"""``gradopt step-error``: the step-size study as a table and a picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradopt import _cli_common
from gradopt.cli import main
from tests.cli_helpers import user_module

PNG = b"\x89PNG\r\n\x1a\n"


def _rows(out: str) -> dict[float, list[str]]:
    """The table's rows by step h."""
    rows = {}
    for line in out.splitlines():
        cells = line.split()
        try:
            h = float(cells[0])
        except (ValueError, IndexError):
            continue
        rows[h] = cells[1:]
    return rows


@pytest.mark.parametrize(
    ("function", "x0", "truth"),
    [("sin", "1", np.cos(1.0)), ("exp", "2", np.exp(2.0)), ("rosen", "1,2", -400.0)],
)
def test_builtin_functions_give_a_table_by_decade(
    function: str, x0: str, truth: float, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["step-error", "--function", function, "--x0", x0, "--method", "central"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert f"df/dx_0 = {truth:.12g}"[:20] in first and "exact, from the formula" in first
    rows = _rows(out)
    assert sorted(rows) == [10.0**k for k in range(-16, 1)]
    errors = {h: float(cells[1]) for h, cells in rows.items()}
    # The V: large at both ends, small near the central difference's best step 1e-5.
    assert errors[1e-5] < 1e-8 * max(1.0, abs(truth))
    assert errors[1e-5] < errors[1e-12] and errors[1e-5] < errors[1.0]
    assert "predicted by the model: h = " in out


def test_each_method_and_a_component(capsys: pytest.CaptureFixture[str]) -> None:
    for method in ("forward", "backward", "complex", "richardson"):
        argv = ["step-error", "--function", "rosen", "--x0", "1,2,3", "--component", "2"]
        assert main([*argv, "--method", method]) == 0
        out = capsys.readouterr().out
        assert f"method: {method}" in out
        assert "df/dx_2 = -200 " in out  # 200 (x_2 - x_1^2) = 200 (3 - 4) at x = (1, 2, 3)
    assert "Richardson's default first step: h = 6.2e-02" in out
    assert "step refused (too small at x0)" in out


def test_the_plateau_is_marked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["step-error", "--function", "exp", "--x0", "10"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert "plateau" in " ".join(rows[1e-16])
    assert "plateau" not in " ".join(rows[1e-8])


def test_the_picture_is_saved(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_png = tmp_path / "v.png"
    assert main(["step-error", "--x0", "1", "--plot", str(out_png)]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"picture: {out_png}")
    assert out_png.read_bytes().startswith(PNG)
    out_svg = tmp_path / "r.svg"
    assert main(["step-error", "--method", "richardson", "--plot", str(out_svg)]) == 0
    assert "Richardson extrapolation" in out_svg.read_text()


def test_a_user_function_with_a_richardson_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mod = user_module(tmp_path, monkeypatch, "se_user")
    assert main(["step-error", "--function", f"{mod}:f", "--x0", "1,2", "--component", "1"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    truth = 2 * 2 * np.sin(2.0) + 4 * np.cos(2.0)
    assert f"df/dx_1 = {truth:.10g}"[:18] in first
    assert "Richardson extrapolation, ± " in first and "give --derivative" in first
    argv = ["step-error", "--function", f"{mod}:f", "--x0", "1", "--derivative", "2.5"]
    assert main(argv) == 0
    assert "df/dx_0 = 2.5 (given by --derivative)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--x0", "1", "--component", "1"], "--component 1 is out of range for --x0 with 1"),
        (["--function", "rosen", "--x0", "1"], "--function rosen needs at least 2 coordinates"),
        (["--function", "{m}:vector", "--x0", "1,2"], "must return a scalar"),
        (["--function", "{m}:raises"], "failed at x0: divided by nothing (ZeroDivisionError)"),
        (["--function", "{m}:real_only", "--method", "complex"], "needs f to carry complex"),
        (["--function", "{m}:nope"], "--function {m}:nope: module '{m}' has no 'nope'"),
        (["--derivative", "inf"], "--derivative must be finite"),
        (["--plot", "{tmp}/no/such/dir/x.png"], "no directory"),
        (["--plot", "{tmp}/x.nosuchformat"], "the file name must end in one of"),
        (["--plot", "{tmp}"], "the file name must end in one of"),
    ],
)
def test_bad_input_is_one_line_with_status_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    mod = user_module(tmp_path, monkeypatch, "se_bad")
    args = [a.format(m=mod, tmp=tmp_path) for a in argv]
    assert main(["step-error", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message.format(m=mod) in captured.err
    assert captured.err.startswith("gradopt step-error: error: ")
    assert len(captured.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--function", "cosh"], "must be MODULE:FUNCTION"),
        (["--method", "secant"], "invalid choice: 'secant'"),
        (["--component", "-1"], "must be a non-negative integer"),
        (["--x0", "1,,2"], "got '' at position 2"),
    ],
)
def test_bad_options_are_parser_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["step-error", *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_the_progress_bar_and_quiet(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_cli_common, "BAR_DELAY", 0.0)
    assert main(["step-error"]) == 0
    assert "step-error" in capsys.readouterr().err
    assert main(["step-error", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("command", ["demo", "step-error", "check-grad"])
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: gradopt {command}")
    assert "--quiet" in out
