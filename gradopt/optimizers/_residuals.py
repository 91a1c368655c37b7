"""The provider as scipy's ``least_squares`` sees it during one run of
:func:`~gradopt.least_squares`.

- **Fixed variables** (bounds with ``low == high``) are removed, as scipy's ``minimize``
  removes them (its ``least_squares`` refuses such bounds): scipy sees the free ones only,
  the provider always gets the full point.
- **Non-finite residuals** at a trial point are what scipy's trust-region methods
  already handle (the step shrinks); for MINPACK's Levenberg-Marquardt they are replaced
  by huge finite residuals, which it rejects the same way. Either way they are
  remembered: a run that then stops there is reported as ``NON_FINITE``. At an accepted
  iterate (the start, and every point where scipy asks for the Jacobian, which it does
  only at accepted iterates), non-finite residuals or a non-finite Jacobian stop the run
  with the last finite iterate.
- **Iterates** are followed through the Jacobian calls: each one at a new point after the
  first is an iteration, reported to the callback and the progress bar.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError, NonFiniteEvaluationError
from gradopt.optimizers._guard import Abort
from gradopt.optimizers._lsq_options import LeastSquaresOptions, cost_and_gradient
from gradopt.optimizers._monitor import Monitor
from gradopt.optimizers._results import Status

__all__ = ["Residuals"]

_HUGE = 1e150  # a residual MINPACK rejects, whose square still fits a float


class Residuals:
    """`fun` and `jac` for scipy over the free variables of the full point `x0`."""

    def __init__(
        self,
        provider: Any,
        x0: FloatArray,
        free: np.ndarray[Any, np.dtype[np.bool_]],
        opts: LeastSquaresOptions,
        monitor: Monitor,
    ) -> None:
        self.provider, self.opts, self.monitor = provider, opts, monitor
        self.full = np.array(x0, dtype=np.float64)  # fixed variables keep their values
        self.free = free
        self.nit = -1  # Jacobians seen, minus the one at the start
        self.trouble: str | None = None  # non-finite residuals since the last iterate
        self.lately: str | None = None  # ... in the iteration that ended there
        self.escaped: BaseException | None = None  # the user's own exception, if any
        self.last: tuple[FloatArray, FloatArray, Any] | None = None  # x, r, J (full)
        self._start = (int(provider.nfev), int(provider.njev))

    def expand(self, z: FloatArray) -> FloatArray:
        """The full point for the free variables `z`."""
        x: FloatArray = self.full.copy()
        x[self.free] = z
        return x

    # ------------------------------------------------------------- what scipy calls
    def fun(self, z: FloatArray) -> FloatArray:
        """The residuals at a trial point (huge where not finite, for 'lm')."""
        r: FloatArray = self._call(self.provider.vector_value, self.expand(z))
        if np.isfinite(r).all():
            return r
        bad = int(np.flatnonzero(~np.isfinite(r))[0])
        self.trouble = self.trouble or f"residual[{bad}] = {r[bad]}"
        if self.opts.method == "lm":
            r = np.full(r.shape, _HUGE)
        return r

    def jac(self, z: FloatArray, *_: Any) -> Any:
        """The Jacobian at an accepted iterate (over the free variables).

        Asked again at the last iterate (scipy does so after MINPACK returns), the one
        already computed is returned: the provider's cache may hold a later trial point.
        """
        x = self.expand(z)
        if self.last is not None and np.array_equal(x, self.last[0]) and self.nit >= 0:
            return self._free_columns(self.last[2])
        r, jac = self.at_iterate(x)
        self.nit += 1
        self.lately, self.trouble = self.trouble, None
        if self.nit > 0:
            cost, grad = cost_and_gradient(r, jac, self.opts.loss, self.opts.f_scale)
            if self.monitor.step(self.nit, x, cost, grad):
                raise Abort(Status.CALLBACK_STOP, f"at iteration {self.nit}")
        return self._free_columns(jac)

    def _free_columns(self, jac: Any) -> Any:
        return jac if self.free.all() else jac[:, self.free]

    # ----------------------------------------------------------------- iterates
    def at_iterate(self, x: FloatArray) -> tuple[FloatArray, Any]:
        """Residuals and Jacobian at an accepted iterate (full), checked; remembered."""
        where = "at the starting point" if self.nit < 0 else f"at iteration {self.nit + 1}"
        try:
            r = self._call(self.provider.vector_value, x)
            if not np.isfinite(r).all():
                bad = int(np.flatnonzero(~np.isfinite(r))[0])
                raise Abort(Status.NON_FINITE, f"residual[{bad}] = {r[bad]} {where}")
            jac = self._call(self.provider.jacobian, x)
        except NonFiniteEvaluationError as exc:
            raise Abort(Status.NON_FINITE, f"{exc} ({where})") from exc
        data = jac.data if sp.issparse(jac) else jac
        if not np.isfinite(data).all():
            raise Abort(Status.NON_FINITE, f"the Jacobian is not finite {where}")
        if jac.shape != (r.size, x.size):
            raise InvalidInputError(
                f"the provider's Jacobian has shape {jac.shape}; expected {(r.size, x.size)} "
                "(residuals, variables)."
            )
        self.last = (x, r, jac)
        return r, jac

    def _call(self, what: Any, x: FloatArray) -> Any:
        try:
            return what(x)
        except NonFiniteEvaluationError:
            raise
        except BaseException as exc:  # the user's own error: let it through, unchanged
            self.escaped = exc
            raise

    def counts(self) -> tuple[int, int]:
        """``(nfev, njev)`` of the provider during this run."""
        return int(self.provider.nfev) - self._start[0], int(self.provider.njev) - self._start[1]
