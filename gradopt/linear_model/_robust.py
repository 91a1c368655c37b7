"""RobustRegressor: M- and MM-estimation of a linear model, with standard errors."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy.stats import norm
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError
from gradopt.gradients import GradientProvider
from gradopt.linear_model._blocked import Blocks, RowBlocks, checked_sample_weight
from gradopt.linear_model._dask_blocks import DaskBlocks, dask_predict, is_dask_array
from gradopt.linear_model._huber import _single_threaded_blas
from gradopt.linear_model._robust_checks import (
    check_dask_settings,
    check_design,
    check_exact,
    check_rank,
    degenerate_warning,
    underdetermined,
)
from gradopt.linear_model._robust_fit import MFit, least_squares_start
from gradopt.linear_model._robust_inference import COVARIANCES, RobustSummary, covariance
from gradopt.linear_model._robust_losses import LOSSES, RobustLoss, make_loss
from gradopt.linear_model._robust_methods import FitSettings, fit_joint, fit_mestimate, fit_mm
from gradopt.linear_model._robust_objective import RobustObjective
from gradopt.linear_model._robust_scale import SCALES, ScaleRule
from gradopt.linear_model._robust_solvers import GRADIENTS, SOLVER_NAMES

__all__ = ["RobustRegressor"]

_MM_TUNING = 4.685061  # robustbase's tuning.psi: bisquare at 95% efficiency


class RobustRegressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """Robust linear regression: M- or MM-estimates with standard errors.

    Minimises ``2σ²·Σᵢ sᵢ·ρ(rᵢ/σ) + α‖coef‖²`` over the coefficients and intercept for
    a robust loss ``ρ``, with the scale ``σ`` re-estimated from the residuals (M), or
    fixed at a high-breakdown S-estimate (MM); then Huber's covariance estimates. The
    estimates equal statsmodels' ``RLM`` and R's ``MASS::rlm``/``robustbase::lmrob``
    (see the user guide), at a fraction of their time and memory.

    Parameters
    ----------
    loss : {"huber", "bisquare", "cauchy", "welsch", "hampel", "pseudo-huber", \
"least-squares"}, default=None
        ``ρ``; None means "huber" with method "M" and "bisquare" with "MM".
    tuning : float or tuple of float, default=None
        The loss's constant(s); None gives 95% efficiency at the normal: huber 1.345,
        bisquare 4.685 (4.685061 with "MM", robustbase's value), cauchy 2.3849, welsch
        2.9846, hampel (2, 4, 8), pseudo-huber 1.2871.
    scale : {"mad", "huber", "joint"} or float, default=None
        The scale with method "M": the normalised median absolute residual
        (``"mad"``, None's meaning, the default of RLM and rlm), Huber's proposal 2
        (``"huber"``, ``d = 2.5`` as statsmodels' ``HuberScale``), Owen's concomitant
        scale (``"joint"``: :class:`HuberRegressor`'s objective, with `alpha` in its
        units; Huber loss only) or a positive number held fixed. Method "MM" uses the
        S-scale and takes no `scale`.
    method : {"M", "MM"}, default="M"
        "MM": an S-estimate (bisquare, 50% breakdown, by fast-S with `n_starts` random
        elemental starts) gives the start and the scale of a redescending M-step:
        robustbase's ``lmrob`` default. With "M", redescending losses start from the
        Huber fit.
    cov : {"H1", "H2", "H3"}, default="H1"
        Huber's covariance estimate behind ``cov_``, ``bse_`` and ``summary()``.
    alpha : float, default=0.0
        Strength of the ridge penalty ``alpha * ||coef||**2`` (intercept not penalised).
    fit_intercept : bool, default=True
    max_iter : int, default=200
        Iterations allowed to the solver in all (and to each S refinement).
    tol : float, default=1e-5
        Converged when the estimating equations, as means in standardised units, hold
        to ``tol / 100`` and the scale moved by at most ``tol / 100`` relative in the
        last round (the test of :class:`HuberRegressor`). Otherwise a
        ``ConvergenceWarning`` says why.
    gradient : {"analytic", "autograd", "finite-difference", "jax"} or callable, \
default="analytic"
        The gradient provider for the :func:`gradopt.minimize` solvers, as in
        :class:`HuberRegressor` ("jax": the ``jax`` extra, dense X in memory).
    solver : {"auto", "h", "newton", "irls", "lbfgs", "L-BFGS-B", "BFGS", "CG", \
"gradient-descent"}, default="auto"
        At a fixed scale: Huber's H-algorithm ("h": Newton steps with the Hessian
        approximated by ``mean(ψ')·XᵀX``, formed once), Newton with the exact Hessian
        (IRLS steps where it is not positive definite), IRLS, or a
        :func:`gradopt.minimize` method. "auto" (the fastest measured) takes up to 10
        H-steps, then Newton steps; with a gradient other than "analytic", "lbfgs".
    n_starts : int, default=500
        Random elemental starts of fast-S (method "MM").
    random_state : int, RandomState instance or None, default=None
        Seeds the elemental starts of method "MM".

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    scale_ : float
        The residual scale: the M-scale re-estimated ("mad", "huber"), the joint
        ``sigma``, the fixed value, or the S-scale (MM).
    weights_ : ndarray of shape (n_samples,)
        The final robustness weights ``ψ(u)/u`` at ``u = r / scale_`` (in [0, 1]).
    outliers_ : ndarray of bool, shape (n_samples,)
        ``|r| > c·scale_`` with ``c`` the loss's (last) tuning constant.
    n_iter_ : int
        Iterations of the final fit's solver.
    cov_ : ndarray of shape (n_params, n_params)
        Covariance of ``[intercept, coef...]`` (``coef`` alone without an intercept).
    bse_ : ndarray of shape (n_features,)
        Standard errors of ``coef_``.
    intercept_bse_ : float
        Standard error of ``intercept_`` (0 without one).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from gradopt.linear_model import RobustRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = X @ [2.0, -1.0] + 0.5 + 0.1 * rng.normal(size=200)
    >>> y[:20] += 50  # gross outliers
    >>> model = RobustRegressor().fit(X, y)  # Huber, MAD scale
    >>> model.coef_.round(1), round(model.intercept_, 1), bool(model.outliers_[:20].all())
    (array([ 2., -1.]), 0.5, True)
    >>> model.conf_int().shape  # [intercept, coef...] x [low, high]
    (3, 2)
    >>> mm = RobustRegressor(method="MM", random_state=0).fit(X, y)  # lmrob's default
    >>> mm.coef_.round(2), round(mm.scale_, 2)  # the S-scale: the noise's 0.1
    (array([ 1.99, -0.99]), 0.1)
    """

    _parameter_constraints: dict[str, list[Any]] = {  # noqa: RUF012 (scikit-learn's API)
        "loss": [StrOptions(set(LOSSES)), None],
        "tuning": [Interval(Real, 0, None, closed="neither"), tuple, list, None],
        "scale": [
            StrOptions({*SCALES, "joint"}),
            Interval(Real, 0, None, closed="neither"),
            None,
        ],
        "method": [StrOptions({"M", "MM"})],
        "cov": [StrOptions(set(COVARIANCES))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "gradient": [StrOptions(set(GRADIENTS)), callable],
        "solver": [StrOptions(set(SOLVER_NAMES))],
        "n_starts": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        loss: str | None = None,
        tuning: float | tuple[float, ...] | None = None,
        scale: str | float | None = None,
        method: str = "M",
        cov: str = "H1",
        alpha: float = 0.0,
        fit_intercept: bool = True,
        max_iter: int = 200,
        tol: float = 1e-5,
        gradient: str | Callable[..., GradientProvider] = "analytic",
        solver: str = "auto",
        n_starts: int = 500,
        random_state: Any = None,
    ) -> None:
        self.loss = loss
        self.tuning = tuning
        self.scale = scale
        self.method = method
        self.cov = cov
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.gradient = gradient
        self.solver = solver
        self.n_starts = n_starts
        self.random_state = random_state

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RobustRegressor:
        """Fit the model to `X` and `y`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights; an integer weight is the same as repeating the row.

        Returns
        -------
        self : RobustRegressor
        """
        self._validate_params()
        loss = self._loss()
        solver = self._solver()
        blocks = self._blocks(X, y, sample_weight)
        with _single_threaded_blas():
            objective = RobustObjective(
                blocks, loss, alpha=self.alpha, fit_intercept=self.fit_intercept
            )
            if blocks.in_memory and underdetermined(
                objective.sample_weight, objective.n_params, self.alpha
            ):
                v = least_squares_start(objective)
                check_exact(objective.residual(v), objective.sample_weight, objective.y)
                fit = MFit(v, 0.0, message="no more samples than parameters")
            else:
                check_design(objective, self.alpha)
                check_rank(objective.design_gram, self.alpha)
                fit = self._fit(objective, solver)
            self._store(objective, fit)
        return self

    def _blocks(self, X: Any, y: Any, sample_weight: Any) -> Blocks:
        """The validated data as row blocks: in memory, or Dask chunks on the workers."""
        if not is_dask_array(X):
            X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
            sample_weight = checked_sample_weight(sample_weight, X)
            return RowBlocks(X, np.asarray(y, dtype=np.float64), sample_weight)
        check_dask_settings(self.method, self.scale, self.gradient)
        blocks = DaskBlocks(X, y, sample_weight)
        if blocks.n_samples <= blocks.n_features + int(self.fit_intercept):
            raise InvalidInputError(
                f"{blocks.n_samples} samples for {blocks.n_features} features: fit so few "
                "rows in memory."
            )
        self.n_features_in_ = blocks.n_features
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return blocks

    def _fit(self, objective: RobustObjective, solver: str) -> MFit:
        settings = FitSettings(solver, self.gradient, self.tol, self.max_iter)
        if self.method == "MM":
            rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31))
            return fit_mm(objective, settings, rng, self.n_starts)
        if self.scale == "joint":
            return fit_joint(objective, settings, self.alpha, self.fit_intercept)
        return fit_mestimate(objective, settings, self._scale_rule())

    # ------------------------------------------------------------- configuration
    def _loss(self) -> RobustLoss:
        name = self.loss or ("bisquare" if self.method == "MM" else "huber")
        tuning = self.tuning
        if self.method == "MM":
            if self.scale is not None:
                raise ValueError(
                    f"method='MM' uses the S-estimate's scale; scale must be None, got "
                    f"{self.scale!r}."
                )
            if not LOSSES[name].redescending:
                raise ValueError(
                    f"method='MM' needs a redescending loss (bisquare, cauchy, welsch, "
                    f"hampel); got loss={name!r}."
                )
            if name == "bisquare" and tuning is None:
                tuning = _MM_TUNING
        if self.scale == "joint" and name != "huber":
            raise ValueError(f"scale='joint' is for loss='huber' only; got loss={name!r}.")
        loss = make_loss(name, tuning)
        if self.scale == "joint" and loss.c < 1:
            raise ValueError(f"scale='joint' needs a Huber tuning >= 1; got {loss.c}.")
        return loss

    def _solver(self) -> str:
        if self.solver in ("h", "newton", "irls") and self.gradient != "analytic":
            raise ValueError(
                f"solver={self.solver!r} uses the analytic gradient and Hessian; "
                f"gradient={self.gradient!r} needs a gradopt.minimize solver such as "
                "'lbfgs' or 'BFGS'."
            )
        return str(self.solver)

    def _scale_rule(self) -> ScaleRule | float:
        if self.scale is None:
            return SCALES["mad"]
        if isinstance(self.scale, str):
            return SCALES[self.scale]
        return float(self.scale)

    # ----------------------------------------------------------------- storing
    def _store(self, objective: RobustObjective, fit: MFit) -> None:
        params = np.asarray(objective.params(fit.v), dtype=np.float64)
        d = objective.n_features
        self.coef_ = params[:d].copy()
        self.intercept_ = float(params[d]) if self.fit_intercept else 0.0
        self.scale_ = float(fit.scale)
        self.n_iter_ = int(fit.nit)
        loss = objective.loss
        self.weights_, self.outliers_ = objective.weights_and_outliers(fit.v, self.scale_)
        if not objective.blocks.in_memory:  # computed now, kept on the workers
            self.weights_, self.outliers_ = self.weights_.persist(), self.outliers_.persist()
        if not self.scale_ > objective.zero_scale:
            self.scale_ = 0.0
            degenerate_warning(fit.message)
        penalty = self.alpha * (self.scale_ if self.scale == "joint" else 1.0)
        self.cov_ = covariance(objective, fit.v, self.scale_, self.cov, penalty)
        se = np.sqrt(np.maximum(np.diag(self.cov_), 0.0))
        self.bse_ = se[1:] if self.fit_intercept else se
        self.intercept_bse_ = float(se[0]) if self.fit_intercept else 0.0
        self._loss_ = loss
        if not fit.converged and self.scale_ > 0:
            warnings.warn(
                f"RobustRegressor did not converge ({fit.message}) after {self.n_iter_} "
                "iterations; the last fit is kept. Increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )

    # ---------------------------------------------------------------- public API
    def predict(self, X: Any) -> Any:
        """Predict ``X @ coef_ + intercept_``.

        Parameters
        ----------
        X : array-like or dask.array of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), or a (lazy) dask.array for a dask.array `X`
        """
        check_is_fitted(self)
        if is_dask_array(X):
            return dask_predict(X, self.coef_, self.intercept_, self.n_features_in_)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        prediction: FloatArray = np.asarray(X @ self.coef_) + self.intercept_
        return prediction

    def conf_int(self, level: Any = 0.95) -> FloatArray:
        """Normal confidence intervals, one row ``[low, high]`` per ``[intercept, coef...]``.

        Parameters
        ----------
        level : float, default=0.95

        Returns
        -------
        ndarray of shape (n_params, 2)
        """
        return self.summary(level).conf_int

    def summary(self, level: Any = 0.95) -> RobustSummary:
        """The coefficient table: estimate, standard error, z, p-value, interval.

        Parameters
        ----------
        level : float, default=0.95
            Coverage of the confidence intervals.

        Returns
        -------
        RobustSummary
            Prints as a table; ``.to_frame()`` gives a pandas DataFrame.
        """
        check_is_fitted(self)
        if not (isinstance(level, Real | np.floating) and 0 < float(level) < 1):
            raise ValueError(f"level must be a number in (0, 1); got {level!r}.")
        default = [f"x{j}" for j in range(self.n_features_in_)]
        names = [str(name) for name in getattr(self, "feature_names_in_", default)]
        coef, se = self.coef_, self.bse_
        if self.fit_intercept:
            names = ["intercept", *names]
            coef = np.concatenate([[self.intercept_], coef])
            se = np.concatenate([[self.intercept_bse_], se])
        header = (
            f"RobustRegressor: method {self.method}, loss {self._loss_!r}, "
            f"scale {self.scale_:.4g}, cov {self.cov}, n = {self.weights_.size}, "
            f"z-quantile {norm.ppf(0.5 + float(level) / 2):.3f}"
        )
        return RobustSummary(names, coef, se, float(level), header)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags
