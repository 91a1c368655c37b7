"""The status enum and the result every optimizer returns."""

from __future__ import annotations

import numpy as np
from scipy.optimize import OptimizeResult

import gradopt
import gradopt.optimizers
from gradopt.optimizers import Status
from gradopt.optimizers._results import make_result


def test_status_members_have_distinct_codes_and_messages() -> None:
    codes = [s.value for s in Status]
    assert len(set(codes)) == len(codes) and Status.SUCCESS.value == 0
    assert all(s.message and s.message == s.message.strip() for s in Status)
    assert [s for s in Status if s.success] == [Status.SUCCESS]
    assert Status(2) is Status.NON_FINITE


def test_make_result_has_scipys_fields() -> None:
    res = make_result(
        Status.NON_FINITE, np.ones(3), 2.0, np.zeros(3), 4, (10, 5, 1), "at iteration 5"
    )
    assert isinstance(res, OptimizeResult)
    assert (res.nit, res.nfev, res.njev, res.nhev) == (4, 10, 5, 1)
    assert res.success is False and res.status == 2
    assert res.message == "the function or its gradient returned NaN or infinity: at iteration 5"
    assert res.x.dtype == np.float64 and res.jac.shape == (3,)


def test_public_names() -> None:
    assert gradopt.minimize is gradopt.optimizers.minimize
    assert gradopt.Status is Status
    assert gradopt.optimizers.__all__ == sorted(gradopt.optimizers.__all__)
    assert gradopt.__all__ == sorted(gradopt.__all__)
    for name in gradopt.optimizers.__all__:
        assert getattr(gradopt.optimizers, name).__doc__


def test_status_compares_with_the_enum_and_with_its_code() -> None:
    """The docs promise ``res.status == gradopt.Status.MAX_ITER``: Status is an IntEnum."""
    from scipy.optimize import rosen, rosen_der

    res = gradopt.minimize(gradopt.Analytic(rosen, rosen_der), [-1.2, 1.0], options={"maxiter": 2})
    assert res.status == gradopt.Status.MAX_ITER and res.status == 1
    assert res.status is Status.MAX_ITER and isinstance(res.status, int)
    assert res.status != Status.SUCCESS
