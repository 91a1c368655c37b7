"""HuberRegressor: scikit-learn's robust regression, fitted with any gradient provider."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import ThreadpoolController

from gradopt._typing import FloatArray
from gradopt.gradients import GradientProvider
from gradopt.linear_model._blocked import Blocks, RowBlocks, checked_sample_weight
from gradopt.linear_model._dask_blocks import DaskBlocks, dask_predict, is_dask_array
from gradopt.linear_model._huber_degenerate import polish_kink
from gradopt.linear_model._huber_loss import huber_outliers
from gradopt.linear_model._huber_objective import HuberObjective
from gradopt.linear_model._huber_start import sample_start
from gradopt.linear_model._huber_strategies import GRADIENTS, SOLVERS, BestSeen, Solver
from gradopt.linear_model._huber_verdict import Verdict, judge, stationarity
from gradopt.optimizers import Status, minimize
from gradopt.optimizers._results import make_result

__all__ = ["HuberRegressor"]


@functools.cache
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()


def _single_threaded_blas() -> Any:
    """BLAS on one thread while fitting: the work is matrix-vector products, bound by
    memory bandwidth, where threads gain nothing and cost a lot on a busy machine
    (scikit-learn's fit is about 2x slower with them on 2 cores)."""
    return _threadpools().limit(limits=1, user_api="blas")


class HuberRegressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """L2-regularised linear regression that is robust to outliers (Huber loss).

    Minimises scikit-learn's objective (Owen's concomitant scale, see
    :func:`~gradopt.linear_model.huber_loss_and_gradient`) over the coefficients, the
    intercept and the scale ``sigma`` jointly, so both can be compared point for point;
    but with any gradient provider and :func:`gradopt.minimize` method, internally
    standardised coordinates (features of any magnitude, even 1e12, are fitted
    correctly, without a copy of ``X``), a convergence test that does not stop early,
    and a ``ConvergenceWarning`` with the best fit found instead of an exception.

    Parameters
    ----------
    epsilon : float, default=1.35
        Residuals beyond ``epsilon * sigma`` count linearly; must be at least 1. With
        ``epsilon = 1`` the minimum has ``sigma`` at its bound: a least-absolute-deviations
        fit (penalised), which the fit solves exactly and certifies for data in memory
        of up to a million entries.
    alpha : float, default=1e-4
        Strength of the penalty ``alpha * ||coef||**2`` (the intercept is not penalised).
    fit_intercept : bool, default=True
        Whether to fit an intercept.
    max_iter : int, default=100
        Maximum number of iterations of the solver.
    tol : float, default=1e-5
        The fit has converged when every component of the gradient is at most `tol` in
        absolute value, for the objective per unit of sample weight and of the spread of
        ``y``, in internally standardised coordinates, times 100: the estimating
        equations hold to ``tol / 100`` in units that mean the same for any n and any
        units of X and y (scikit-learn's `tol` applies to the raw gradient, which grows
        with n, so its fit stops on its fixed ``ftol`` instead). A fit that the solver
        cannot take further (its line search finds no decrease) also counts as converged
        when the gradient is within the floor rounding allows, ``100·sqrt(eps)`` of the
        mean equations. A fit short of both gives a ``ConvergenceWarning`` whose message
        says why it stopped (advising more `max_iter` only when that was the reason).
    warm_start : bool, default=False
        Start from the previous fit's ``coef_``, ``intercept_`` and ``scale_``.
    gradient : {"analytic", "autograd", "finite-difference"} or callable, default="analytic"
        Where the gradient comes from: the hand-derived copy-free gradient (one product
        with ``X`` and one with ``X.T`` per evaluation), reverse-mode autodiff of the
        loss, or central differences. A callable ``gradient(fun)`` receives the
        objective ``fun(v) -> float`` in the internal coordinates (written with
        ``autograd.numpy``, so ``Autograd`` can trace it) and must return a
        :class:`~gradopt.GradientProvider` of that function, for example
        ``gradient=lambda f: FiniteDifference(f, method="forward")``.
    solver : {"lbfgs", "gradient-descent", "L-BFGS-B", "BFGS", "CG"}, default="lbfgs"
        The :func:`gradopt.minimize` method. ``"lbfgs"`` is L-BFGS-B with scikit-learn's
        bound ``sigma >= 10 * eps``, here relative to the spread of ``y`` (so the fit is
        the same in any units of y); the unbounded solvers optimise ``log(sigma)``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    scale_ : float
        The fitted ``sigma``.
    outliers_ : ndarray of bool, shape (n_samples,)
        Samples whose absolute residual exceeds ``epsilon * scale_``.
    n_iter_ : int
        Iterations the solver ran (at most `max_iter`; 0 keeps the start).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.
    optimize_result_ : scipy.optimize.OptimizeResult
        The solver's result (``nit``, ``nfev``, ``njev``...), with
        ``x = [coef, intercept (if fitted), scale]``, ``fun`` the objective and ``jac``
        its gradient there, all in the original coordinates; ``success``, ``status``
        and ``message`` are the estimator's verdict (a ``ConvergenceWarning`` exactly
        when ``success`` is False), the solver's own are ``solver_status`` and
        ``solver_message``.

    Notes
    -----
    ``fit`` runs BLAS on one thread (threadpoolctl): its work is matrix-vector products,
    bound by memory bandwidth, where more threads gain little and cost much on a busy
    machine. With `warm_start` and a different number of features, the fit starts afresh.

    Examples
    --------
    >>> import numpy as np
    >>> from gradopt.linear_model import HuberRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = X @ [2.0, -1.0] + 0.5 + 0.1 * rng.normal(size=200)
    >>> y[:10] += 50  # gross outliers
    >>> model = HuberRegressor().fit(X, y)
    >>> model.coef_.round(1), round(model.intercept_, 1)
    (array([ 2., -1.]), 0.5)
    >>> HuberRegressor(gradient="autograd").fit(X, y).coef_.round(1)
    array([ 2., -1.])
    """

    _parameter_constraints: dict[str, list[Any]] = {  # noqa: RUF012 (scikit-learn's API)
        "epsilon": [Interval(Real, 1.0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "warm_start": ["boolean"],
        "gradient": [StrOptions(set(GRADIENTS)), callable],
        "solver": [StrOptions(set(SOLVERS))],
    }

    def __init__(
        self,
        *,
        epsilon: float = 1.35,
        alpha: float = 1e-4,
        fit_intercept: bool = True,
        max_iter: int = 100,
        tol: float = 1e-5,
        warm_start: bool = False,
        gradient: str | Callable[..., GradientProvider] = "analytic",
        solver: str = "lbfgs",
    ) -> None:
        self.epsilon = epsilon
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.gradient = gradient
        self.solver = solver

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> HuberRegressor:
        """Fit the model to `X` and `y`.

        Parameters
        ----------
        X : array-like or scipy.sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights; an integer weight is the same as repeating the row.

        Returns
        -------
        self : HuberRegressor

        Raises
        ------
        gradopt.exceptions.InvalidInputError
            When the data leave float64's range for this objective: coefficients beyond
            2.2e-308 to 1.8e308 (X and y too far apart in scale), weights summing to
            zero or infinity, or an objective that overflows at the start (X near
            1e308); the message names the input to rescale. Extreme but representable
            input (``alpha = 1e308``, ``epsilon = 1e200``, y near 1e±300) is fitted.
        """
        self._validate_params()
        blocks = self._blocks(X, y, sample_weight)
        with _single_threaded_blas():
            solver = SOLVERS[self.solver]
            objective = HuberObjective(
                blocks,
                epsilon=self.epsilon,
                alpha=self.alpha,
                fit_intercept=self.fit_intercept,
                log_sigma=not solver.bounded,
            )
            start = self._start(objective, solver)
            objective.check_finite(start)
            provider = BestSeen(self._provider(objective))
            # Past the start, a non-finite value at a trial point is the optimizer's to
            # handle (and the verdict's to report), not numpy's to print.
            with np.errstate(all="ignore"):
                result = self._solve(provider, start, solver, objective)
                self._store(objective, result, provider)
        return self

    def _blocks(self, X: Any, y: Any, sample_weight: Any) -> Blocks:
        """The validated data as row blocks: in memory, or Dask chunks on the workers."""
        if is_dask_array(X):
            blocks = DaskBlocks(X, y, sample_weight)
            self.n_features_in_ = blocks.n_features
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            return blocks
        with np.errstate(over="ignore", invalid="ignore"):  # scikit-learn sums X and y
            X, y = validate_data(
                self, X, y, accept_sparse=["csr"], y_numeric=True, dtype=np.float64, copy=False
            )
            if sample_weight is not None:  # None: unit weights, without an array of ones
                sample_weight = checked_sample_weight(sample_weight, X)
        return RowBlocks(X, np.asarray(y, dtype=np.float64), sample_weight)

    def predict(self, X: Any) -> Any:
        """Predict ``X @ coef_ + intercept_``.

        Parameters
        ----------
        X : array-like, scipy.sparse matrix or dask.array of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), or a (lazy) dask.array for a dask.array `X`
        """
        check_is_fitted(self)
        if is_dask_array(X):
            return dask_predict(X, self.coef_, self.intercept_, self.n_features_in_)
        X = validate_data(self, X, accept_sparse=["csr"], dtype=np.float64, reset=False)
        prediction: FloatArray = np.asarray(X @ self.coef_) + self.intercept_
        return prediction

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------------------ helpers
    def _provider(self, objective: HuberObjective) -> GradientProvider:
        if isinstance(self.gradient, str):
            return GRADIENTS[self.gradient](objective)
        provider = self.gradient(objective.value)
        if not isinstance(provider, GradientProvider):
            raise TypeError(
                "gradient must return a GradientProvider (value, grad, value_and_grad, "
                f"nfev, ngev); {self.gradient!r} returned {type(provider).__name__}."
            )
        return provider

    def _start(self, objective: HuberObjective, solver: Solver) -> FloatArray:
        """The previous fit (`warm_start`), the fit of a sample of the rows (large data,
        see :mod:`~gradopt.linear_model._huber_start`), or no slope and ``sigma = s_y``."""
        fitted = getattr(self, "coef_", None)
        if self.warm_start and fitted is not None and fitted.shape == (objective.n_features,):
            return objective.internal(fitted, self.intercept_, self.scale_)
        sampled = (
            sample_start(objective, solver, self.max_iter, self.tol) if self.max_iter else None
        )
        return objective.start() if sampled is None else sampled

    def _solve(
        self, provider: BestSeen, start: FloatArray, solver: Solver, objective: HuberObjective
    ) -> OptimizeResult:
        if self.max_iter == 0:  # scipy's L-BFGS-B would still take one iteration
            value, grad = provider.value_and_grad(start)
            counts = (provider.nfev, provider.ngev, 0)
            detail = "max_iter = 0"
            return make_result(
                Status.MAX_ITER, start, value, grad, 0, counts, detail, method=solver.method
            )
        return minimize(
            provider,
            start,
            method=solver.method,
            bounds=objective.bounds() if solver.bounded else None,
            options=solver.options(self.max_iter, self.tol),
        )

    def _store(self, objective: HuberObjective, result: OptimizeResult, seen: BestSeen) -> None:
        theta, loss, grad = _evaluated(objective, np.asarray(result.x, dtype=np.float64))
        if seen.best_x is not None and not loss / objective.value_scale <= seen.best_value:
            # A failed line search can end on a trial point worse than the best seen.
            theta, loss, grad = _evaluated(objective, seen.best_x)
        kinked = bool(theta[-1] <= 1e-6 * objective.y_scale)  # sigma -> 0?
        gradient = stationarity(objective, theta, grad)
        verdict = judge(result, gradient, self.tol, self.max_iter, kinked)
        if not verdict.converged or kinked:
            # The minimum may have sigma at its bound however far from it the solver
            # stopped (with epsilon = 1 it always has: L never decreases in sigma); an
            # uncertified point there is kept only where sigma belongs on the bound.
            on_bound = kinked or objective.epsilon == 1.0
            short = not verdict.converged and self.max_iter > 0  # 0: keep the start
            polished = polish_kink(
                objective, theta, loss, descend=on_bound or short, uncertified=on_bound
            )
            if polished is not None:
                theta, loss, grad = polished.theta, polished.loss, polished.grad
                verdict = (
                    Verdict(
                        True,
                        Status.SUCCESS,
                        "converged: polished to the certified minimiser with sigma -> 0 (an "
                        f"exact fit of some samples) after {int(result.nit)} iterations",
                    )
                    if polished.certified
                    else judge(
                        result, stationarity(objective, theta, grad), self.tol, self.max_iter, True
                    )
                )
        params = np.asarray(objective.params_of(theta), dtype=np.float64)
        d = objective.n_features
        self.coef_ = params[:d].copy()
        self.intercept_ = float(params[d]) if self.fit_intercept else 0.0
        self.scale_ = float(params[-1])
        self.n_iter_ = int(result.nit)
        threshold = self.scale_ * self.epsilon
        flags = functools.partial(
            huber_outliers,
            theta,
            threshold=threshold,
            rounding=not threshold > objective.rounding(theta),
            **objective.centres,
        )
        self.outliers_ = objective.blocks.map(flags, dtype=bool, elements=objective.elements)
        if not objective.blocks.in_memory:
            self.outliers_ = self.outliers_.persist()  # computed now, X released
        self.optimize_result_ = OptimizeResult(
            {
                **result,
                "x": params,
                "fun": loss,
                "jac": objective.params_grad(grad),
                "success": verdict.converged,
                "status": int(verdict.status.value),
                "message": verdict.message,
                "solver_status": int(result.status),
                "solver_message": str(result.message),
            }
        )
        if not verdict.converged:
            warnings.warn(
                f"HuberRegressor did not converge ({verdict.message}); the best fit found "
                "is kept.",
                ConvergenceWarning,
                stacklevel=3,
            )


def _evaluated(objective: HuberObjective, v: FloatArray) -> tuple[FloatArray, float, FloatArray]:
    """``(theta, L, ∇L in theta)`` at the internal point `v`: the objective's last
    evaluation when it was there (L-BFGS-B ends where it last evaluated), else a new one."""
    theta = np.asarray(objective.theta(v), dtype=np.float64)
    last = objective.last
    if last is not None and np.array_equal(last[0], v):
        return theta, last[1], last[2]
    loss, grad = objective.evaluate(theta)
    return theta, loss, grad
