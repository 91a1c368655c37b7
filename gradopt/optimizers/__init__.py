"""Optimizers that take any :class:`~gradopt.GradientProvider`."""

from gradopt.optimizers._constraints import Constraint
from gradopt.optimizers._lsq_options import LeastSquaresOptions
from gradopt.optimizers._results import Status
from gradopt.optimizers._spec import Runner, RunSpec
from gradopt.optimizers.gradient_descent import gradient_descent
from gradopt.optimizers.least_squares import least_squares
from gradopt.optimizers.minimize import available_methods, minimize
from gradopt.optimizers.options import GradientDescentOptions

__all__ = [
    "Constraint",
    "GradientDescentOptions",
    "LeastSquaresOptions",
    "RunSpec",
    "Runner",
    "Status",
    "available_methods",
    "gradient_descent",
    "least_squares",
    "minimize",
]
