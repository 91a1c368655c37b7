"""gradopt: optimize code that computes f, with the gradient from wherever suits it.

Symbolic, numerical (finite differences) and automatic (autograd, JAX) derivatives share
one interface, :class:`GradientProvider`, which every optimizer accepts.
"""

from gradopt.checking import check_gradient
from gradopt.exceptions import GradoptError
from gradopt.gradients import (
    Analytic,
    Autograd,
    BaseProvider,
    FiniteDifference,
    GradientProvider,
    Jax,
    SupportsHessp,
    Symbolic,
)
from gradopt.optimizers import Constraint, Status, least_squares, minimize

__version__ = "0.1.0.dev0"

__all__ = [
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

# Subpackages that import scikit-learn: ``gradopt.linear_model`` works after a plain
# ``import gradopt`` but costs nothing until first used.
_LAZY_SUBMODULES = {"linear_model"}


def __getattr__(name: str) -> object:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"gradopt.{name}")
    raise AttributeError(f"module 'gradopt' has no attribute {name!r}")
