"""Degenerate fits: ``sigma`` at its lower bound, where gradient methods crawl.

When a linear model fits some samples exactly (fewer samples than features, repeated
rows, a few distinct points), the minimiser of the Huber objective can have ``sigma`` at
its lower bound. The objective there is ``2·ε·Σ sᵢ·|rᵢ| + α·‖coef‖²``, non-smooth exactly
at the solution: its residuals in a set Z are zero. Given Z and the signs of the other
residuals, the minimiser solves an equality-constrained quadratic problem (one linear
system), and the optimality conditions certify it: with ``aᵢ = [xᵢ, 1]`` (the 1 only
with an intercept) and ``D`` the identity on the coefficients (zero on the intercept),

    2·α·D·θ - 2·ε·Σ_{i∉Z} sᵢ·sign(rᵢ)·aᵢ = Σ_{j∈Z} 2·ε·sⱼ·uⱼ·aⱼ   with |uⱼ| <= 1,

and ``sigma`` may stay at its bound when ``S - ε²·(Σ_{i∉Z} sᵢ + Σ_{j∈Z} sⱼ·uⱼ²) >= 0``
for those same ``u``: the objective is jointly convex in the coefficients and sigma, and
its directional derivative from the kink along ``(Δcoef, Δsigma)`` is the supremum over
``|ε·uⱼ| <= ε`` of a linear function whose ``Δsigma`` coefficient is that sum (raising
sigma together with the residuals in Z can pay where raising either alone does not;
with ``epsilon = 1`` the box on ``u`` implies it). The ``u`` of least ``Σ sⱼ·uⱼ²`` are
tried (an LP finds ones in the box when Z has more samples than unknowns). Z is every
sample (the minimum-norm interpolant) or read off an approximate solution.

The linear algebra runs in the objective's standardised coordinates (columns centred
and scaled, y centred and divided by its spread), so a column like 1.7e12 + noise next
to the intercept does not make the least-squares tests ill-conditioned. Only for data
in memory and small enough for dense algebra.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import linprog

from gradopt._typing import FloatArray
from gradopt.linear_model._blocked import RowBlocks
from gradopt.linear_model._huber_objective import HuberObjective

__all__ = ["NEGLIGIBLE", "Polished", "certified_kink", "kink_descent", "polish_kink"]

BoolArray = NDArray[np.bool_]

_MAX_ENTRIES = 1_000_000  # the dense linear algebra copies X: only for small problems
_MAX_KKT = 2_000  # unknowns plus zero residuals: a dense KKT matrix of at most 32 MB
_LEVELS = tuple(10.0**-k for k in range(1, 13))  # smoothing widths, over max|b|
# Residuals of kink_descent's guess below this (over max|b|) are zero: inliers of the
# narrowest smoothing are below ε·1e-12, the others (rarely) below 1e-8.
NEGLIGIBLE = 1e-10
_NEWTON_STEPS = 30  # per width: semismooth Newton steps, each one (p x p) solve


@dataclass(frozen=True)
class Polished:
    """A fit with sigma at its bound: ``theta = [coef, shift, sigma]``, ``L`` and its
    gradient there, and whether the optimality conditions certify it."""

    theta: FloatArray
    loss: float
    grad: FloatArray
    certified: bool


def polish_kink(
    objective: HuberObjective, theta: FloatArray, loss: float, *, descend: bool, uncertified: bool
) -> Polished | None:
    """A minimiser with sigma at its bound at least as good as the fit `theta` (of
    objective value `loss`), or None.

    Z (the samples fitted exactly) is every sample, or read off the fit, or, with
    `descend` (the solver stopped short, or sigma belongs near its bound, where
    L-BFGS-B crawls: always so for ``epsilon = 1``), off the minimiser of the limit
    ``sigma -> 0`` that :func:`kink_descent` approaches from the fit. The first
    certified one is returned; failing that, with `uncertified`, the descent's point
    when it is below `loss` (ties between equally good fits, say).
    """
    sigma = min(float(theta[-1]), objective.min_sigma)
    params = np.asarray(objective.params_of(theta), dtype=np.float64)
    # Certified optimal up to rounding: residuals of ~eps·|y| left in Z cost ε·|r|.
    slack = 1e-9 * abs(loss) + 1e-12 * objective.total_weight * objective.y_scale

    def at_bound(coef: FloatArray, intercept: float, certified: bool) -> Polished:
        shift = [intercept] if objective.fit_intercept else []
        candidate = objective.theta_of(np.concatenate([coef, shift, [sigma]]))
        candidate_loss, grad = objective.evaluate(candidate)
        return Polished(candidate, candidate_loss, grad, certified)

    def certify(guess: FloatArray | None, negligible: float) -> Polished | None:
        exact = certified_kink(objective, guess, negligible)
        polished = None if exact is None else at_bound(*exact, certified=True)
        return polished if polished is not None and polished.loss <= loss + slack else None

    for guess, negligible in ((None, 0.0), (params, 1e-6)):
        polished = certify(guess, negligible)
        if polished is not None:
            return polished
    descended = kink_descent(objective, params) if descend else None  # the costly guess
    if descended is None:
        return None
    polished = certify(descended, NEGLIGIBLE)
    if polished is not None or not uncertified:
        return polished
    d = objective.n_features
    intercept = float(descended[d]) if objective.fit_intercept else 0.0
    polished = at_bound(descended[:d], intercept, certified=False)
    return polished if polished.loss < loss else None


def certified_kink(
    objective: HuberObjective, params: FloatArray | None = None, negligible: float = 1e-6
) -> tuple[FloatArray, float] | None:
    """``(coef, intercept)`` of a certified minimiser with sigma at its bound, or None.

    Without `params` Z is every sample with positive weight (an exact fit); with the
    parameters of an approximate solution, Z is its samples with negligible residuals:
    at most `negligible` times ``max|y - mean(y)|``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]])
    >>> objective = HuberObjective(
    ...     RowBlocks(X, np.array([1.0, 2.0]), None),
    ...     epsilon=1.35, alpha=1e-4, fit_intercept=False, log_sigma=False,
    ... )
    >>> coef, intercept = certified_kink(objective)
    >>> np.allclose(X @ coef, [1.0, 2.0])
    True
    """
    standardised = _standardised(objective)
    if standardised is None:
        return None
    A, b, s = standardised
    size = float(np.max(np.abs(b), initial=0.0)) or 1.0  # tolerances relative to y
    if params is None:
        if b.size > A.shape[1] and not _interpolates(A, b, size):
            return None  # no exact fit of every sample: skip the (p + n)-square system
        zero, signs = np.ones(b.size, dtype=bool), np.zeros(b.size)
    else:
        d = objective.n_features
        guess = objective.internal(params[:d], params[d] if objective.fit_intercept else 0.0, 1.0)
        residual = b - A @ guess[:-1]
        zero = np.abs(residual) <= negligible * size
        signs = np.where(zero, 0.0, np.sign(residual))
    if A.shape[1] + np.count_nonzero(zero) > _MAX_KKT:
        return None
    penalty = _penalty(objective)
    phi = _solve(A, b, s, zero, signs, objective.epsilon, penalty, size)
    if phi is None or not _certified(A, b, s, zero, signs, phi, objective, penalty, size):
        return None
    v = np.concatenate([phi, [1.0]])
    params_ = np.asarray(objective.params(v), dtype=np.float64)
    d = objective.n_features
    return params_[:d], float(params_[d]) if objective.fit_intercept else 0.0


def _standardised(objective: HuberObjective) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """``(A, b, s)``: the design ``[(X - m)·coef_scale/s_y, 1]`` and ``(y - m_y)/s_y`` of
    the samples of positive weight, with their weights, so that ``b - A·φ`` is the
    residual over ``s_y`` at the internal point ``φ`` (sigma left out); None unless the
    data are in memory and small."""
    blocks = objective.blocks
    if not isinstance(blocks, RowBlocks):
        return None
    weights = blocks.sample_weight
    keep = np.ones(blocks.n_samples, dtype=bool) if weights is None else weights > 0
    if np.count_nonzero(keep) * objective.n_features > _MAX_ENTRIES:
        return None
    X = blocks.X[keep] if weights is not None else blocks.X
    X = X.toarray() if sp.issparse(X) else np.array(X, dtype=np.float64)
    A = (X - objective.mean) * (objective.coef_scale / objective.y_scale)
    if objective.fit_intercept:
        A = np.column_stack([A, np.ones(A.shape[0])])
    b = (blocks.y[keep] - objective.y_center) / objective.y_scale
    s = np.ones(b.size) if weights is None else weights[keep]
    return A, b, s


def _penalty(objective: HuberObjective) -> FloatArray:
    """The diagonal Hessian of ``α·‖coef‖²/s_y`` in the internal coordinates."""
    penalty = np.zeros(objective.n_params - 1)
    d = objective.n_features
    ratio = objective.coef_scale / objective.y_scale  # coef_scale² alone may overflow
    penalty[:d] = (2.0 * objective.alpha) * objective.coef_scale * ratio
    return penalty


def _interpolates(A: FloatArray, b: FloatArray, size: float) -> bool:
    """Whether some linear model fits every sample exactly (least squares, O(n·p²))."""
    fit = np.linalg.lstsq(A, b, rcond=None)[0]
    return bool(np.max(np.abs(A @ fit - b)) <= 1e-9 * size)


def _solve(
    A: FloatArray,
    b: FloatArray,
    s: FloatArray,
    zero: BoolArray,
    signs: FloatArray,
    epsilon: float,
    penalty: FloatArray,
    size: float,
) -> FloatArray | None:
    """The minimiser given Z and the signs: the KKT system of the quadratic problem,
    solved for ``phi / size`` (so that rows of tiny or huge `b` weigh like the others
    in the least squares)."""
    p, z = A.shape[1], int(np.count_nonzero(zero))
    pull = 2.0 * epsilon * ((s * signs) @ A)
    kkt = np.zeros((p + z, p + z))
    kkt[:p, :p] = np.diag(penalty * size)
    kkt[:p, p:] = -A[zero].T
    kkt[p:, :p] = A[zero]
    rhs = np.concatenate([pull, b[zero] / size])
    solution = np.linalg.lstsq(kkt, rhs, rcond=None)[0]
    if np.max(np.abs(kkt @ solution - rhs)) > 1e-9 * float(np.max(np.abs(rhs))):
        return None
    phi: FloatArray = solution[:p] * size
    return phi


def _certified(
    A: FloatArray,
    b: FloatArray,
    s: FloatArray,
    zero: BoolArray,
    signs: FloatArray,
    phi: FloatArray,
    objective: HuberObjective,
    penalty: FloatArray,
    size: float,
) -> bool:
    """The optimality conditions of the module docstring, to rounding."""
    eps, residual = objective.epsilon, b - A @ phi
    if np.max(np.abs(residual[zero]), initial=0.0) > 1e-9 * size:
        return False
    if np.any(np.sign(residual[~zero]) != signs[~zero]):
        return False
    if objective.total_weight - eps * (eps * float(np.sum(s[~zero]))) < 0:  # no ε² overflow
        return False  # sigma would rather grow
    target = penalty * phi - 2.0 * eps * ((s * signs) @ A)
    M = (A[zero] * (2.0 * eps * s[zero])[:, None]).T
    scale = np.max(np.abs(target), initial=0.0) + np.max(np.abs(M), initial=0.0)  # as X
    root = np.sqrt(s[zero])
    u = np.linalg.lstsq(M / root, target, rcond=None)[0] / root  # least Σ sⱼ·uⱼ²
    if np.max(np.abs(u), initial=0.0) > 1.0 + 1e-9 and u.size > np.linalg.matrix_rank(M):
        # More zero residuals than unknowns (collinear or repeated points): the
        # least-norm multipliers need not be the ones in the box; ask an LP for those.
        feasible = linprog(np.zeros(u.size), A_eq=M, b_eq=target, bounds=(-1.0, 1.0))
        if feasible.status == 0:
            u = np.clip(feasible.x, -1.0, 1.0)
    if np.max(np.abs(M @ u - target), initial=0.0) > 1e-9 * scale:
        return False
    if not np.max(np.abs(u), initial=0.0) <= 1.0 + 1e-9:
        return False
    # Moving sigma together with the residuals in Z is the direction a separate test of
    # coefficients and sigma misses: it must not pay either (see the module docstring).
    spare = objective.total_weight - eps * (eps * (float(np.sum(s[~zero])) + s[zero] @ u**2))
    return bool(spare >= -1e-9 * objective.total_weight)


def kink_descent(objective: HuberObjective, params: FloatArray) -> FloatArray | None:
    """``[coef, intercept?]`` near the minimiser of the limit ``sigma -> 0``, from `params`.

    The limit objective ``2·ε·Σ sᵢ·|rᵢ| + α·‖coef‖²`` is what L-BFGS-B crawls on (with
    ``epsilon = 1`` it is the minimum of L for every data set, sigma at its bound). Here
    it is approached through Huber smoothings of it of decreasing width ``δ``
    (``|r| -> r²/δ`` below ``ε·δ``): each is convex and piecewise quadratic, and a few
    semismooth Newton steps (exact Hessian of the smoothing, backtracking on its value)
    minimise it from the previous one's minimiser. At the narrowest width the samples
    fitted exactly are those with residuals below ``ε·δ`` (:data:`NEGLIGIBLE` tells
    :func:`certified_kink` what to read off as zero), from which :func:`certified_kink`
    solves for the exact minimiser and certifies it. None unless the data are in memory
    and small.

    Examples
    --------
    With ``epsilon = 1`` and no penalty the limit is least absolute deviations, whose
    minimiser passes through two of these five points (the first and the last):

    >>> x = np.arange(5.0)
    >>> objective = HuberObjective(
    ...     RowBlocks(x[:, None], np.array([0.1, 1.0, 2.3, 2.9, 4.2]), None),
    ...     epsilon=1.0, alpha=0.0, fit_intercept=True, log_sigma=False,
    ... )
    >>> guess = kink_descent(objective, np.array([0.5, 1.0, 1.0]))
    >>> coef, intercept = certified_kink(objective, guess, NEGLIGIBLE)
    >>> round(float(coef[0]), 12), round(intercept, 12)
    (1.025, 0.1)
    """
    standardised = _standardised(objective)
    if standardised is None:
        return None
    A, b, s = standardised
    size = float(np.max(np.abs(b), initial=0.0)) or 1.0
    d = objective.n_features
    phi = objective.internal(params[:d], params[d] if objective.fit_intercept else 0.0, 1.0)[:-1]
    limit = _Limit(A, b, s, objective.epsilon, _penalty(objective))
    for level in _LEVELS:
        phi = limit.newton(phi, level * size)
    v = np.concatenate([phi, [1.0]])
    result: FloatArray = np.asarray(objective.params(v), dtype=np.float64)[:-1]
    return result


@dataclass(frozen=True)
class _Limit:
    """The limit objective ``Σ 2·ε·sᵢ·|bᵢ - aᵢ·φ| + ½·φ·P·φ`` (over ``s_y``) and its
    Huber smoothings of width ``w``: ``|r| -> r²/w`` below ``ε·w``."""

    A: FloatArray
    b: FloatArray
    s: FloatArray
    eps: float
    penalty: FloatArray

    def smoothed(self, phi: FloatArray, width: float) -> tuple[float, FloatArray, BoolArray]:
        """The smoothing of width `width` at `phi`: its value, gradient and inlier mask."""
        r = self.b - self.A @ phi
        inlier = np.abs(r) <= self.eps * width
        t = np.clip(r, -self.eps * width, self.eps * width)
        value = float(self.s @ (t * (2.0 * r - t))) / width + 0.5 * float(self.penalty @ phi**2)
        grad = -(2.0 / width) * (self.A.T @ (self.s * t)) + self.penalty * phi
        return value, grad, inlier

    def newton(self, phi: FloatArray, width: float) -> FloatArray:
        """Minimise the smoothing of width `width` from `phi` (damped semismooth Newton)."""
        A, s = self.A, self.s
        value, grad, inlier = self.smoothed(phi, width)
        # Directions without curvature (no inlier, no penalty) are linear: a damping
        # from the data's own curvature turns them into gradient steps of a sensible size.
        damping = 1e-10 * (2.0 / width) * float(np.max(s @ A**2, initial=0.0)) + 1e-300
        for _ in range(_NEWTON_STEPS):
            hessian = (2.0 / width) * (A[inlier].T * s[inlier]) @ A[inlier]
            hessian += np.diag(self.penalty + damping)
            try:
                step = -np.linalg.solve(hessian, grad)
            except np.linalg.LinAlgError:
                return phi
            for _halving in range(40):  # Armijo backtracking
                trial = phi + step
                trial_value, trial_grad, trial_inlier = self.smoothed(trial, width)
                if trial_value <= value + 1e-4 * float(grad @ step):
                    break
                step = step / 2.0
            else:
                return phi
            done = trial_value >= value - 1e-15 * abs(value)
            phi, value, grad, inlier = trial, trial_value, trial_grad, trial_inlier
            if done:
                break
        return phi
