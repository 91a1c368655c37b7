"""Per-iteration reporting: the user's callback and the optional tqdm progress bar.

Callbacks follow scipy's convention: a callable whose only parameter is named
``intermediate_result`` receives an ``OptimizeResult`` (``x``, ``fun``, ``jac``, ``nit``);
any other callable receives a copy of ``x``. It stops the run by raising
``StopIteration`` or returning ``True``.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError

__all__ = ["LAST_ITERATE", "Monitor", "interruptible"]

Callback = Callable[..., Any]

#: Where :func:`gradopt.minimize` asks every :class:`Monitor` of its run to keep the last
#: iterate (a one-item list), so that an interrupted run can still hand it back.
LAST_ITERATE: ContextVar[list[OptimizeResult] | None] = ContextVar("LAST_ITERATE", default=None)


def _wants_result(callback: Callback) -> bool:
    try:
        params = inspect.signature(callback).parameters
    except (TypeError, ValueError):  # builtins without a signature get x
        return False
    return set(params) == {"intermediate_result"}


class Monitor:
    """Calls the callback and updates the progress bar once per iteration.

    Parameters
    ----------
    callback : callable or None
        The user's callback (see the module docstring).
    progress : bool
        Show a tqdm bar on stderr with the iteration, f and ||g||.
    total : int or None
        The iteration limit, if known, for the bar.
    """

    def __init__(self, callback: Callback | None, progress: bool, total: int | None) -> None:
        if callback is not None and not callable(callback):
            raise InvalidInputError(
                f"callback must be callable or None; got {type(callback).__name__}."
            )
        if not isinstance(progress, bool | np.bool_):
            raise InvalidInputError(f"progress must be True or False; got {progress!r}.")
        self._callback = callback
        self._wants_result = callback is not None and _wants_result(callback)
        self._bar: Any = None
        if progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc="gradopt", unit="it", leave=True)

    def step(self, nit: int, x: FloatArray, fun: float, jac: FloatArray | None) -> bool:
        """Report iteration `nit`; return True when the callback asks to stop."""
        last = LAST_ITERATE.get()
        if last is not None:
            jac_copy = None if jac is None else jac.copy()
            last[:] = [OptimizeResult(x=x.copy(), fun=fun, jac=jac_copy, nit=nit)]
        if self._bar is not None:
            gnorm = float(np.linalg.norm(jac)) if jac is not None else float("nan")
            self._bar.set_postfix(f=f"{fun:.6g}", gnorm=f"{gnorm:.3g}", refresh=False)
            self._bar.update(1)
        if self._callback is None:
            return False
        try:
            if self._wants_result:
                result = OptimizeResult(
                    x=x.copy(), fun=fun, jac=None if jac is None else jac.copy(), nit=nit
                )
                answer = self._callback(intermediate_result=result)
            else:
                answer = self._callback(x.copy())
        except StopIteration:
            return True
        return answer is True or answer is np.True_

    def close(self) -> None:
        """Close the progress bar, if any."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@contextmanager
def interruptible(provider: Any, what: str) -> Iterator[None]:
    """A run that Ctrl-C can stop cleanly: the provider's worker processes are stopped
    and the ``KeyboardInterrupt`` carries the last iterate that any :class:`Monitor` of
    the run saw, as ``exc.intermediate_result`` (None before the first one)."""
    last: list[OptimizeResult] = []
    token = LAST_ITERATE.set(last)
    try:
        yield
    except KeyboardInterrupt as exc:
        close = getattr(provider, "close", None)  # FiniteDifference(workers=N)
        if callable(close):
            close()
        result = last[0] if last else None
        exc.intermediate_result = result  # type: ignore[attr-defined]
        if sys.version_info >= (3, 11):
            exc.add_note(
                f"{what} was interrupted before its first iteration ended"
                if result is None
                else f"{what} was interrupted after iteration {result.nit}; the last "
                "iterate is in this exception's intermediate_result"
            )
        raise
    finally:
        LAST_ITERATE.reset(token)
