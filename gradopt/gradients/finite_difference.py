"""Derivatives of black-box functions by finite differences: gradients and Jacobians.

The provider lays out the points of its scheme (:mod:`~gradopt.gradients._schemes`) at x,
fitted to the box, over groups of coordinates (:mod:`~gradopt.gradients._groups`: one
per point, or structurally independent columns together), has its evaluator compute
them (serially, in a batch, on workers) and the scheme combine the values. A gradient
is the Jacobian of a function with one output, computed by the same code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import scipy.sparse as sp

from gradopt._options import parse_options
from gradopt._typing import ArrayLike, FloatArray
from gradopt.exceptions import MissingCapabilityError, NonFiniteEvaluationError
from gradopt.gradients._base import BaseProvider
from gradopt.gradients._calls import Calls
from gradopt.gradients._fd_options import FiniteDifferenceOptions, Method
from gradopt.gradients._groups import Groups, check_sparsity_shape
from gradopt.gradients._richardson import Richardson
from gradopt.gradients._schemes import SCHEMES, Estimate, Scheme, Stencil
from gradopt.gradients._steps import check_imaginary_part, fits_float32, given_steps, layout

__all__ = ["METHODS", "FiniteDifference"]

_EPS = float(np.finfo(np.float64).eps)

#: Every finite-difference method by name: the basic formulas and Richardson's table.
METHODS: dict[str, Scheme] = {**SCHEMES, "richardson": Richardson()}


class FiniteDifference(BaseProvider):
    """Gradient (or Jacobian) of a black-box function by finite differences.

    A scalar ``fun`` gets :meth:`grad`, :meth:`value_and_grad`; a vector-valued one,
    returning m outputs, gets :meth:`jacobian` (shape ``(m, d)``),
    :meth:`value_and_jacobian` and :meth:`vector_value`, with the same methods, steps,
    bounds and evaluators; ``nfev`` counts every call of f, ``njev`` Jacobians.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``, or ``fun(x) -> array of shape (m,)`` for Jacobians.
    method : {"central", "forward", "backward", "complex", "richardson"}, default "central"
        ``"forward"``/``"backward"``: one-sided, error O(h), d calls of f plus f(x)
        (reused when known: exactly d + 1 calls for value and gradient).
        ``"central"``: error O(h^2), 2d calls (+1 for the value).
        ``"complex"``: the complex step ``Im f(x + i h e_j) / h``, exact to rounding,
        d calls; needs a function that carries complex numbers through.
        ``"richardson"``: central differences at five steps from ``h`` down to
        ``h / 13`` extrapolated to O(h^10), with an error estimate per component
        (:meth:`grad_and_error`, :meth:`jacobian_and_error`); 10d calls (+1 for the
        value) when the table converges, 10 more for each component (and round) whose
        table has not, at smaller steps.
    step : float or sequence of float, optional
        Absolute step, one for all coordinates or one per coordinate. The difference is
        divided by the step actually taken, ``(x + h) - x``. A step that leaves fewer
        than 64 units in the last place of ``x_j`` between the points is an error. By
        default each method's theoretical optimum relative to ``max(1, |x_j|)`` is
        used: ``sqrt(eps)`` (one-sided), ``eps**(1/3)`` (central), 1e-20 (complex), with
        the ``eps`` of f's output (float32 output is detected and gets larger steps);
        richardson starts at 1/16 whatever ``x`` (the largest step of its ladder) and
        goes on to smaller steps where its table does not converge.
    executor : concurrent.futures.Executor, optional
        Evaluate the points of each gradient on this executor: a thread or process pool,
        or a Dask cluster's ``distributed.Client(...).get_executor()``. All points are
        submitted together, in about one chunk per worker; the gradient is bit-for-bit
        the serial one. ``value(x)`` is computed in this process (on the executor
        under a `timeout`). The executor stays the caller's to shut down.
    workers : int, optional
        Shortcut for a process pool that gradopt owns, of ``min(workers, points per
        gradient, CPUs this process may use)`` processes (a larger `workers` is clamped,
        so ``workers=10**6`` starts as many as there are CPUs): started at the first
        evaluation, when every worker has answered (else all are stopped and an
        :class:`~gradopt.exceptions.EvaluationError` says why), and stopped by
        :meth:`close` (or leaving a ``with`` block, garbage collection, interpreter exit,
        a timeout or Ctrl-C). f is sent to each worker once (with cloudpickle when plain
        pickle cannot, so lambdas and closures work); an f that cannot be sent gets an
        :class:`~gradopt.exceptions.InvalidInputError` naming it. Not with `executor`.
        A pickled provider leaves the pool behind; the copy starts its own.
    timeout : float, optional
        Seconds one evaluation of f may take on the workers (needs `workers` or
        `executor`; refused without them, since an evaluation in this process cannot be
        stopped: use ``workers=1``). Each point is then sent as a task of its own, and
        ``value(x)`` runs on the workers too. An evaluation past it raises
        :class:`~gradopt.exceptions.EvaluationTimeoutError` naming the coordinate and
        the point; with `workers`, the pool is stopped (the hung worker terminated,
        with any program it started) and the next evaluation starts a new one. A thread,
        or a process of your own executor, cannot be stopped and keeps running.
    vectorized : bool, default False
        ``fun`` takes a batch of points, shape ``(k, *x.shape)``, and returns ``k``
        values: one call per gradient (per chunk with an executor). ``value(x)`` calls it
        with a batch of one. ``nfev`` counts points, as scipy does.
    bounds : sequence of (lo, hi) pairs or scipy.optimize.Bounds, optional
        Keep every evaluation inside the box (None or inf for an open side). A step
        that would leave it shortens or turns: forward/backward steps turn around or
        shorten; central shortens to the smaller room on either side, or where that
        room is too small uses the second-order one-sided formula
        ``(-3 f(x) + 4 f(x+h) - f(x+2h)) / 2h`` (same number of calls, plus ``f(x)``);
        richardson shortens its ladder. ``x`` outside the box is an error, and so is
        a box too narrow for a step of 64 units in the last place of ``x_j``. A
        coordinate with ``lo == hi`` is fixed: it never moves, costs no call of f,
        and its component is 0 (the derivative along every direction the box allows).
    sparsity : array_like or scipy.sparse matrix of shape (m, d), optional
        Where the Jacobian may be nonzero. Structurally independent columns (sharing no
        row) move together in one point (Curtis-Powell-Reid grouping, as scipy's
        ``approx_derivative``), so a banded Jacobian costs a few groups' worth of calls
        whatever d; :meth:`jacobian` then returns a ``scipy.sparse.csr_array`` with
        this structure. Every method works with it.

    Raises
    ------
    EvaluationError
        When f fails at a point on a worker: names the coordinate and the point, with
        the original exception as ``__cause__``, and is an instance of its type too. In
        this process the user's own exception propagates unchanged (plus a note naming
        the coordinate on Python >= 3.11).
    NonFiniteEvaluationError
        When f returns NaN or infinity at a point of the difference (any mode).
    InvalidInputError
        When the step actually taken is too small to mean anything (see `step`).
    ComplexStepError
        With ``method="complex"``, when f drops imaginary parts: it refuses complex
        input, returns real values, or returns values whose imaginary part is exactly 0
        at every point while f changes along x at first order (checked with two real
        evaluations, four when f changes at all, only when the whole gradient came out
        exactly 0).

    Examples
    --------
    >>> import numpy as np
    >>> p = FiniteDifference(np.sin, method="central")
    >>> float(p.grad(1.0))  # cos(1)
    0.5403023058
    >>> fwd = FiniteDifference(lambda x: np.sum(x**2), method="forward")
    >>> _ = fwd.value_and_grad(np.ones(3))
    >>> fwd.nfev  # d + 1
    4
    >>> g, err = FiniteDifference(np.sin, method="richardson").grad_and_error(1.0)
    >>> bool(abs(g - np.cos(1.0)) <= err < 1e-12)
    True

    On two threads (bit-for-bit the serial gradient), and inside a box:

    >>> from concurrent.futures import ThreadPoolExecutor
    >>> def f(x):
    ...     return np.sum(x**2)
    >>> with ThreadPoolExecutor(2) as pool:
    ...     g = FiniteDifference(f, executor=pool).grad(np.ones(3))
    >>> bool(np.array_equal(g, FiniteDifference(f).grad(np.ones(3))))
    True
    >>> box = FiniteDifference(np.sqrt, bounds=[(0.0, 1.0)])  # never evaluates sqrt(x > 1)
    >>> float(box.grad(1.0))  # 1 / (2 sqrt(x)), from the one-sided formula at the bound
    0.5000000000

    A vector-valued function, densely and with a tridiagonal sparsity (3 groups of
    columns whatever d, so 2 * 3 calls for central differences):

    >>> def residuals(x):
    ...     return x[1:] - x[:-1] ** 2
    >>> FiniteDifference(residuals).jacobian(np.ones(3)).round(6).tolist()
    [[-2.0, 1.0, 0.0], [0.0, -2.0, 1.0]]
    >>> banded = FiniteDifference(residuals, sparsity=np.eye(99, 100) + np.eye(99, 100, k=1))
    >>> J = banded.jacobian(np.ones(100))
    >>> J.shape, J.nnz, banded.nfev
    ((99, 100), 198, 4)
    """

    def __init__(
        self,
        fun: Callable[..., Any],
        method: Method = "central",
        step: float | Sequence[float] | None = None,
        *,
        executor: Executor | None = None,
        workers: int | None = None,
        timeout: float | None = None,
        vectorized: bool = False,
        bounds: Any = None,
        sparsity: Any = None,
    ) -> None:
        super().__init__(fun)
        given = {
            "method": method,
            "step": step,
            "executor": executor,
            "workers": workers,
            "timeout": timeout,
            "vectorized": vectorized,
            "bounds": bounds,
            "sparsity": sparsity,
        }
        self.options = parse_options(FiniteDifferenceOptions, given, "FiniteDifference")
        self.scheme: Scheme = METHODS[self.options.method]
        self._err: FloatArray | None = None
        self._eps: float | None = None  # machine epsilon of f's output, once known
        self._box = self.options.bounds
        self._calls = Calls(fun, self.options, self._count, self._points)

    @property
    def method(self) -> str:
        """The finite-difference method in use."""
        return self.options.method

    def steps(self, x: FloatArray) -> FloatArray:
        """The step ``h_j`` used for each coordinate at the 1-D point `x`."""
        return given_steps(x, self.scheme, self.options.step, self._eps or _EPS)

    # ------------------------------------------------------------ gradients, Jacobians
    def _compute_grad(self, x: FloatArray, f0: float | None) -> tuple[Any, ...]:
        known = None if f0 is None else np.array([f0])
        computed, est = self._differentiate(x.reshape(-1), x.shape, known, vector=False)
        value = None if computed is None else float(computed[0])
        if self.options.sparsity is None:  # a (1, d) array
            grad, err = est.value.reshape(x.shape), est.error
        else:
            grad, err = _flat(est.value).reshape(x.shape), est.error
            err = None if err is None else _flat(err)
        if err is None:
            return value, grad
        return value, grad, err.reshape(x.shape)  # cached with the gradient

    def _compute_jacobian(self, x: FloatArray, f0: FloatArray | None) -> tuple[Any, ...]:
        computed, est = self._differentiate(x.reshape(-1), x.shape, f0, vector=True)
        return (computed, est.value) if est.error is None else (computed, est.value, est.error)

    def _differentiate(
        self, x: FloatArray, shape: tuple[int, ...], f0: FloatArray | None, vector: bool
    ) -> tuple[FloatArray | None, Estimate]:
        """``(f(x) if this call computed it, the Jacobian (one row for a gradient) and
        its error estimate)`` at the 1-D point `x`; f takes points of `shape`."""
        known = f0 is not None
        scheme, h, groups = self._layout(x)
        f0, seen = self._f0(x, shape, scheme, f0, vector, force=groups.count == 0)
        values = self._evaluate_points(x, h, scheme, groups, vector, shape)
        if self._eps is None and not scheme.imaginary:
            # f's output precision, once: values that all fit float32 exactly (as float32
            # output does, and float64 output almost never) make f's dtype worth a look.
            self._eps = _EPS
            if fits_float32(values):
                if seen is None:
                    value, seen = self._calls.probe(x, shape, vector)
                    if f0 is None:
                        f0 = value  # returned below, so counted by BaseProvider
                    else:
                        self._count(1)
                self._eps = max(seen, _EPS)
            if self._eps > _EPS and self.options.step is None:
                scheme, h, groups = self._layout(x)  # steps sized for f's precision
                f0, _ = self._f0(x, shape, scheme, f0, vector)
                values = self._evaluate_points(x, h, scheme, groups, vector, shape)
        if groups.count:
            m = values.shape[1]
        else:  # nothing moves: f(x) was forced, for the number of outputs
            assert f0 is not None
            m = f0.size
        sparsity = self.options.sparsity
        if sparsity is not None:
            check_sparsity_shape(sparsity, m, x.size)
        if scheme.imaginary and not np.any(values.imag):

            def value_at(p: FloatArray) -> Any:
                self._count(1)
                return self._calls.at(p, shape, vector)

            check_imaginary_part(x, values, value_at, self._box)

        def evaluate(sub: Scheme, sub_groups: Groups) -> np.ndarray[Any, Any]:
            return self._evaluate_points(x, h, sub, sub_groups, vector, shape)

        entries = None if sparsity is None else sparsity.entries
        at = Stencil(x, h, groups, f0, entries, self._eps or _EPS, evaluate)
        est = scheme.combine(values.reshape(-1, m), at)
        if sparsity is not None:
            matrix = sparsity.matrix
            est = Estimate(matrix(est.value), None if est.error is None else matrix(est.error))
        return (None if known else f0), est

    def _layout(self, x: FloatArray) -> tuple[Scheme, FloatArray, Groups]:
        options = self.options
        return layout(x, self.scheme, options.step, self._eps or _EPS, self._box, options.sparsity)

    def _f0(
        self,
        x: FloatArray,
        shape: tuple[int, ...],
        scheme: Scheme,
        f0: FloatArray | None,
        vector: bool,
        force: bool = False,
    ) -> tuple[FloatArray | None, float | None]:
        """``f(x)`` if the scheme needs it (or `force`), and the epsilon of f's output if
        f was called (a call made here is counted by the caller)."""
        seen = None
        if not (scheme.uses_f0 or force):
            return f0, seen
        if f0 is None:
            if self._eps is None:
                f0, seen = self._calls.probe(x, shape, vector)
            else:
                raw = self._calls.at(x, shape, vector)
                f0 = self._calls.checked(raw, x, shape, vector)
        if not (math.isfinite(f0[0]) if f0.size == 1 else np.isfinite(f0).all()):
            # also when value(x) came first and is cached
            raise NonFiniteEvaluationError(
                f"{self!r}: f(x) = {f0.tolist() if vector else f0[0]} at x = {x}; a "
                "one-sided difference needs it finite."
            )
        return f0, seen

    def grad_and_error(self, x: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Return the gradient and an estimate of its absolute error per component.

        Only ``method="richardson"`` estimates its error. The estimate is cached with the
        gradient, so ``grad(x)`` then ``grad_and_error(x)`` costs one gradient. It assumes
        f is computed to a few units in the last place; noisier functions (inner solvers,
        simulations) get an estimate that is too small.
        """
        self._needs_error()
        grad, err = self._grad_and_extra(x)
        return grad, np.reshape(err, grad.shape).copy()

    def jacobian_and_error(self, x: ArrayLike) -> tuple[Any, Any]:
        """Return the Jacobian and an estimate of its absolute error per entry.

        As :meth:`grad_and_error`, for a vector-valued function: only
        ``method="richardson"`` estimates its error (dense, or with the sparsity's
        structure).
        """
        self._needs_error()
        jac, err = self._jacobian_and_extra(x)
        return jac, err.copy()

    def _needs_error(self) -> None:
        if not self.scheme.estimates_error:
            raise MissingCapabilityError(
                f"method={self.method!r} has no error estimate; use method='richardson'."
            )

    # ------------------------------------------------------------ values of f
    def _compute_value(self, x: FloatArray) -> Any:
        return self._calls.at(x.reshape(-1), x.shape, False)

    def _compute_vector_value(self, x: FloatArray) -> Any:
        return self._calls.at(x.reshape(-1), x.shape, True)

    def _points(self, d: int) -> int:
        """Points of one derivative in `d` dimensions (to size a pool that a call of f
        under a timeout may start)."""
        sparsity = self.options.sparsity
        return self.scheme.count(Groups.each(d) if sparsity is None else sparsity.groups)

    def _evaluate_points(
        self,
        x: FloatArray,
        h: FloatArray,
        scheme: Scheme,
        groups: Groups,
        vector: bool,
        shape: tuple[int, ...] | None = None,
    ) -> np.ndarray[Any, Any]:
        return self._calls.points(
            x, h, scheme, groups, x.shape if shape is None else shape, vector
        )

    # ------------------------------------------------------------ worker lifetime
    def close(self) -> None:
        """Shut down the worker processes of ``workers=N`` (no-op otherwise).

        A given ``executor`` is the caller's and is left running. A later gradient
        starts a new pool.
        """
        self._calls.evaluator.close()

    def __enter__(self) -> FiniteDifference:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _flat(a: Any) -> FloatArray:
    """A 1-row Jacobian (dense or sparse) as a 1-D array."""
    dense = a.toarray() if sp.issparse(a) else a
    flat: FloatArray = np.asarray(dense, dtype=np.float64).reshape(-1)
    return flat
