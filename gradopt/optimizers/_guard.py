"""Safe evaluation of a provider during a run: finiteness checks, counts, the best point.

Optimizers never call the provider directly; they go through an :class:`EvaluationGuard`
which

- raises :class:`Abort` (an internal signal, caught by the optimizer's front) as soon as
  the function, its gradient or a Hessian-vector product is NaN or infinite, or the
  provider raises :class:`~gradopt.exceptions.NonFiniteEvaluationError`;
- remembers the last few finite evaluations, so the iterate a solver reports to its
  callback can be matched with its value and gradient without recomputing them;
- measures the provider's counters as differences around the run (the user's provider
  keeps its own totals).
"""

from __future__ import annotations

import math
from collections import OrderedDict
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
        self._hessp = hessp_of(provider)
        self._start = self._raw_counts()
        self._seen: OrderedDict[bytes, tuple[float, FloatArray | None]] = OrderedDict()
        # The lowest point so far too: a derivative-free method's iterate is its best
        # point, which may be older than the last few evaluations.
        self._best: tuple[bytes, float, FloatArray | None] = (b"", math.inf, None)

    # ------------------------------------------------------------------ evaluations
    def value_and_grad(self, x: FloatArray) -> tuple[float, FloatArray]:
        """``(f(x), grad f(x))``; raises :class:`Abort` if either is not finite."""
        self._check_point(x)
        try:
            f, g = self.provider.value_and_grad(x)
        except NonFiniteEvaluationError as exc:
            raise Abort(Status.NON_FINITE, self._where(str(exc))) from exc
        g = np.asarray(g, dtype=np.float64).reshape(-1)
        if not math.isfinite(f):
            raise Abort(Status.NON_FINITE, self._where(f"f = {f}"))
        if not np.isfinite(g).all():
            bad = int(np.flatnonzero(~np.isfinite(g))[0])
            raise Abort(Status.NON_FINITE, self._where(f"gradient[{bad}] = {g[bad]}"), f)
        self._remember(x, f, g)
        return f, g

    def grad(self, x: FloatArray) -> FloatArray:
        """The gradient alone (for differences of gradients); raises :class:`Abort` if it
        is not finite."""
        self._check_point(x)
        try:
            g = np.asarray(self.provider.grad(x), dtype=np.float64).reshape(-1)
        except NonFiniteEvaluationError as exc:
            raise Abort(Status.NON_FINITE, self._where(str(exc))) from exc
        if not np.isfinite(g).all():
            bad = int(np.flatnonzero(~np.isfinite(g))[0])
            raise Abort(Status.NON_FINITE, self._where(f"gradient[{bad}] = {g[bad]}"))
        known = self.recall(x)
        if known is not None:
            self._remember(x, known[0], g)
        return g

    def value(self, x: FloatArray) -> float:
        """``f(x)`` alone (for derivative-free methods); raises :class:`Abort` if not finite."""
        self._check_point(x)
        try:
            f = self.provider.value(x)
        except NonFiniteEvaluationError as exc:
            raise Abort(Status.NON_FINITE, self._where(str(exc))) from exc
        if not math.isfinite(f):
            raise Abort(Status.NON_FINITE, self._where(f"f = {f}"))
        if self.recall(x) is None:
            self._remember(x, f, None)
        return f

    def hessp(self, x: FloatArray, v: FloatArray) -> FloatArray:
        """Hessian at `x` times `v`; raises :class:`Abort` if not finite."""
        assert self._hessp is not None, "checked by the caller"
        self._check_point(x)
        hv = np.asarray(self._hessp(x, v), dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(hv)):
            raise Abort(Status.NON_FINITE, self._where("a Hessian-vector product is not finite"))
        return hv

    @property
    def has_hessp(self) -> bool:
        """Whether the provider offers Hessian-vector products."""
        return self._hessp is not None

    def recall(self, x: FloatArray) -> tuple[float, FloatArray | None] | None:
        """The remembered ``(f, g or None)`` at exactly `x`, or None."""
        key = np.asarray(x, dtype=np.float64).tobytes()
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

    def _remember(self, x: FloatArray, f: float, g: FloatArray | None) -> None:
        if not self._keep:
            return
        key = np.asarray(x, dtype=np.float64).tobytes()
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
