"""Pages the docs build generates into ``docs/_generated/`` before reading the sources.

- ``cli_<command>.txt``: ``gradopt <command> --help`` as the parser prints it.
- ``demo.txt``, ``demo_robust.txt``, ``demo_lsq.txt``: what ``gradopt demo`` prints in
  each mode.
- ``bench_*.png``: figures drawn from the stored outputs of the benchmark scripts
  (``docs/benchmarks/*.txt``; :mod:`bench_figures`). Benchmarks are never run here.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

GENERATED = Path(__file__).resolve().parents[1] / "_generated"


def _cli_help() -> None:
    from gradopt.cli import _parser

    parser = _parser()
    commands = ["demo", "step-error", "check-grad"]
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal's width
    try:
        for command in [None, *commands]:
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
                parser.parse_args([command, "--help"] if command else ["--help"])
            name = f"cli_{command or 'gradopt'}.txt"
            (GENERATED / name).write_text(out.getvalue())
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def _demo() -> None:
    from gradopt.cli import main

    modes = {"huber": "demo.txt", "robust": "demo_robust.txt", "least-squares": "demo_lsq.txt"}
    for mode, name in modes.items():
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = main(["demo", "--mode", mode, "--quiet"])
        if status != 0:
            raise RuntimeError(f"gradopt demo --mode {mode} exited with status {status}")
        (GENERATED / name).write_text(out.getvalue())


def generate(app: Any) -> None:
    import bench_figures

    GENERATED.mkdir(exist_ok=True)
    _cli_help()
    _demo()
    bench_figures.draw_all(GENERATED)


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
