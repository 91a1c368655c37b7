"""Step-size studies: how the error of a finite difference depends on the step h.

The lesson: h can be neither too big nor too small. The truncation error of a difference
quotient shrinks with h (like ``h`` one-sided, ``h^2`` central), while the round-off error,
an error of about ``eps |f|`` in each value of f divided by h, grows like ``eps |f| / h``.
Below some h, ``f(x + h) == f(x)`` in floating point and the estimate is exactly zero: the
plateau. :func:`step_error` measures the error over a grid of steps with gradopt's own
finite-difference schemes and sets it beside the two model curves. For Richardson
extrapolation the step studied is the first (largest) step of its ladder; it has no
two-curve model, and sets its own error estimate beside the measured error instead.

The truncation model needs ``|f^(p+1)(x0)|``, estimated by extrapolating central
differences of order ``p + 1`` over a ladder of steps that shrinks until its table
converges (:mod:`gradopt.gradients._extrapolation`, as Richardson's first derivatives do),
so it holds whatever the scale on which f varies (``cosh(1000 x)`` as well as ``exp``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from gradopt._study_inputs import checked_steps, scalar_derivative, scalar_problem
from gradopt._typing import ArrayLike, FloatArray
from gradopt.exceptions import InvalidInputError, NonFiniteEvaluationError, ObjectiveError
from gradopt.gradients._extrapolation import LEVELS, Rounds, Window, analyse
from gradopt.gradients._groups import Groups
from gradopt.gradients._richardson import FIRST_STEP, ULPS, ladder
from gradopt.gradients._schemes import Stencil
from gradopt.gradients.finite_difference import METHODS, FiniteDifference

__all__ = ["StepErrorResult", "step_error"]

_EPS = float(np.finfo(np.float64).eps)

StudyMethod = Literal["forward", "backward", "central", "complex", "richardson"]


@dataclass(frozen=True)
class _Model:
    """Error model of a difference formula: ``trunc * |f^(order+1)| * h^order + round/h``."""

    order: int  # power of h in the truncation error
    trunc: float  # ... times |f^(order + 1)(x)|
    round: float  # round-off ``round * eps * |f| / h`` (0: no subtraction)


_MODELS: dict[str, _Model] = {
    "forward": _Model(order=1, trunc=1 / 2, round=2.0),
    "backward": _Model(order=1, trunc=1 / 2, round=2.0),
    "central": _Model(order=2, trunc=1 / 6, round=1.0),
    "complex": _Model(order=2, trunc=1 / 6, round=0.0),
}


@dataclass(frozen=True, repr=False)
class StepErrorResult:
    """The outcome of :func:`step_error`.

    Attributes
    ----------
    method : str
        The finite-difference method studied.
    x0, derivative : float
        The point and the true derivative there.
    steps : ndarray
        The steps h, increasing.
    estimates, errors : ndarray
        The estimate of the derivative at each step and its absolute error; NaN where f
        was not finite at a point (a large step that overflows, or leaves f's domain).
    truncation, roundoff : ndarray
        The model curves at each step: ``c |f^(p+1)(x0)| h^p`` and ``c eps |f(x0)| / h``
        (for the complex step, ``eps |f'(x0)|``: no subtraction, no growth).
    plateau : ndarray of bool
        Steps where the difference quotient is exactly zero: ``f(x0 + h) == f(x0)``
        (or ``f(x0 + h) == f(x0 - h)``) in floating point.
    best_step, best_error : float
        The bottom of the measured V: the step where the error, smoothed by a running
        upper quartile over the steps within half a decade, is smallest, and that
        smoothed error. Lucky dips of the raw curve (an estimate
        that happens to be exact at a tiny step) do not move it.
    predicted_best_step : float
        The step that minimises the model: for one-sided differences
        ``2 sqrt(eps |f| / |f''|)``, for central ``(3 eps |f| / |f'''|)^(1/3)``; for the
        complex step, the largest step whose truncation stays below ``eps |f'|``.
    higher_derivative : float
        ``|f^(p+1)(x0)|``, estimated by extrapolation over steps that adapt to the scale
        of f, that the truncation model uses.
    error_estimates : ndarray or None
        For ``method="richardson"``, the error estimate it gives at each first step h
        (:meth:`~gradopt.FiniteDifference.grad_and_error`); ``None`` for the other
        methods. Richardson has no two-curve model: its `truncation`, `roundoff` and
        `higher_derivative` are NaN and `predicted_best_step` is its default first step.
    """

    method: str
    x0: float
    derivative: float
    steps: FloatArray
    estimates: FloatArray
    errors: FloatArray
    truncation: FloatArray
    roundoff: FloatArray
    plateau: np.ndarray[Any, np.dtype[np.bool_]]
    best_step: float
    best_error: float
    predicted_best_step: float
    higher_derivative: float
    error_estimates: FloatArray | None = None

    @property
    def model(self) -> FloatArray:
        """Truncation plus round-off."""
        total: FloatArray = self.truncation + self.roundoff
        return total

    def __repr__(self) -> str:
        return (
            f"StepErrorResult(method={self.method!r}, x0={self.x0:g}, "
            f"best_step={self.best_step:.2e} (error {self.best_error:.2e}), "
            f"predicted_best_step={self.predicted_best_step:.2e}, "
            f"{self.steps.size} steps from {self.steps[0]:.0e} to {self.steps[-1]:.0e})"
        )


def step_error(
    fun: Callable[..., Any],
    x0: ArrayLike,
    derivative: ArrayLike,
    method: StudyMethod = "forward",
    steps: ArrayLike | None = None,
    direction: ArrayLike | None = None,
) -> StepErrorResult:
    """Error of a finite-difference derivative over a grid of steps, with its model.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``.
    x0 : float or 1-D array
        The point. A 1-D point needs `direction`.
    derivative : float
        The true derivative at `x0` (along `direction` when given).
    method : {"forward", "backward", "central", "complex", "richardson"}, default "forward"
        The scheme of :class:`~gradopt.FiniteDifference` to study. For ``"richardson"``
        the step is the first step of its ladder, and steps too small for the ladder
        (refused by :class:`~gradopt.FiniteDifference`) give NaN.
    steps : 1-D array of positive floats, optional
        The steps h; by default 161 steps log-spaced from 1e-16 to 1.
    direction : 1-D array, optional
        Study ``t -> fun(x0 + t * direction)`` at ``t = 0``: the directional derivative.

    Returns
    -------
    StepErrorResult

    Raises
    ------
    InvalidInputError
        For a bad `x0`, `derivative`, `method`, `steps` or `direction`.
    ObjectiveError
        When `fun` returns anything but one real number (None, a string, an array...).
    NonFiniteEvaluationError
        When `fun` is NaN or infinite at `x0`.

    Examples
    --------
    >>> import numpy as np
    >>> r = step_error(np.sin, 1.0, np.cos(1.0), method="forward")
    >>> r.predicted_best_step  # 2 sqrt(eps |sin 1| / |sin 1|) = 2 sqrt(eps)
    2.98e-08
    >>> bool(1e-9 < r.best_step < 1e-6 and r.best_error < 1e-7)
    True
    >>> r = step_error(np.sin, 1.0, np.cos(1.0), method="richardson")
    >>> bool(np.nanmax(r.errors[r.steps >= 1e-3]) < 1e-12)  # any first step from 1e-3 on
    True
    >>> bool(np.all(r.errors[r.steps >= 1e-13] <= r.error_estimates[r.steps >= 1e-13]))
    True
    """
    if method not in (*_MODELS, "richardson"):
        raise InvalidInputError(
            f"method must be one of {sorted([*_MODELS, 'richardson'])}; got {method!r}."
        )
    phi, t0 = scalar_problem(fun, x0, direction)
    true = scalar_derivative(derivative)
    grid = checked_steps(steps)
    if method == "richardson":
        return _richardson_study(phi, t0, true, grid)
    model = _MODELS[method]

    estimates = np.array([_difference(phi, t0, method, float(h)) for h in grid])
    errors = np.abs(estimates - true)

    f0 = abs(float(phi(t0)))
    higher = abs(_nth_derivative(phi, t0, model.order + 1, f0 + abs(t0 * true)))
    truncation = model.trunc * higher * grid**model.order
    if model.round:
        roundoff = model.round * _EPS * f0 / grid
        predicted = _balance(model, higher, f0)
    else:
        roundoff = np.full(grid.size, _EPS * abs(true))
        predicted = (
            np.sqrt(_EPS * abs(true) / (model.trunc * higher)) if higher > 0 else float(np.inf)
        )
    best_step, best_error = _bottom_of_the_v(grid, errors)
    return StepErrorResult(
        method=method,
        x0=t0,
        derivative=true,
        steps=grid,
        estimates=estimates,
        errors=errors,
        truncation=truncation,
        roundoff=roundoff,
        plateau=(estimates == 0.0) & (true != 0.0),
        best_step=best_step,
        best_error=best_error,
        predicted_best_step=float(predicted),
        higher_derivative=higher,
    )


def _richardson_study(
    phi: Callable[[Any], Any], t0: float, true: float, grid: FloatArray
) -> StepErrorResult:
    """Richardson extrapolation started at each step of `grid`, with its error estimate."""
    estimates = np.full(grid.size, np.nan)
    bounds = np.full(grid.size, np.nan)
    for k, h in enumerate(grid):
        provider = FiniteDifference(lambda t: phi(t[0]), method="richardson", step=float(h))
        try:
            g, err = provider.grad_and_error(np.array([t0]))
        except ObjectiveError:  # f itself is unusable: no study
            raise
        except (InvalidInputError, NonFiniteEvaluationError):  # a step too small; f not finite
            continue
        estimates[k], bounds[k] = float(g[0]), float(err[0])
    errors = np.abs(estimates - true)
    best_step, best_error = _bottom_of_the_v(grid, errors)
    nan = np.full(grid.size, np.nan)
    return StepErrorResult(
        method="richardson",
        x0=t0,
        derivative=true,
        steps=grid,
        estimates=estimates,
        errors=errors,
        truncation=nan,
        roundoff=nan.copy(),
        plateau=np.zeros(grid.size, dtype=bool),
        best_step=best_step,
        best_error=best_error,
        predicted_best_step=float(METHODS["richardson"].default_step(np.array([t0]))[0]),
        higher_derivative=float("nan"),
        error_estimates=bounds,
    )


def _balance(model: _Model, higher: float, f0: float) -> float:
    """The h minimising ``a h^p + b / h``: ``(b / (p a))^(1 / (p + 1))``."""
    a, b, p = model.trunc * higher, model.round * _EPS * f0, model.order
    if a == 0.0:
        return float(np.inf)
    if b == 0.0:
        return 0.0
    return float((b / (p * a)) ** (1.0 / (p + 1)))


def _difference(phi: Callable[[Any], Any], t0: float, method: str, h: float) -> float:
    """The `method` difference of phi at `t0` with step `h`, as FiniteDifference takes it
    (divided by the step actually taken), without its checks: 0 where ``t0 + h == t0``
    (the plateau), NaN where phi is not finite at a point."""
    scheme, one = METHODS[method], Groups.each(1)
    x = np.array([t0])
    step = scheme.taken(x, np.array([h]))
    if step[0] == 0:
        return 0.0
    with np.errstate(all="ignore"):
        values = np.array([[phi(p[0])] for p in scheme.iter_points(x, step, one)])
        f0 = np.array([complex(phi(t0)).real]) if scheme.uses_f0 else None
        if not (np.all(np.isfinite(values)) and (f0 is None or np.isfinite(f0).all())):
            return float("nan")
        return float(scheme.combine(values, Stencil(x, step, one, f0)).value[0, 0])


def _nth_derivative(phi: Callable[[Any], Any], t0: float, n: int, scale: float) -> float:
    """The n-th derivative of phi at t0: central n-th differences, extrapolated.

    The ladder starts at Richardson's first step and takes further rounds of smaller steps
    until the table converges, so a function varying on a scale of 1e-3 gets steps of
    that size. `scale` (about ``|f| + |t0 f'|``) sets the round-off model.
    """
    offsets = n / 2.0 - np.arange(n + 1)  # central n-th difference, in units of the step
    coefficients = np.array([(-1.0) ** k * math.comb(n, k) for k in range(n + 1)])
    x = np.array([t0])

    def window(_: Any, round_: int) -> Window:
        steps = ladder(np.array([FIRST_STEP]), LEVELS * round_)[:, 0]
        with np.errstate(all="ignore"):
            values = np.array([[float(phi(t0 + o * s)) for o in offsets] for s in steps])
            d = (values @ coefficients / steps**n)[:, None]
            big = max(scale, float(np.max(np.abs(values), initial=0.0)))
        noise = (ULPS * _EPS * big * 2.0**n / steps**n)[:, None]
        return analyse(d, steps[:, None], noise)

    def allowed(coords: Any, round_: int) -> Any:
        smallest = ladder(np.array([FIRST_STEP]), LEVELS * round_)[-1]
        return smallest >= 2.0**10 * np.spacing(np.abs(x))

    value, _ = Rounds(1).run(window(None, 0), window, allowed)
    return float(value[0]) if np.isfinite(value[0]) else float("nan")


def _bottom_of_the_v(steps: FloatArray, errors: FloatArray) -> tuple[float, float]:
    """The step where the smoothed error (:func:`_running_quartile`) is smallest, and it."""
    smoothed = _running_quartile(steps, errors)
    best = int(np.nanargmin(smoothed)) if np.isfinite(smoothed).any() else 0
    return float(steps[best]), float(smoothed[best])


def _running_quartile(steps: FloatArray, errors: FloatArray) -> FloatArray:
    """The upper quartile of the error over the steps within half a decade (NaN ignored)."""
    with np.errstate(divide="ignore"):
        logs = np.log10(errors)
    where = np.log10(steps)
    out = np.full(errors.size, np.nan)
    for k in range(errors.size):
        window = logs[(np.abs(where - where[k]) <= 0.5) & ~np.isnan(logs)]
        if window.size:
            out[k] = 10.0 ** np.quantile(window, 0.75, method="higher")
    return out
