"""gradopt.least_squares: scipy's cost on Moré-Garbow-Hillstrom problems with each loss,
no more calls of f than scipy, fixed variables, non-finite residuals, callbacks, bad input."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import autograd
import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp

from gradopt import Autograd, FiniteDifference, least_squares
from gradopt.exceptions import InvalidInputError, MissingCapabilityError, ObjectiveError
from gradopt.optimizers import Status
from tests.optimizers.mgh import MGH

LOSSES = ["linear", "soft_l1", "huber", "cauchy", "arctan"]
# Small and large residuals at the minimum, badly scaled, exponentials, d from 2 to 10.
PROBLEMS = [
    "rosenbrock",
    "freudenstein_roth",
    "beale",
    "jennrich_sampson",
    "helical_valley",
    "bard",
    "box_3d",
    "powell_singular",
    "kowalik_osborne",
    "osborne_1",
    "brown_almost_linear_10",
    "broyden_tridiagonal_10",
]


def residuals_of(name: str) -> Any:
    problem = MGH[name]
    return lambda x: np.asarray(problem.residuals(x), dtype=float)


@pytest.mark.parametrize("kind", ["central", "autograd"])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("name", PROBLEMS)
def test_reaches_scipys_cost_with_each_loss(name: str, loss: str, kind: str) -> None:
    """Central differences against scipy's own '3-point', autograd's exact Jacobian
    against scipy given the same: the same cost (or lower)."""
    r, x0 = residuals_of(name), MGH[name].x0
    if kind == "central":
        provider: Any = FiniteDifference(r, "central")
        jac: Any = "3-point"
    else:
        provider, jac = Autograd(MGH[name].residuals), autograd.jacobian(MGH[name].residuals)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # exp overflows at trial points
        res = least_squares(provider, x0, loss=loss)
        ref = scipy.optimize.least_squares(r, x0, jac=jac, loss=loss)
    assert res.cost <= ref.cost * (1 + 1e-6) + 1e-12, (res.cost, ref.cost)
    assert res.success == ref.success and res.status == (Status.SUCCESS if ref.success else 1)
    assert res.fun.shape == ref.fun.shape and res.jac.shape == ref.jac.shape


@pytest.mark.parametrize("method", ["trf", "dogbox", "lm"])
@pytest.mark.parametrize("scheme", ["forward", "central"])
def test_no_call_of_f_beyond_the_solvers_and_the_jacobians(scheme: str, method: str) -> None:
    """scipy driving the same Jacobian itself makes exactly as many calls of f: the
    solver's, plus d (forward, f(x) reused) or 2d (central) per Jacobian, as scipy's own
    '2-point' and '3-point' cost."""
    r, x0 = residuals_of("osborne_1"), MGH["osborne_1"].x0
    points: set[bytes] = set()  # scipy < 1.16's 'lm' asks twice for some points: one call

    def counted(x: np.ndarray) -> np.ndarray:
        points.add(np.asarray(x, dtype=np.float64).tobytes())
        return r(x)

    p, q = FiniteDifference(r, scheme), FiniteDifference(r, scheme)  # type: ignore[arg-type]
    with np.errstate(all="ignore"):
        res = least_squares(p, x0, method=method)
        ref = scipy.optimize.least_squares(counted, x0, jac=q.jacobian, method=method)
    # (scipy's own njev leaves out the Jacobian 'lm' computes for its result, q's does not)
    assert np.array_equal(res.x, ref.x) and res.njev == q.njev
    per_jacobian = x0.size * (2 if scheme == "central" else 1)
    assert res.nfev == p.nfev == len(points) + per_jacobian * q.njev


def test_fixed_variables_are_removed() -> None:
    """scipy's least_squares refuses lo == hi; gradopt solves for the free variables."""
    r = residuals_of("helical_valley")
    bounds = [(-5.0, 5.0), (0.25, 0.25), (-5.0, 5.0)]
    seen: list[np.ndarray] = []

    def recorded(x: np.ndarray) -> np.ndarray:
        seen.append(x.copy())
        return r(x)

    res = least_squares(FiniteDifference(recorded, bounds=bounds), [1.0, 0.25, 0.0], bounds=bounds)
    assert res.success and res.x[1] == 0.25 and all(x[1] == 0.25 for x in seen)
    reduced = scipy.optimize.least_squares(
        lambda z: r(np.array([z[0], 0.25, z[1]])), [1.0, 0.0], bounds=([-5, -5], [5, 5])
    )
    assert res.cost == pytest.approx(reduced.cost, rel=1e-7, abs=1e-14)
    assert res.jac.shape == (3, 3) and res.grad[1] == 0.0 and res.active_mask[1] == 0
    every = least_squares(FiniteDifference(r), [1.0, 2.0, 3.0], bounds=[(1, 1), (2, 2), (3, 3)])
    assert (
        every.success
        and every.nit == 0
        and every.cost == pytest.approx(0.5 * r(every.x) @ r(every.x))
    )


def test_bounds_are_kept_and_shared_with_the_provider() -> None:
    r = residuals_of("rosenbrock")
    box = scipy.optimize.Bounds([-2.0, -2.0], [0.5, 2.0])
    res = least_squares(FiniteDifference(r, bounds=box), [-1.2, 1.0], bounds=box)
    ref = scipy.optimize.least_squares(r, [-1.2, 1.0], bounds=(box.lb, box.ub))
    assert res.x[0] <= 0.5 and res.active_mask[0] == 1
    assert res.cost == pytest.approx(ref.cost, rel=1e-8)


def test_sparse_jacobians_and_threads_give_the_serial_answer() -> None:
    d = 30
    r = residuals_of("broyden_tridiagonal_10")
    band = sp.csr_array(np.eye(d) + np.eye(d, k=1) + np.eye(d, k=-1))
    x0 = -np.ones(d)
    dense = least_squares(FiniteDifference(r), x0)
    sparse = least_squares(FiniteDifference(r, sparsity=band), x0)
    assert sp.issparse(sparse.jac) and sparse.success
    assert sparse.nfev < dense.nfev / 5  # 3 groups of columns instead of 30
    assert sparse.cost == pytest.approx(dense.cost, abs=1e-16)
    with ThreadPoolExecutor(2) as pool:
        par = least_squares(FiniteDifference(r, executor=pool), x0)
    assert np.array_equal(par.x, dense.x) and par.nfev == dense.nfev  # bit for bit


def test_non_finite_residuals() -> None:
    def edge(x: np.ndarray) -> np.ndarray:  # defined for x[0] <= 2.5; minimum at 3
        if x[0] > 2.5:
            return np.full(2, np.nan)
        return np.array([x[0] - 3.0, 10 * (x[1] - x[0] ** 2)])

    for method in ("trf", "dogbox", "lm"):
        res = least_squares(FiniteDifference(edge, "backward"), [0.0, 0.0], method=method)
        assert res.status == Status.NON_FINITE and not res.success, (method, res.message)
        assert np.isfinite(res.cost) and res.x[0] <= 2.5 and "residual[0] = nan" in res.message
    start = least_squares(FiniteDifference(edge), [3.0, 0.0])
    assert start.status == Status.NON_FINITE and "at the starting point" in start.message
    # The central difference at an iterate near the edge steps past it: a NaN there
    # stops the run at that iterate, which is returned.
    near = least_squares(FiniteDifference(edge), [2.5 - 1e-7, 6.25])
    assert near.status == Status.NON_FINITE and near.x[0] == 2.5 - 1e-7


def test_callback_and_iterations() -> None:
    r = residuals_of("rosenbrock")
    seen: list[tuple[int, float]] = []

    def watch(intermediate_result: Any) -> None:
        seen.append((intermediate_result.nit, intermediate_result.fun))

    res = least_squares(FiniteDifference(r), [-1.2, 1.0], callback=watch)
    assert [n for n, _ in seen] == list(range(1, res.nit + 1)) and res.nit > 1
    assert seen[-1][1] == pytest.approx(res.cost)
    stop = least_squares(FiniteDifference(r), [-1.2, 1.0], callback=lambda x: True)
    assert stop.status == Status.CALLBACK_STOP and stop.nit == 1


class _WrongShape:
    nfev = njev = 0
    has_jacobian = True

    def vector_value(self, x: Any) -> np.ndarray:
        return np.ones(3)

    def jacobian(self, x: Any) -> np.ndarray:
        return np.ones((2, 2))

    def value_and_jacobian(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        return self.vector_value(x), self.jacobian(x)


def test_bad_input_gets_clear_errors() -> None:
    p = FiniteDifference(residuals_of("rosenbrock"))
    x0 = [-1.2, 1.0]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"loss": "l2"}, "option 'loss'='l2'"),
        ({"f_scale": -1.0}, "option 'f_scale'"),
        ({"max_nfev": "100"}, "option 'max_nfev'"),
        ({"x_scale": [1.0, -1.0]}, "option 'x_scale'"),
        ({"method": "lm", "loss": "huber"}, "'lm' supports only loss='linear'"),
        ({"method": "lm", "bounds": [(0, 1), (0, 2)]}, "'lm' does not accept bounds"),
        ({"options": {"ftol": -1}}, "option 'ftol'"),
        ({"options": {"xtool": 1e-3}}, "unknown option 'xtool'"),
        ({"options": {"diff_step": 1e-3}}, r"FiniteDifference\(fun, step=...\)"),
        ({"options": {"loss": "huber"}}, "as argument"),
        ({"bounds": [(0, 1), (0, 2)]}, r"x0\[0\] = -1.2 is not within its bounds"),
        ({"bounds": [(0, 1)]}, "one \\(low, high\\) pair per coordinate of x0"),
    ]
    for kwargs, match in cases:
        with pytest.raises(InvalidInputError, match=match):
            least_squares(p, x0, **kwargs)
    with pytest.raises(InvalidInputError, match="at least as many residuals as variables"):
        least_squares(FiniteDifference(lambda x: np.array([x @ x])), x0, method="lm")
    with pytest.raises(MissingCapabilityError, match="vector_value"):
        least_squares(object(), x0)  # type: ignore[arg-type]
    with pytest.raises(ObjectiveError, match="no outputs"):
        least_squares(FiniteDifference(lambda x: np.zeros(0)), x0)
    with pytest.raises(InvalidInputError, match=r"Jacobian has shape \(2, 2\); expected \(3, 2\)"):
        least_squares(_WrongShape(), x0)  # type: ignore[arg-type]


def test_the_users_exception_propagates_unchanged() -> None:
    def fails(x: np.ndarray) -> np.ndarray:
        if x[0] > 0:
            raise KeyError("solver blew up")
        return np.array([x[0] - 1.0, x[1]])

    with pytest.raises(KeyError, match="solver blew up"):
        least_squares(FiniteDifference(fails, "forward"), [-0.5, 1.0])


def test_ctrl_c_hands_back_the_last_iterate() -> None:
    def interrupt_at_3(intermediate_result: Any) -> None:
        if intermediate_result.nit == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as info:
        least_squares(
            FiniteDifference(residuals_of("rosenbrock")), [-1.2, 1.0], callback=interrupt_at_3
        )
    last = info.value.intermediate_result  # type: ignore[attr-defined]
    assert last.nit == 3 and np.isfinite(last.x).all()
