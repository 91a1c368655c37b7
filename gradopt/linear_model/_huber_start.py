"""Where a Huber fit on many rows starts: the fit of a sample of them.

From no slope and ``sigma = s_y`` (the spread of y), L-BFGS-B needs about 20
evaluations on the classic problem, a third of them wasted on trial points where sigma
hits its bound: the scale starts tens of times too large and the curvature in the
coefficients grows as it shrinks. The fit of every k-th row (k from
:func:`~gradopt.linear_model._selection.sample_step`, at most 32,768 rows, about 1/64 of
the work of one evaluation per evaluation) lands within sampling error of the
solution, and the full fit takes 5-8 evaluations from there. The penalty is scaled by
the sample's share of the weight, so that both problems have the same minimiser in the
limit. The rows ``0, k, 2k, ...`` are the same whatever executes the blocks, so fits in
memory and on Dask start (and end) at the same point.
"""

from __future__ import annotations

import numpy as np

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError
from gradopt.gradients import Analytic
from gradopt.linear_model._blocked import RowBlocks
from gradopt.linear_model._huber_objective import HuberObjective
from gradopt.linear_model._huber_strategies import Solver
from gradopt.linear_model._selection import sample_step
from gradopt.optimizers import minimize

__all__ = ["sample_start"]


def sample_start(
    objective: HuberObjective, solver: Solver, max_iter: int, tol: float
) -> FloatArray | None:
    """The internal point of `objective` where the sample's fit ends, or None when the
    data are small (every row is the sample) or the sample cannot be fitted.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100_000, 3))
    >>> y = X @ [1.0, 2.0, 3.0] + 0.1 * rng.normal(size=100_000)
    >>> objective = HuberObjective(
    ...     RowBlocks(X, y, None), epsilon=1.35, alpha=0.0, fit_intercept=True, log_sigma=False
    ... )
    >>> from gradopt.linear_model._huber_strategies import SOLVERS
    >>> v = sample_start(objective, SOLVERS["lbfgs"], 100, 1e-5)
    >>> bool(np.abs(objective.params(v)[:3] - [1.0, 2.0, 3.0]).max() < 0.01)
    True
    """
    step = sample_step(objective.blocks.n_samples)
    if step == 1:
        return None
    X, y, weights = objective.blocks.every(step, with_x=True)
    share = (y.shape[0] if weights is None else float(np.sum(weights))) / objective.total_weight
    try:
        sample = HuberObjective(
            RowBlocks(X, y, weights),
            epsilon=objective.epsilon,
            alpha=objective.alpha * share,
            fit_intercept=objective.fit_intercept,
            log_sigma=objective.log_sigma,
        )
        provider = Analytic(sample.value, value_and_grad=sample.value_and_grad)
        with np.errstate(all="ignore"):
            result = minimize(
                provider,
                sample.start(),
                method=solver.method,
                bounds=sample.bounds() if solver.bounded else None,
                options=solver.options(max_iter, tol),
            )
    except InvalidInputError:  # a sample of zero weight, say: start as for small data
        return None
    params = np.asarray(sample.params(np.asarray(result.x)), dtype=np.float64)
    d = objective.n_features
    intercept = float(params[d]) if objective.fit_intercept else 0.0
    v = objective.internal(params[:d], intercept, float(params[-1]))
    return v if bool(np.all(np.isfinite(v))) else None
