"""Linear models fitted with gradopt's providers and optimizers (scikit-learn compatible)."""

from gradopt.linear_model._huber import HuberRegressor
from gradopt.linear_model._huber_loss import huber_loss, huber_loss_and_gradient
from gradopt.linear_model._robust import RobustRegressor
from gradopt.linear_model._robust_blocks import robust_loss, robust_loss_and_gradient
from gradopt.linear_model._robust_checks import ZeroScaleWarning

__all__ = [
    "HuberRegressor",
    "RobustRegressor",
    "ZeroScaleWarning",
    "huber_loss",
    "huber_loss_and_gradient",
    "robust_loss",
    "robust_loss_and_gradient",
]
