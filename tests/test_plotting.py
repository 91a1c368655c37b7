"""plot_step_error draws the step-size picture (Agg backend, no display)."""

from __future__ import annotations

import builtins
import sys
from typing import Any

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gradopt.analysis import step_error  # noqa: E402
from gradopt.exceptions import BackendUnavailableError  # noqa: E402
from gradopt.plotting import plot_step_error  # noqa: E402


def test_lines_and_plateau() -> None:
    r = step_error(np.exp, 10.0, np.exp(10.0))
    ax = plot_step_error(r)
    try:
        labels = [line.get_label() for line in ax.get_lines()]
        assert labels[:3] == ["measured error", "truncation model", "round-off model"]
        assert any(label.startswith("predicted best h") for label in labels)
        assert any(label.startswith("measured best h") for label in labels)
        assert ax.get_xscale() == ax.get_yscale() == "log"
        measured = ax.get_lines()[0]
        np.testing.assert_array_equal(measured.get_xdata(), r.steps)
        predicted = next(ln for ln in ax.get_lines() if ln.get_label().startswith("predicted"))
        assert predicted.get_xdata()[0] == pytest.approx(r.predicted_best_step)
        # The plateau is shaded.
        assert any("plateau" in str(p.get_label()) for p in ax.patches)
    finally:
        plt.close(ax.figure)


def test_draws_into_a_given_axes_and_without_plateau() -> None:
    fig, ax = plt.subplots()
    try:
        out = plot_step_error(step_error(np.sin, 1.0, np.cos(1.0), method="complex"), ax=ax)
        assert out is ax
        assert not any("plateau" in str(p.get_label()) for p in ax.patches)
    finally:
        plt.close(fig)


def test_richardson_draws_its_error_estimate_instead_of_models() -> None:
    fig, ax = plt.subplots()
    try:
        plot_step_error(step_error(np.sin, 1.0, np.cos(1.0), method="richardson"), ax=ax)
        labels = [str(line.get_label()) for line in ax.get_lines()]
        assert labels[:2] == ["measured error", "its error estimate"]
        assert not any("model" in label for label in labels)
        assert any(label.startswith("default first step = 6.2e-02") for label in labels)
        assert "Richardson" in ax.get_title()
    finally:
        plt.close(fig)


def test_rejects_other_objects() -> None:
    with pytest.raises(TypeError, match="StepErrorResult"):
        plot_step_error(np.zeros(3))  # type: ignore[arg-type]


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_mpl(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mpl)
    for name in [m for m in sys.modules if m.startswith("matplotlib")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(BackendUnavailableError, match=r"gradopt\[plot\]"):
        plot_step_error(step_error(np.sin, 1.0, np.cos(1.0), steps=[1e-3]))
