"""Shared by the CLI tests: a user module written to a directory, importable from it."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

USER_MODULE = """
import autograd.numpy as np


def f(x):  # autograd.numpy: differentiable by autograd and the complex step
    return np.sum(x**2 * np.sin(x))


def grad(x):
    return 2 * x * np.sin(x) + x**2 * np.cos(x)


def grad_off(x):
    g = grad(x)  # a numpy array: assignment is fine here
    g[2] *= 1 + 1e-4
    return g


def grad_short(x):
    return grad(x)[:-1]


def grad_nan(x):
    g = grad(x)
    g[1] = np.nan
    return g


def vector(x):
    return x


def raises(x):
    raise ZeroDivisionError("divided by nothing")


def real_only(x):
    return float(np.sum(x**2))


NOT_A_FUNCTION = 3
"""


def user_module(directory: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> str:
    """Write the module `name` into `directory`, make it the current directory (which the
    CLI puts on the path) and forget any earlier module of that name."""
    (directory / f"{name}.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.chdir(directory)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name
