"""Linear models fitted with gradopt's providers and optimizers (scikit-learn compatible)."""

from gradopt.linear_model._huber import HuberRegressor
from gradopt.linear_model._huber_loss import huber_loss, huber_loss_and_gradient

__all__ = ["HuberRegressor", "huber_loss", "huber_loss_and_gradient"]
