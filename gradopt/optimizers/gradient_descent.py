"""Gradient descent: fixed step or Armijo backtracking, with optional (Nesterov) momentum.

One loop, ``_descend``, serves both entry points: ``gradopt.minimize(provider, x0,
method="gradient-descent")`` and ``scipy.optimize.minimize(fun, x0, jac=...,
method=gradient_descent)`` (scipy's custom-method protocol). It is the classic
``while norm(g) > gtol: x -= learning_rate * g`` made safe: a finite iteration limit, a
line search by default, NaN detection, and a result that says why it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from gradopt._options import parse_options
from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError
from gradopt.gradients import Analytic, FiniteDifference, GradientProvider
from gradopt.optimizers._guard import Abort, EvaluationGuard
from gradopt.optimizers._line_search import armijo_backtracking
from gradopt.optimizers._monitor import Monitor
from gradopt.optimizers._results import Status, make_result
from gradopt.optimizers._spec import RunSpec, make_spec
from gradopt.optimizers.options import GradientDescentOptions

__all__ = ["gradient_descent", "run_gradient_descent"]

_WHAT = "gradient descent"


class _State:
    """The iterate, its value and gradient, and what the next step needs."""

    def __init__(self, x: FloatArray, f: float, g: FloatArray, opts: GradientDescentOptions):
        self.x, self.f, self.g = x, f, g
        self.velocity = np.zeros_like(x)
        self.t = opts.learning_rate  # last accepted step length
        self.stepped = False  # whether a step was taken
        self.move: tuple[FloatArray, FloatArray] | None = None  # (s, y), for Barzilai-Borwein
        self.fun_history = [f]
        self.gnorm_history = [float(np.linalg.norm(g))]


def _direction(state: _State, opts: GradientDescentOptions) -> FloatArray:
    beta = opts.momentum
    if beta == 0:
        return -state.g
    state.velocity = beta * state.velocity + state.g
    if opts.nesterov:
        return -(state.g + beta * state.velocity)
    return -state.velocity


def _first_trial(state: _State, opts: GradientDescentOptions) -> float:
    if opts.initial_step == "constant" or not state.stepped:
        return opts.learning_rate
    if opts.initial_step == "bb" and state.move is not None:
        s, y = state.move
        sy = float(s @ y)
        if sy > 0:
            return float(s @ s) / sy
    return state.t * opts.step_growth


def _step(
    guard: EvaluationGuard, state: _State, opts: GradientDescentOptions
) -> tuple[FloatArray, float, FloatArray] | None:
    """Take one step; None when the line search fails."""
    d = _direction(state, opts)
    if opts.line_search == "none":
        x_new = state.x + opts.learning_rate * d
        f_new, g_new = guard.value_and_grad(x_new)
        return x_new, f_new, g_new
    slope = float(state.g @ d)
    if not slope < 0:  # momentum pointed uphill: restart from steepest descent
        state.velocity = state.g.copy() if opts.momentum else state.velocity
        d = -state.g
        slope = -float(state.g @ state.g)
    found = armijo_backtracking(
        guard.trial_value_and_grad,
        state.x,
        state.f,
        slope,
        d,
        _first_trial(state, opts),
        c1=opts.armijo_c1,
        shrink=opts.step_shrink,
        max_trials=opts.max_backtracks,
    )
    if found is None:
        return None
    state.t = found.t
    guard.accepted()
    return found.x, found.f, found.g


def _descend(
    guard: EvaluationGuard, x0: FloatArray, opts: GradientDescentOptions, monitor: Monitor
) -> OptimizeResult:
    """The gradient-descent loop on an evaluation guard; reports through `monitor`."""
    try:
        f, g = guard.value_and_grad(x0)
    except Abort as stop:
        return make_result(
            stop.status, x0, stop.fun, None, 0, guard.counts(), stop.detail, method=_METHOD
        )
    state = _State(x0.copy(), f, g, opts)
    nit, detail = 0, ""
    while True:
        gnorm = float(np.linalg.norm(state.g))
        if gnorm <= opts.gtol:
            status, detail = Status.SUCCESS, f"||g|| = {gnorm:.3g} <= gtol = {opts.gtol:g}"
            break
        if nit >= opts.max_iter:
            status, detail = Status.MAX_ITER, f"max_iter = {opts.max_iter}, ||g|| = {gnorm:.3g}"
            break
        guard.iteration = nit + 1
        try:
            stepped = _step(guard, state, opts)
        except Abort as stop:
            status, detail = stop.status, stop.detail
            break
        if stepped is None and guard.trouble is not None:
            status, detail = Status.NON_FINITE, guard.could_not_recover()
            break
        if stepped is None:
            status = Status.LINE_SEARCH_FAILED
            detail = f"at iteration {nit + 1}: no step of the first {opts.max_backtracks} trials"
            detail += " decreased f enough (and a shorter one would not move x)"
            break
        x_new, f_new, g_new = stepped
        nit += 1
        f_old = state.f
        state.stepped = True
        if opts.line_search == "armijo" and opts.initial_step == "bb":
            state.move = (x_new - state.x, g_new - state.g)
        state.x, state.f, state.g = x_new, f_new, g_new
        if opts.history:
            state.fun_history.append(f_new)
            state.gnorm_history.append(float(np.linalg.norm(g_new)))
        if monitor.step(nit, state.x, state.f, state.g):
            status, detail = Status.CALLBACK_STOP, f"at iteration {nit}"
            break
        if opts.ftol is not None and abs(f_old - f_new) <= opts.ftol * max(
            1.0, abs(f_old), abs(f_new)
        ):
            status, detail = Status.SUCCESS, f"relative change of f <= ftol = {opts.ftol:g}"
            break
    extra: dict[str, Any] = {"method": _METHOD}
    if opts.history:
        extra["history"] = {
            "fun": np.array(state.fun_history),
            "grad_norm": np.array(state.gnorm_history),
        }
    return make_result(status, state.x, state.f, state.g, nit, guard.counts(), detail, **extra)


def run_gradient_descent(provider: GradientProvider, spec: RunSpec) -> OptimizeResult:
    """Gradient descent on a provider (a runner); see :func:`gradopt.minimize`."""
    if spec.bounds is not None:
        raise InvalidInputError(
            "gradient descent does not accept bounds; use method='L-BFGS-B' or 'TNC'."
        )
    if spec.constraints:
        raise InvalidInputError(
            "gradient descent does not accept constraints; use method='SLSQP' or 'trust-constr'."
        )
    options: Mapping[str, Any] = spec.options
    if spec.tol is not None:
        options = {"gtol": spec.tol, **options}  # as scipy: an explicit gtol option wins
    opts = parse_options(GradientDescentOptions, options, _WHAT)
    monitor = Monitor(spec.callback, spec.progress, total=opts.max_iter)
    try:
        return _descend(EvaluationGuard(provider, remember=False), spec.x0, opts, monitor)
    finally:
        monitor.close()


_METHOD = "gradient-descent"
_JAC_SCHEMES = {None: "central", "2-point": "forward", "3-point": "central", "cs": "complex"}


def _provider_for(fun: Callable[..., Any], jac: Any, args: tuple[Any, ...]) -> GradientProvider:
    def f(x: FloatArray) -> Any:
        return fun(x, *args)

    if callable(jac):
        return Analytic(f, lambda x: jac(x, *args))
    if jac is True:  # f returns (value, gradient)
        return Analytic(lambda x: f(x)[0], value_and_grad=f)
    if jac is False or (isinstance(jac, str | type(None)) and jac in _JAC_SCHEMES):
        return FiniteDifference(f, method=_JAC_SCHEMES[None if jac is False else jac])  # type: ignore[arg-type]
    raise InvalidInputError(
        f"jac must be a callable, True, None, '2-point', '3-point' or 'cs'; got {jac!r}."
    )


def gradient_descent(
    fun: Callable[..., Any],
    x0: Any,
    args: Any = (),
    jac: Any = None,
    hess: Any = None,
    hessp: Any = None,
    bounds: Any = None,
    constraints: Any = (),
    callback: Callable[..., Any] | None = None,
    tol: float | None = None,
    progress: bool = False,
    **options: Any,
) -> OptimizeResult:
    """Gradient descent as a scipy custom method (``scipy.optimize.minimize(method=...)``).

    Parameters
    ----------
    fun, x0, args, jac, callback
        As for :func:`scipy.optimize.minimize`. `jac` may be a callable, True (`fun`
        returns ``(f, g)``), or None / '2-point' / '3-point' / 'cs' for central /
        forward / central / complex-step finite differences by gradopt when this
        function is called directly. Through ``scipy.optimize.minimize``, scipy itself
        turns the strings and False into None (gradopt's central differences) and wraps
        True into a callable.
    hess, hessp, bounds, constraints
        Not used by gradient descent; anything but None (or empty constraints) is an error.
    tol : float, optional
        Shorthand for ``gtol`` (scipy passes ``minimize(tol=...)`` here).
    progress : bool, default False
        Show a tqdm progress bar.
    **options
        :class:`~gradopt.optimizers.options.GradientDescentOptions`; a misspelt name is
        an error.

    Returns
    -------
    OptimizeResult
        With gradopt's status (:class:`~gradopt.Status`).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import minimize
    >>> res = minimize(lambda x: np.sum((x - 3.0) ** 2), np.zeros(2),
    ...                jac=lambda x: 2 * (x - 3.0), method=gradient_descent,
    ...                options={"gtol": 1e-8})
    >>> res.success, np.round(res.x, 6)
    (True, array([3., 3.]))
    """
    for name, value in (("hess", hess), ("hessp", hessp), ("bounds", bounds)):
        if value is not None:
            raise InvalidInputError(f"gradient descent does not use {name}; got {value!r}.")
    if constraints:
        raise InvalidInputError("gradient descent does not accept constraints.")
    if not isinstance(args, tuple):
        args = (args,)
    provider = _provider_for(fun, jac, args)
    spec = make_spec(x0, tol=tol, options=options, callback=callback, progress=progress)
    return run_gradient_descent(provider, spec)
