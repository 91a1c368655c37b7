"""Pictures for the ``gradopt`` subcommands: drawn on a bare matplotlib Figure (no pyplot,
no global backend switched) and saved where ``--plot`` says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradopt._cli_common import CommandError, one_line

__all__ = ["check_plot_path", "save_figure"]


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise CommandError("--plot needs matplotlib: pip install 'gradopt[plot]'") from None
    return Figure


def check_plot_path(path: Path) -> None:
    """Refuse, before any work, a --plot path that cannot be written in a known format."""
    Figure = _figure_class()
    formats = Figure().canvas.get_supported_filetypes()
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in formats:
        known = ", ".join(f".{s}" for s in sorted(formats))
        raise CommandError(f"--plot {str(path)!r}: the file name must end in one of {known}")
    if path.is_dir():
        raise CommandError(f"--plot {str(path)!r} is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise CommandError(f"--plot {str(path)!r}: no directory {str(parent)!r}")


def save_figure(draw: Callable[[Any], None], path: Path, size: tuple[float, float]) -> None:
    """Make a Figure of `size` inches, let `draw(fig)` fill it, save it to `path`."""
    fig = _figure_class()(figsize=size, layout="constrained")
    draw(fig)
    try:
        fig.savefig(path, dpi=100)
    except OSError as exc:
        raise CommandError(f"--plot {str(path)!r}: cannot write: {one_line(exc)}") from None
