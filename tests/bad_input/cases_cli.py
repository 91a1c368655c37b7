"""The ``gradopt`` command: every subcommand with bad arguments and bad data files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gradopt.cli import main
from tests.bad_input.outcomes import Case, Exits

__all__ = ["CASES", "CSV_FILES"]

#: Data files for ``gradopt demo --data``, written to a temporary directory by the test.
CSV_FILES = {
    "good.csv": "a,b,y\n1,2,3\n2,3,5\n3,5,8\n4,1,5\n5,2,7\n",
    "nan.csv": "a,b,y\n1,nan,3\n2,3,5\n3,5,8\n",
    "inf.csv": "a,b,y\n1,inf,3\n2,3,5\n3,5,8\n",
    "empty.csv": "",
    "header.csv": "a,b,y\n",
    "one_row.csv": "a,b,y\n1,2,3\n",
    "text.csv": "a,b,y\n1,x,3\n2,3,5\n3,5,8\n",
    "complex.csv": "a,b,y\n1,1+2j,3\n2,3,5\n3,5,8\n",
    "ragged.csv": "a,b,y\n1,2\n2,3,5\n",
    "twice.csv": "a,y,y\n1,2,2\n2,3,3\n3,5,5\n",
    "constant.csv": "a,b,y\n1,2,3\n2,3,3\n3,5,3\n4,1,3\n",
    "target_only.csv": "y\n1\n2\n3\n",
}

#: Set by the test to the directory holding CSV_FILES.
DATA: list[Path] = []


def _run(*argv: str) -> Any:
    def call() -> Any:
        args = [a.replace("{data}", str(DATA[0])) for a in argv]
        try:
            return main(args)
        except SystemExit as stop:  # argparse's own errors
            return stop.code

    return call


def _demo_cases() -> list[Case]:
    entry = "gradopt demo"
    files: list[tuple[str, str, tuple[str, ...]]] = [
        ("a cell ``nan``", "nan.csv", ("line 2, column 'b'", "'nan' is NaN or infinite")),
        ("a cell ``inf``", "inf.csv", ("line 2, column 'b'", "'inf' is NaN or infinite")),
        ("an empty file", "empty.csv", ("is empty",)),
        ("a header and no rows", "header.csv", ("0 data row(s)",)),
        ("one data row", "one_row.csv", ("1 data row(s)", "at least 2")),
        ("a cell ``x``", "text.csv", ("line 2, column 'b'", "'x' is not a number")),
        ("a cell ``1+2j``", "complex.csv", ("'1+2j' is not a number",)),
        ("a short row", "ragged.csv", ("line 2 has 2 fields, expected 3",)),
        ("the target column twice", "twice.csv", ("column name 'y' appears twice",)),
        ("a constant target", "constant.csv", ("the target is constant",)),
        ("no feature column", "target_only.csv", ("no feature columns",)),
        ("a file that does not exist", "missing.csv", ("cannot read --data", "No such file")),
    ]
    cases = [
        Case(
            entry,
            f"``--data``: {label}",
            _run("demo", "--data", f"{{data}}/{name}", "--target", "y"),
            Exits(2, says),
        )
        for label, name, says in files
    ]
    args: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
        (
            "``--target`` not a column",
            ("--data", "{data}/good.csv", "--target", "z"),
            ("--target 'z' is not a column",),
        ),
        (
            "``--data`` without ``--target``",
            ("--data", "{data}/good.csv"),
            ("--data and --target go together",),
        ),
        ("``--data`` a directory", ("--data", "{data}", "--target", "y"), ("cannot read --data",)),
        ("``--n-samples 0``", ("--n-samples", "0"), ("--n-samples: must be a positive integer",)),
        (
            "``--n-samples abc``",
            ("--n-samples", "abc"),
            ("--n-samples: must be an integer, got 'abc'",),
        ),
        ("``--n-samples 1e3``", ("--n-samples", "1e3"), ("must be an integer, got '1e3'",)),
        ("``--n-samples 1``", ("--n-samples", "1"), ("1 data row(s)",)),
        ("``--epsilon nan``", ("--epsilon", "nan"), ("--epsilon must be a finite number >= 1",)),
        ("``--alpha -1``", ("--alpha", "-1"), ("--alpha must be a finite number >= 0",)),
        ("``--outlier-fraction 1``", ("--outlier-fraction", "1"), ("must be in [0, 1)",)),
        ("``--seed -1``", ("--seed", "-1"), ("--seed: must be a non-negative integer",)),
        ("an unknown option", ("--bogus",), ("unrecognized arguments: --bogus",)),
    ]
    cases += [
        Case(entry, label, _run("demo", *argv), Exits(2, says)) for label, argv, says in args
    ]
    return cases


def _command_cases() -> list[Case]:
    entry = "gradopt"
    return [
        Case(entry, "no subcommand", _run(), Exits(2, ("arguments are required: command",))),
        Case(
            entry, "an unknown subcommand", _run("nosuch"), Exits(2, ("invalid choice: 'nosuch'",))
        ),
    ]


CASES = _command_cases() + _demo_cases()
