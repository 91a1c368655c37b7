"""The public API is exactly what ``gradopt.__all__`` lists: a change here is deliberate."""

from __future__ import annotations

import importlib
import types

import pytest

import gradopt

PUBLIC = [
    "Analytic",
    "Autograd",
    "BaseProvider",
    "Constraint",
    "FiniteDifference",
    "GradientProvider",
    "GradoptError",
    "Jax",
    "Status",
    "SupportsHessp",
    "Symbolic",
    "__version__",
    "check_gradient",
    "least_squares",
    "minimize",
]


def test_all_is_pinned_and_sorted() -> None:
    assert gradopt.__all__ == PUBLIC
    assert sorted(gradopt.__all__) == gradopt.__all__


@pytest.mark.parametrize("name", PUBLIC)
def test_each_public_name_is_importable(name: str) -> None:
    module = importlib.import_module("gradopt")
    assert getattr(module, name) is getattr(gradopt, name)
    exec(f"from gradopt import {name}", {})


def test_no_public_name_is_left_out() -> None:
    """Public-looking names defined in the package namespace are all in __all__."""
    public = {
        n
        for n, v in vars(gradopt).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType)  # subpackages
    }
    assert public <= set(gradopt.__all__)
