"""Pictures for the ``gradopt`` subcommands: drawn on a bare matplotlib Figure (no pyplot,
no global backend switched) and saved where ``--plot`` says."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gradopt._cli_common import CommandError, one_line

__all__ = ["check_plot_path", "quiet_symlog", "save_figure"]


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


@contextmanager
def quiet_symlog() -> Iterator[None]:
    """matplotlib 3.7.0 warns for every artist that lies wholly inside a symlog axis's
    linear range (a zero line, a band, limits); later releases do not. Silence that."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All values for SymLogScale are below linthresh")
        yield


def save_figure(draw: Callable[[Any], None], path: Path, size: tuple[float, float]) -> None:
    """Make a Figure of `size` inches, let `draw(fig)` fill it, save it to `path`."""
    fig = _figure_class()(figsize=size, layout="constrained")
    with quiet_symlog():
        draw(fig)
        try:
            fig.savefig(path, dpi=100)
        except OSError as exc:
            raise CommandError(f"--plot {str(path)!r}: cannot write: {one_line(exc)}") from None
