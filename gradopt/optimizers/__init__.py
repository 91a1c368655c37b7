"""Optimizers that take any :class:`~gradopt.GradientProvider`."""

from gradopt.optimizers._results import Status
from gradopt.optimizers.gradient_descent import gradient_descent
from gradopt.optimizers.minimize import available_methods, minimize
from gradopt.optimizers.options import GradientDescentOptions

__all__ = [
    "GradientDescentOptions",
    "Status",
    "available_methods",
    "gradient_descent",
    "minimize",
]
