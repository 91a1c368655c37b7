"""``gradopt check-grad``: exit 0 when the gradient is right, 1 when wrong, 2 on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gradopt import _cli_common
from gradopt.cli import main
from tests.cli_helpers import user_module


@pytest.fixture
def mod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return user_module(tmp_path, monkeypatch, "cg_user")


@pytest.mark.parametrize("reference", ["richardson", "complex", "autograd"])
def test_a_right_gradient_exits_0(
    mod: str, reference: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check-grad", f"{mod}:f", f"{mod}:grad", "--x0", "1,2,3,4"]
    assert main([*argv, "--reference", reference]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"OK: {mod}:grad is the gradient of {mod}:f at x0 (d = 4)")
    assert f"of the {reference} reference" in out


@pytest.mark.parametrize("reference", ["richardson", "complex", "autograd"])
def test_a_wrong_gradient_exits_1_naming_the_component(
    mod: str, reference: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check-grad", f"{mod}:f", f"{mod}:grad_off", "--x0", "1,2,3,4"]
    assert main([*argv, "--reference", reference]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"WRONG: {mod}:grad_off is not the gradient")
    assert "1 component(s) off by more than rtol 1e-06" in out[0]
    assert "max relative error 1.0e-04 at index 2" in out[0]
    rows = [line.split() for line in out[2:]]
    assert [row[0] for row in rows] == ["2"]
    assert float(rows[0][-1]) == pytest.approx(1e-4, rel=1e-3)


def test_a_loose_rtol_accepts_the_small_error(mod: str) -> None:
    argv = ["check-grad", f"{mod}:f", f"{mod}:grad_off", "--x0", "1,2,3,4", "--rtol", "1e-3"]
    assert main(argv) == 0


def test_nan_in_the_gradient_is_wrong(mod: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-grad", f"{mod}:f", f"{mod}:grad_nan", "--x0", "1,2,3"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[2].split()[0] == "1" and out[2].split()[-1] == "nan"


def test_many_wrong_components_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cg_many.py").write_text(
        "import numpy as np\n"
        "def f(x):\n    return float(np.sum(x**3))\n"
        "def g(x):\n    return 3 * x**2 + np.arange(x.size)\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    x0 = ",".join(["1"] * 15)
    captured: list[str] = []
    monkeypatch.setattr(_cli_common.sys, "stdout", _Sink(captured))
    assert main(["check-grad", "cg_many:f", "cg_many:g", "--x0", x0]) == 1
    text = "".join(captured)
    assert "14 component(s) off" in text
    assert text.rstrip().endswith("... and 4 more")


class _Sink:
    def __init__(self, into: list[str]) -> None:
        self.into = into

    def write(self, text: str) -> int:
        self.into.append(text)
        return len(text)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["{m}:f", "{m}:grad_short"],
            "grad must return an array of shape (4,) (the shape of x); it returned shape (3,)",
        ),
        (["{m}:f", "nosuchmodule_xyz:g"], "GRADIENT nosuchmodule_xyz:g: no module named"),
        (["{m}:f", "{m}:missing"], "module '{m}' has no 'missing'"),
        (["{m}:NOT_A_FUNCTION", "{m}:grad"], "'NOT_A_FUNCTION' is a int, not a function"),
        (["{m}:vector", "{m}:grad"], "must return a scalar"),
        (["{m}:raises", "{m}:grad"], "failed at x0: divided by nothing (ZeroDivisionError)"),
        (["{m}:real_only", "{m}:grad", "--reference", "complex"], "the check failed"),
        (["{m}:f", "{m}:grad", "--rtol", "0"], "--rtol must be a positive number"),
    ],
)
def test_a_check_that_cannot_be_made_exits_2(
    mod: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a.format(m=mod) for a in argv]
    assert main(["check-grad", *args[:2], "--x0", "1,2,3,4", *args[2:]]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message.format(m=mod) in captured.err
    assert captured.err.startswith("gradopt check-grad: error: ")
    assert len(captured.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "spec",
    [
        "os:system('ls')",
        "__import__('os'):system",
        "a.b:c.d",
        "a::b",
        "a:b:c",
        "../x:f",
        "x/y:f",
        ":f",
        "x:",
        "import:f",
        "x:class",
        "x; rm -rf /:f",
    ],
)
def test_only_module_colon_name_is_accepted(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["check-grad", spec, "m:g", "--x0", "1"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "must be MODULE:FUNCTION" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("x0", "message"),
    [("1,a", "got 'a' at position 2"), ("1,nan", "must be finite numbers"), ("", "got ''")],
)
def test_bad_points_are_parser_errors(
    x0: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["check-grad", "m:f", "m:g", "--x0", x0])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_module_that_fails_to_import_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cg_broken.py").write_text("import numpy\nraise SystemExit('no')\n")
    (tmp_path / "cg_needs.py").write_text("import nosuchdependency_xyz\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert main(["check-grad", "cg_broken:f", "cg_broken:g", "--x0", "1"]) == 2
    assert "importing 'cg_broken' failed: no (SystemExit)" in capsys.readouterr().err
    assert main(["check-grad", "cg_needs:f", "cg_needs:g", "--x0", "1"]) == 2
    err = capsys.readouterr().err
    assert "importing 'cg_needs' failed: No module named 'nosuchdependency_xyz'" in err


def test_the_progress_bar_and_quiet(
    mod: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_cli_common, "BAR_DELAY", 0.0)
    assert main(["check-grad", f"{mod}:f", f"{mod}:grad", "--x0", "1,2"]) == 0
    assert "check-grad" in capsys.readouterr().err  # the bar, counting calls of f
    assert main(["check-grad", f"{mod}:f", f"{mod}:grad", "--x0", "1,2", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_as_a_command_in_the_users_directory(tmp_path: Path) -> None:
    """``python -m gradopt`` finds the module in the current directory, as ``python -m``."""
    (tmp_path / "cg_here.py").write_text(
        "import numpy as np\n"
        "def f(x):\n    return float(np.sum(np.exp(x)))\n"
        "def g(x):\n    return np.exp(x)\n"
        "def bad(x):\n    return np.exp(x) * 1.001\n"
    )
    repo = Path(__file__).resolve().parents[1]
    env = {"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"}
    runs = {}
    for grad in ("g", "bad"):
        runs[grad] = subprocess.run(
            [
                sys.executable,
                "-m",
                "gradopt",
                "check-grad",
                "cg_here:f",
                f"cg_here:{grad}",
                "--x0",
                "0.5,1",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
    assert runs["g"].returncode == 0, runs["g"].stderr
    assert runs["bad"].returncode == 1
    assert "WRONG" in runs["bad"].stdout and runs["bad"].stderr == ""
