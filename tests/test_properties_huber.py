"""Property test: on random Huber problems gradopt's fit is never worse than scikit-learn's
without saying so.

Both estimators minimise the same objective (scikit-learn's, Owen's concomitant scale:
``n sigma + sum H(r / sigma) sigma + alpha ||w||^2``, weighted). Scored by
scikit-learn's own implementation of it, gradopt's ``(coef_, intercept_, scale_)`` must
not be above scikit-learn's by more than 1e-8 relative unless gradopt warned that it did
not converge (its promise: a ``ConvergenceWarning`` with the best fit found), on problems
with outliers, features and targets of very different magnitudes, weights, any epsilon
and alpha, with or without intercept, with the analytic or the autograd gradient. A
problem on which scikit-learn itself raises (its line search can fail, scikit-learn issue
27777) has no objective to compare with and is skipped.

The stronger claim, never above scikit-learn's at all, does not hold today: on 1,963
random problems gradopt's objective was above in 41 (2%, by up to 5% relative), every
time with a ConvergenceWarning; 40 of them had ``epsilon = 1`` exactly (L-BFGS-B stops on
the non-smooth objective as sigma goes to 0, where BFGS and scikit-learn go further), the
other had fewer samples than features and ran out of iterations. Run with
``--hypothesis-show-statistics`` to see how often it happens.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import assume, event, given
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import HuberRegressor as SklearnHuber
from sklearn.linear_model._huber import _huber_loss_and_gradient
from threadpoolctl import threadpool_limits

from gradopt.linear_model import HuberRegressor


@dataclass(frozen=True)
class Recipe:
    """What a problem is drawn from (short to print, and enough to rebuild it)."""

    n: int
    d: int
    seed: int
    column_scales: tuple[float, ...]  # log10 of each column's scale
    y_scale: float  # log10
    offset: float
    outlier_fraction: float
    weighted: bool


@dataclass(frozen=True)
class Problem:
    recipe: Recipe
    X: np.ndarray[Any, Any]
    y: np.ndarray[Any, Any]
    weights: np.ndarray[Any, Any] | None
    params: dict[str, Any]

    def __repr__(self) -> str:
        return f"Problem({self.recipe}, {self.params})"


def build(r: Recipe) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], Any]:
    """X, y (with a share of gross outliers) and weights (or None) from a recipe."""
    rng = np.random.default_rng(r.seed)
    scales = 10.0 ** np.array(r.column_scales)
    X = rng.normal(size=(r.n, r.d)) * scales
    y_scale = 10.0**r.y_scale
    coef = rng.normal(size=r.d) / scales * y_scale
    y = X @ coef + y_scale * (r.offset + 0.1 * rng.normal(size=r.n))
    outliers = rng.random(r.n) < r.outlier_fraction
    y[outliers] += 100 * y_scale * rng.normal(size=int(outliers.sum()))
    weights = rng.uniform(0.1, 3.0, r.n) if r.weighted else None
    return X, y, weights


@st.composite
def problems(draw: Any) -> Problem:
    d = draw(st.integers(1, 8))
    recipe = Recipe(
        n=draw(st.integers(5, 120)),
        d=d,
        seed=draw(st.integers(0, 2**32 - 1)),
        column_scales=tuple(draw(st.lists(st.floats(-3, 3), min_size=d, max_size=d))),
        y_scale=draw(st.floats(-2, 2)),
        offset=draw(st.floats(-2, 2)),
        outlier_fraction=draw(st.sampled_from([0.0, 0.05, 0.2, 0.4])),
        weighted=draw(st.booleans()),
    )
    params = {
        "epsilon": draw(st.floats(1.0, 3.0)),
        "alpha": draw(st.sampled_from([0.0, 1e-4, 1e-2, 1.0])),
        "fit_intercept": draw(st.booleans()),
    }
    return Problem(recipe, *build(recipe), params)


def objective(model: Any, problem: Problem) -> float:
    """scikit-learn's objective at a fitted model's coefficients, intercept and scale."""
    w = list(model.coef_)
    if problem.params["fit_intercept"]:
        w.append(model.intercept_)
    w.append(model.scale_)
    loss, _ = _huber_loss_and_gradient(
        np.array(w),
        problem.X,
        problem.y,
        problem.params["epsilon"],
        problem.params["alpha"],
        np.ones(problem.y.size) if problem.weights is None else problem.weights,
    )
    return float(loss)


@given(problems(), st.sampled_from(["analytic", "autograd"]))
def test_gradopt_objective_is_never_above_scikit_learns(problem: Problem, gradient: str) -> None:
    with warnings.catch_warnings(), threadpool_limits(1):  # as gradopt fits: one BLAS thread
        warnings.simplefilter("ignore")  # scikit-learn may warn that it did not converge
        try:
            reference = SklearnHuber(**problem.params).fit(problem.X, problem.y, problem.weights)
        except ValueError:  # scikit-learn's line search failed: nothing to compare with
            assume(False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = HuberRegressor(**problem.params, gradient=gradient)
        model.fit(problem.X, problem.y, problem.weights)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    ours, theirs = objective(model, problem), objective(reference, problem)
    above = ours > theirs + 1e-8 * abs(theirs)
    if above:
        event("gradopt above scikit-learn, with a ConvergenceWarning")
    assert not above or warned, (
        f"gradopt's objective {ours!r} is above scikit-learn's {theirs!r} by "
        f"{(ours - theirs) / abs(theirs):.2e} relative, and gradopt did not warn"
    )
