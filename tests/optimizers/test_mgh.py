"""The Moré-Garbow-Hillstrom problems through gradopt, beside scipy's own runs.

The whole cross (every problem × method × provider) is ``python -m tests.optimizers.parity``;
here the part that guards what issue 16 found: starts where a long first step overflows
``exp`` (a trial value of ``inf`` must shrink the step, with every provider), and every
problem with the default method.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gradopt import minimize
from gradopt.optimizers import Status
from tests.optimizers.mgh import MGH
from tests.optimizers.parity import PROVIDERS, compare, provider, scipy_run

OVERFLOWING = ["jennrich_sampson", "osborne_1", "box_3d", "biggs_exp6"]


@pytest.mark.parametrize("kind", PROVIDERS)
@pytest.mark.parametrize("name", OVERFLOWING)
def test_lbfgsb_backs_off_an_overflowing_first_step(name: str, kind: str) -> None:
    """L-BFGS-B's first trial step overflows exp to inf here; gradopt hands scipy inf
    and ends where scipy's own run ends, with no NON_FINITE stop. On Jennrich-Sampson
    scipy's L-BFGS-B then claims success at f = 214.3 (the minimum is 124.362), which
    gradopt's check of the claim refutes."""
    problem = MGH[name]
    with np.errstate(all="ignore"):  # exp overflows at the first trial point
        ref = scipy_run(problem, "L-BFGS-B", kind)
        res = minimize(provider(kind, problem), problem.x0, "L-BFGS-B")
    assert np.isfinite(res.fun) and np.isfinite(res.x).all()
    assert res.fun == pytest.approx(ref.fun, rel=1e-6)
    if name == "jennrich_sampson":
        assert res.status == Status.NOT_STATIONARY and ref.success
    else:
        assert res.status == Status.SUCCESS


@pytest.mark.parametrize("name", sorted(MGH))
def test_every_problem_with_lbfgsb_and_autograd(name: str) -> None:
    """No higher f than scipy's with the same gradient, and every success at a minimum
    MGH report or where scipy's own run stops too."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        outcome = compare(MGH[name], "L-BFGS-B", "autograd")
    assert outcome.verdict in ("match", "better"), outcome
    assert outcome.claim != "elsewhere", outcome
