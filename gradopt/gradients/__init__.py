"""Gradient providers: one interface, several ways to get a derivative."""

from gradopt.gradients._base import BaseProvider
from gradopt.gradients._jacobian import SupportsJacobian
from gradopt.gradients._protocols import GradientProvider, SupportsHessp, SupportsJvp, hessp_of
from gradopt.gradients.analytic import Analytic
from gradopt.gradients.autograd import Autograd, ObjectArrayWarning
from gradopt.gradients.finite_difference import FiniteDifference
from gradopt.gradients.jax import Jax
from gradopt.gradients.symbolic import Symbolic

__all__ = [
    "Analytic",
    "Autograd",
    "BaseProvider",
    "FiniteDifference",
    "GradientProvider",
    "Jax",
    "ObjectArrayWarning",
    "SupportsHessp",
    "SupportsJacobian",
    "SupportsJvp",
    "Symbolic",
    "hessp_of",
]
