"""Gradient providers: one interface, several ways to get a derivative."""

from gradopt.gradients._base import BaseProvider, GradientProvider, SupportsHessp, hessp_of
from gradopt.gradients.analytic import Analytic
from gradopt.gradients.autograd import Autograd
from gradopt.gradients.finite_difference import FiniteDifference
from gradopt.gradients.symbolic import Symbolic

__all__ = [
    "Analytic",
    "Autograd",
    "BaseProvider",
    "FiniteDifference",
    "GradientProvider",
    "SupportsHessp",
    "Symbolic",
    "hessp_of",
]
