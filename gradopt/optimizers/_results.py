"""Why an optimizer stopped, and the one helper that builds its ``OptimizeResult``.

Every optimizer in gradopt reports through :func:`make_result`, so results look the same
whichever method produced them: ``x, fun, jac, nit, nfev, njev, nhev, success, status,
message`` (scipy's names), with ``status`` a :class:`Status` member (an ``int``)
and ``message`` that member's text plus any detail (e.g. the iteration at which a NaN
appeared).
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from gradopt._typing import FloatArray

__all__ = ["Status", "make_result"]


class Status(enum.IntEnum):
    """Why a run stopped. Each member carries its message and whether it is a success.

    An ``IntEnum``: ``res.status`` is the member itself, which compares equal
    to its code, so both ``res.status == Status.MAX_ITER`` and ``res.status == 1`` hold.

    Examples
    --------
    >>> Status.NON_FINITE.message
    'the function or its gradient returned NaN or infinity'
    >>> Status.SUCCESS.success, Status.MAX_ITER == 1
    (True, True)
    """

    SUCCESS = (0, True, "optimization terminated successfully")
    MAX_ITER = (1, False, "the iteration (or evaluation) limit was reached")
    NON_FINITE = (2, False, "the function or its gradient returned NaN or infinity")
    CALLBACK_STOP = (3, False, "the callback asked to stop")
    LINE_SEARCH_FAILED = (4, False, "the line search found no step that decreases f enough")
    SOLVER_FAILED = (5, False, "the scipy solver reported a failure")
    NOT_STATIONARY = (
        6,
        False,
        "the solver reported success, but the point it returned is not a minimum",
    )

    def __new__(cls, code: int, success: bool, message: str) -> Status:
        member = int.__new__(cls, code)
        member._value_ = code
        member.success = success
        member.message = message
        return member

    success: bool
    message: str


def make_result(
    status: Status,
    x: FloatArray,
    fun: float,
    jac: FloatArray | None,
    nit: int,
    counts: tuple[int, int, int],
    detail: str = "",
    **extra: Any,
) -> OptimizeResult:
    """Build the ``OptimizeResult`` every gradopt optimizer returns.

    Parameters
    ----------
    status : Status
        Why the run stopped; gives ``status``, ``success`` and the start of ``message``.
    x, fun, jac : array, float, array or None
        The returned iterate, f there and the gradient there (None if unknown).
    nit : int
        Iterations completed.
    counts : (int, int, int)
        ``(nfev, njev, nhev)``: calls of the user's function, gradients, Hessian-vector
        products made during the run.
    detail : str, optional
        Appended to the status message after a colon.
    **extra
        Further fields (e.g. ``history``).

    Examples
    --------
    >>> import numpy as np
    >>> r = make_result(Status.MAX_ITER, np.zeros(2), 1.5, None, 10, (11, 11, 0), "max_iter=10")
    >>> r.success, r.status == Status.MAX_ITER == 1, r.message
    (False, True, 'the iteration (or evaluation) limit was reached: max_iter=10')
    """
    nfev, njev, nhev = counts
    message = status.message + (f": {detail}" if detail else "")
    return OptimizeResult(
        x=np.asarray(x, dtype=np.float64),
        fun=float(fun),
        jac=None if jac is None else np.asarray(jac, dtype=np.float64),
        nit=int(nit),
        nfev=int(nfev),
        njev=int(njev),
        nhev=int(nhev),
        success=status.success,
        status=status,
        message=message,
        **extra,
    )
