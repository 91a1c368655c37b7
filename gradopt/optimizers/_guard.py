"""Safe evaluation of a provider during a run: finiteness checks, counts, the best point.

Optimizers never call the provider directly; they go through an :class:`EvaluationGuard`.
It tells two kinds of points apart:

- an **accepted iterate** (the start, a fixed step, the point a solver reports to its
  callback): a NaN or infinity there, or the provider's
  :class:`~gradopt.exceptions.NonFiniteEvaluationError`, ends the run, by raising
  :class:`Abort` (an internal signal, caught by the optimizer's front);
- a **trial point** (a line search's or trust region's proposal): a non-finite value
  there is handed to the solver as ``f = inf`` (gradient zero, which unlike NaN does not
  poison the quasi-Newton update trust-constr makes at every point it evaluates): the
  solver rejects the point and shrinks its step, as scipy's searches do with an objective
  returning ``inf``.
  The guard remembers the first such value since the last accepted iterate, so that a
  solver that then gives up is reported as ``NON_FINITE``, and ends the run if too many
  come in a row (a search that cannot recover).

It also remembers the last few finite evaluations, so that the iterate a solver reports
can be matched with its value and gradient without recomputing them, and measures the
provider's counters as differences around the run.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from gradopt._typing import FloatArray
from gradopt.exceptions import NonFiniteEvaluationError
from gradopt.gradients import GradientProvider, hessp_of
from gradopt.optimizers._results import Status

__all__ = ["Abort", "EvaluationGuard"]

_REMEMBERED = 8  # line searches try a few points per iteration; the iterate is among them


class Abort(Exception):
    """Internal: stop the run now with `status`; `detail` goes into the message.

    `fun` is f at the offending point when f itself was finite (the gradient was not),
    NaN otherwise.
    """

    def __init__(self, status: Status, detail: str, fun: float = math.nan) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.fun = fun


class EvaluationGuard:
    """Wraps a provider for one run of an optimizer.

    Parameters
    ----------
    provider : GradientProvider
        The source of values and gradients.
    remember : bool, default True
        Keep the last few finite evaluations for :meth:`recall` (optimizers that track
        their own iterate do not need it).
    """

    def __init__(self, provider: GradientProvider, remember: bool = True) -> None:
        self.provider = provider
        self._keep = _REMEMBERED if remember else 0
        self.iteration = 0  # kept up to date by the optimizer, for messages
        self.escaped: BaseException | None = None  # the last exception the provider raised
        self.trouble: str | None = None  # first non-finite trial value since the last iterate
        self._in_a_row = 0
        self._size = 0  # of x, for the limit on non-finite values in a row
        self._hessp = hessp_of(provider)
        self._start = self._raw_counts()
        self._seen: OrderedDict[bytes, tuple[float, FloatArray | None]] = OrderedDict()
        self._rejected: OrderedDict[bytes, str] = OrderedDict()  # recent non-finite points
        # The lowest point so far too: a derivative-free method's iterate is its best
        # point, which may be older than the last few evaluations.
        self._best: tuple[bytes, float, FloatArray | None] = (b"", math.inf, None)

    # ------------------------------------------------------ accepted iterates (strict)
    def value_and_grad(self, x: FloatArray) -> tuple[float, FloatArray]:
        """``(f(x), grad f(x))``; raises :class:`Abort` if either is not finite."""
        f, g, problem = self._evaluate(x, True, True)
        if problem is not None:
            fun = f if math.isfinite(f) else math.nan
            raise Abort(Status.NON_FINITE, self._where(problem), fun)
        assert g is not None
        return f, g

    def value(self, x: FloatArray) -> float:
        """``f(x)`` alone; raises :class:`Abort` if it is not finite."""
        f, _, problem = self._evaluate(x, True, False)
        if problem is not None:
            raise Abort(Status.NON_FINITE, self._where(problem))
        return f

    def hessp(self, x: FloatArray, v: FloatArray) -> FloatArray:
        """Hessian at `x` times `v` (always at an iterate); raises :class:`Abort` if not
        finite."""
        assert self._hessp is not None, "checked by the caller"
        self._check_point(x)
        hv = np.asarray(self._call(self._hessp, x, v), dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(hv)):
            raise Abort(Status.NON_FINITE, self._where("a Hessian-vector product is not finite"))
        return hv

    def accepted(self) -> None:
        """The solver accepted an iterate: earlier trouble at trial points is over."""
        self.trouble = None
        self._in_a_row = 0

    # ----------------------------------------------------------- trial points (lenient)
    def trial_value_and_grad(self, x: FloatArray) -> tuple[float, FloatArray]:
        """``(f(x), grad f(x))``, or ``(inf, 0)`` where either is not finite."""
        f, g, problem = self._evaluate(x, True, True)
        if problem is not None:
            return self._reject(x, problem), np.zeros(np.shape(x))
        assert g is not None
        return f, g

    def trial_value(self, x: FloatArray) -> float:
        """``f(x)``, or ``inf`` where it is not finite."""
        f, _, problem = self._evaluate(x, True, False)
        return f if problem is None else self._reject(x, problem)

    def trial_grad(self, x: FloatArray) -> FloatArray:
        """The gradient alone (for differences of gradients), NaN where not finite."""
        _, g, problem = self._evaluate(x, False, True)
        if problem is not None:
            self._reject(x, problem)
            return np.full(x.shape, np.nan)
        assert g is not None
        return g

    def rejected(self, x: FloatArray) -> str | None:
        """What was not finite at `x`, if `x` is a recent trial point that was rejected."""
        return self._rejected.get(np.asarray(x, dtype=np.float64).tobytes())

    def _reject(self, x: FloatArray, problem: str) -> float:
        self._rejected[np.asarray(x, dtype=np.float64).tobytes()] = problem
        while len(self._rejected) > _REMEMBERED:
            self._rejected.popitem(last=False)
        if self.trouble is None:
            self.trouble = problem
        self._in_a_row += 1
        if self._in_a_row > max(100, 2 * (self._size + 1)):
            raise Abort(
                Status.NON_FINITE,
                self._where(
                    f"{problem} and {self._in_a_row - 1} more values in a row at trial points"
                ),
            )
        return math.inf

    def could_not_recover(self) -> str:
        """The message for a solver that gave up after non-finite trial values."""
        it = self.iteration
        return (
            f"{self.trouble} at a trial point of iteration {it}, and the solver could not "
            "recover; returning the last finite iterate"
        )

    # --------------------------------------------------------------------- internals
    def _evaluate(
        self, x: FloatArray, want_f: bool, want_g: bool
    ) -> tuple[float, FloatArray | None, str | None]:
        """``(f or NaN, g or None, what was not finite or None)`` at `x`."""
        x = np.asarray(x, dtype=np.float64)
        self._check_point(x)
        self._size = x.size
        f: float | None = None
        g: Any = None
        try:
            if want_f and want_g:
                f, g = self._call(self.provider.value_and_grad, x)
            elif want_f:
                f = self._call(self.provider.value, x)
            else:
                g = self._call(self.provider.grad, x)
        except NonFiniteEvaluationError as exc:
            return math.nan, None, str(exc)
        if f is not None:
            f = float(f)
            if not math.isfinite(f):
                return f, None, f"f = {f}"
        if g is not None:
            g = np.asarray(g, dtype=np.float64).reshape(-1)
            if not np.isfinite(g).all():
                bad = int(np.flatnonzero(~np.isfinite(g))[0])
                return math.nan if f is None else f, None, f"gradient[{bad}] = {g[bad]}"
        self._in_a_row = 0
        self._note(x, f, g)
        return math.nan if f is None else f, g, None

    def _call(self, what: Callable[..., Any], *args: Any) -> Any:
        try:
            return what(*args)
        except NonFiniteEvaluationError:
            raise
        except BaseException as exc:  # the user's own error: let it through, unchanged
            self.escaped = exc
            raise

    def _note(self, x: FloatArray, f: float | None, g: FloatArray | None) -> None:
        if not self._keep:
            return
        key = x.tobytes()
        if f is not None and g is not None:
            self._remember(key, f, g)
            return
        known = self._recall(key)
        if f is None:  # a gradient alone: complete what is known at x
            if known is not None:
                self._remember(key, known[0], g)
        elif known is None:  # a value alone: keep a gradient known there
            self._remember(key, f, None)

    @property
    def has_hessp(self) -> bool:
        """Whether the provider offers Hessian-vector products."""
        return self._hessp is not None

    def recall(self, x: FloatArray) -> tuple[float, FloatArray | None] | None:
        """The remembered ``(f, g or None)`` at exactly `x` (finite), or None."""
        return self._recall(np.asarray(x, dtype=np.float64).tobytes())

    def _recall(self, key: bytes) -> tuple[float, FloatArray | None] | None:
        known = self._seen.get(key)
        if known is None and key == self._best[0]:
            return self._best[1], self._best[2]
        return known

    # ------------------------------------------------------------------ bookkeeping
    def counts(self) -> tuple[int, int, int]:
        """``(nfev, njev, nhev)`` made since this guard was created."""
        now = self._raw_counts()
        return (now[0] - self._start[0], now[1] - self._start[1], now[2] - self._start[2])

    def _raw_counts(self) -> tuple[int, int, int]:
        p: Any = self.provider
        return int(p.nfev), int(p.ngev), int(getattr(p, "nhev", 0))

    def _remember(self, key: bytes, f: float, g: FloatArray | None) -> None:
        self._seen[key] = (f, g)
        self._seen.move_to_end(key)
        if f < self._best[1] or key == self._best[0]:
            self._best = (key, f, g)
        while len(self._seen) > self._keep:
            self._seen.popitem(last=False)

    def _check_point(self, x: FloatArray) -> None:
        if not np.isfinite(x).all():
            raise Abort(Status.NON_FINITE, self._where("the solver proposed a non-finite x"))

    def _where(self, what: str) -> str:
        it = self.iteration
        place = "at the starting point (iteration 0)" if it == 0 else f"at iteration {it}"
        return f"{what} {place}; returning the last finite iterate"
