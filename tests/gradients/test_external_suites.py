"""Every method on the derivative test cases of numdifftools and scipy, and on sweeps over x.

For forward, backward, central and complex differences the error must stay within the
method's error model at the steps it actually took (truncation from the known higher
derivatives, round-off from f's accuracy), with a factor 2 to spare. Richardson must be
accurate and its error estimate must never be below the true error. Cases where a method
is expected to refuse, or where the reference itself is off, are listed in
``external_cases.py`` with their reasons.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gradopt import FiniteDifference
from gradopt.exceptions import ComplexStepError
from gradopt.gradients._extrapolation import LEVELS
from gradopt.gradients._richardson import RATIO
from tests.gradients.external_cases import Case, all_cases

METHODS = ("forward", "backward", "central", "complex", "richardson")
CASES = all_cases()


def _higher(case: Case, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """max |f''| and |f'''| along each axis over [x - 2|h|, x + 2|h|], from the known
    gradient (central differences of it, at steps far below the scale of f)."""
    shape = np.shape(case.x)
    f2 = np.zeros(x.size)
    f3 = np.zeros(x.size)
    for j in range(x.size):
        delta = 1e-4 * max(min(1.0, abs(x[j])), 1e-3)
        for t in np.linspace(-2 * abs(h[j]), 2 * abs(h[j]), 9):
            g = []
            for offset in (-delta, 0.0, delta):
                z = x.copy()
                z[j] += t + offset
                with np.errstate(all="ignore"):
                    g.append(np.reshape(case.grad(z.reshape(shape)), -1)[j])
            second = abs(g[2] - g[0]) / (2 * delta)
            third = abs(g[2] - 2 * g[1] + g[0]) / delta**2
            f2[j] = np.nanmax([f2[j], second])
            f3[j] = np.nanmax([f3[j], third])
    return f2, f3


def theory_tolerance(p: FiniteDifference, case: Case, method: str) -> np.ndarray:
    """Twice the error model of `method` at the steps `p` takes at ``case.x``."""
    x = np.atleast_1d(np.asarray(case.x, dtype=float))
    truth = np.reshape(case.grad(case.x), -1)
    scheme, h, _ = p._layout(x)
    f2, f3 = _higher(case, x, np.zeros_like(h) if method == "complex" else h)
    magnitude = abs(float(case.fun(case.x))) if case.magnitude is None else case.magnitude
    scale = case.ulps * case.eps * (magnitude + np.abs(x * truth))
    if method == "complex":
        return 2 * (
            f3 * h**2 / 6 + 4 * case.ulps * case.eps * (np.abs(truth) + np.max(np.abs(truth)))
        )
    if method in ("forward", "backward"):
        model = f2 * np.abs(h) / 2 + 2 * scale / np.abs(h)
    else:
        model = f3 * h**2 / 6 + scale / np.abs(h)
        fallback = getattr(scheme, "mask", np.zeros(x.size, dtype=bool))
        one_sided = f3 * h**2 / 3 + 4 * scale / np.abs(h)  # (-3 f0 + 4 f1 - f2) / 2h
        model = np.where(fallback, one_sided, model)
    return 2 * model


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_external_case(case: Case, method: str) -> None:
    p = FiniteDifference(case.fun, method, step=case.step, bounds=case.bounds)  # type: ignore[arg-type]
    expected = case.expect.get(method)
    if expected is not None and expected[0] is not AssertionError:
        with pytest.raises(expected[0]):
            p.grad(case.x)
        return
    if method == "complex" and case.complex_may_refuse:
        try:
            p.grad(case.x)
        except ComplexStepError:
            return  # library code without complex support: refused, not answered wrong
    truth = np.reshape(case.grad(case.x), -1)
    if method == "richardson":
        g, estimate = (np.reshape(a, -1) for a in p.grad_and_error(case.x))
    else:
        g = np.reshape(p.grad(case.x), -1)
    err = np.abs(g - truth)
    slack = case.ref_rtol * np.abs(truth)  # the reference's own error
    # Richardson: honest, the estimate is never below the true error.
    tol = estimate if method == "richardson" else theory_tolerance(p, case, method)
    within = bool(np.all(err <= tol + slack))
    if expected is not None:  # a known silent failure, kept visible
        assert not within, f"{case.id}: {expected[1]} -- but it was accurate now"
        return
    assert within, (err, tol)
    if method == "richardson":
        assert np.all(estimate <= _richardson_bound(case, p, truth)), estimate


def _richardson_bound(case: Case, p: FiniteDifference, truth: np.ndarray) -> np.ndarray:
    """How small the estimate must be: ``sqrt(eps)`` of the gradient's scale, plus a
    thousand times the round-off of one value of f over the smallest first-round step."""
    x = np.atleast_1d(np.asarray(case.x, dtype=float))
    _, h, _ = p._layout(x)
    smallest = np.abs(h) / RATIO ** (LEVELS - 1)
    magnitude = case.magnitude
    if magnitude is None:  # the size of f's values at the first step on either side
        shape = np.shape(case.x)
        near = [x + np.diag(sign * h)[j] for j in range(x.size) for sign in (1, -1)]
        magnitude = max(abs(float(case.fun(z.reshape(shape)))) for z in [x, *near])
    roundoff = case.eps * (magnitude + np.abs(x * truth)) / smallest
    return np.sqrt(case.eps) * (np.abs(truth) + np.max(np.abs(truth))) + 1e3 * roundoff


def _info(*args: Any) -> None:  # pragma: no cover - a hook for debugging
    print(*args)
