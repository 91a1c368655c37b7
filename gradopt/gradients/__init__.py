"""Gradient providers: one interface, three ways to get a derivative."""

from gradopt.gradients._base import BaseProvider, GradientProvider, SupportsHessp, hessp_of
from gradopt.gradients.analytic import Analytic
from gradopt.gradients.autograd import Autograd
from gradopt.gradients.finite_difference import FiniteDifference

__all__ = [
    "Analytic",
    "Autograd",
    "BaseProvider",
    "FiniteDifference",
    "GradientProvider",
    "SupportsHessp",
    "hessp_of",
]
