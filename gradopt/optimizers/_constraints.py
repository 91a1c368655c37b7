"""Constraints for :func:`~gradopt.minimize`: gradopt's :class:`Constraint` and scipy's.

``constraints=`` takes :class:`Constraint` (``lb <= fun(x) <= ub`` with the Jacobian from
a gradopt provider: finite differences, automatic differentiation, a hand-written one),
scipy's ``NonlinearConstraint`` and ``LinearConstraint``, and scipy's dicts
(``{"type": "eq" | "ineq", "fun": ..., "jac": ...}``), one or a sequence. They are
checked before the run (bounds that no point can satisfy, a dict without a function) and
handed to the methods that take them: SLSQP, trust-constr, COBYLA and COBYQA.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import LinearConstraint, NonlinearConstraint

from gradopt._typing import ArrayLike, FloatArray
from gradopt.exceptions import InvalidInputError, MissingCapabilityError
from gradopt.gradients import SupportsJacobian

__all__ = ["Constraint", "as_scipy", "check_constraints", "has_jacobian"]

#: The methods of scipy.optimize.minimize that take constraints.
CONSTRAINED = ("SLSQP", "trust-constr", "COBYLA", "COBYQA")


class Constraint:
    """The constraint ``lb <= fun(x) <= ub`` on the function behind a gradopt provider.

    Parameters
    ----------
    provider : provider with ``vector_value`` and ``jacobian``
        The constraint function and where its Jacobian comes from
        (:class:`~gradopt.FiniteDifference`, :class:`~gradopt.Autograd`,
        :class:`~gradopt.Analytic`, ...). A scalar function is one output.
    lb, ub : float or array_like, default -inf and inf
        Bounds on each output (broadcast to the outputs); ``lb == ub`` makes an equality.
        NaN, ``lb > ub`` and no finite bound at all are errors.

    Examples
    --------
    >>> import numpy as np
    >>> from gradopt import Constraint, FiniteDifference, minimize
    >>> circle = Constraint(FiniteDifference(lambda x: x @ x), ub=1.0)  # inside the unit disk
    >>> res = minimize(FiniteDifference(lambda x: -x[0] - x[1]), [0.1, 0.2],
    ...                method="SLSQP", constraints=circle)
    >>> np.round(res.x, 4)
    array([0.7071, 0.7071])
    """

    def __init__(self, provider: Any, lb: ArrayLike = -np.inf, ub: ArrayLike = np.inf) -> None:
        if not has_jacobian(provider):
            raise MissingCapabilityError(
                f"Constraint needs a provider with vector_value() and jacobian() (e.g. "
                f"FiniteDifference, Autograd, Analytic); got {type(provider).__name__}."
            )
        self.provider = provider
        self.lb, self.ub = _check_bounds("Constraint", lb, ub)
        if not (np.isfinite(self.lb).any() or np.isfinite(self.ub).any()):
            raise InvalidInputError(
                "Constraint has no finite bound (lb = -inf and ub = inf): it constrains "
                "nothing; give lb, ub or both."
            )

    def as_scipy(self, dense: bool = False) -> list[NonlinearConstraint]:
        """scipy's ``NonlinearConstraint`` for this constraint: one for its equalities
        and one for its inequalities when it has both (SLSQP wants them apart); `dense`:
        Jacobians as dense arrays (SLSQP cannot take sparse ones). The provider's cache
        makes the two cost one evaluation per point."""
        provider = self.provider
        lb, ub = np.atleast_1d(self.lb), np.atleast_1d(self.ub)
        equal = lb == ub
        if self.lb.ndim == 0 or equal.all() or not equal.any():
            return [
                NonlinearConstraint(provider.vector_value, self.lb, self.ub, jac=self._jac(dense))
            ]
        whole = self._jac(dense)
        out = []
        for rows in (np.flatnonzero(equal), np.flatnonzero(~equal)):

            def fun(x: FloatArray, rows: Any = rows) -> Any:
                return provider.vector_value(x)[rows]

            def jac(x: FloatArray, rows: Any = rows) -> Any:
                return whole(x)[rows]

            out.append(NonlinearConstraint(fun, lb[rows], ub[rows], jac=jac))
        return out

    def _jac(self, dense: bool) -> Callable[[FloatArray], Any]:
        if not dense:
            whole: Callable[[FloatArray], Any] = self.provider.jacobian
            return whole

        def jac(x: FloatArray) -> Any:
            j = self.provider.jacobian(x)
            return j.toarray() if sp.issparse(j) else j

        return jac

    def __repr__(self) -> str:
        return f"Constraint({self.provider!r}, lb={self.lb}, ub={self.ub})"


def has_jacobian(provider: Any) -> bool:
    """Whether `provider` gives outputs and a Jacobian (a gradopt provider that can)."""
    return isinstance(provider, SupportsJacobian) and provider.has_jacobian


def check_constraints(constraints: Any) -> tuple[Any, ...]:
    """`constraints` (one or a sequence) as a tuple, each checked."""
    if constraints is None:
        return ()
    if isinstance(constraints, Constraint | NonlinearConstraint | LinearConstraint | dict):
        constraints = [constraints]
    if not isinstance(constraints, Sequence) or isinstance(constraints, str | bytes):
        raise InvalidInputError(
            "constraints must be a Constraint, a scipy NonlinearConstraint or "
            "LinearConstraint, a dict, or a sequence of them; got "
            f"{type(constraints).__name__}."
        )
    return tuple(_check_one(c, i) for i, c in enumerate(constraints))


def as_scipy(constraints: tuple[Any, ...], dense: bool) -> list[Any]:
    """What scipy gets for the checked constraints."""
    out: list[Any] = []
    for c in constraints:
        out.extend(c.as_scipy(dense) if isinstance(c, Constraint) else [c])
    return out


def _check_one(c: Any, i: int) -> Any:
    where = f"constraints[{i}]"
    if isinstance(c, Constraint):
        return c
    if isinstance(c, NonlinearConstraint | LinearConstraint):
        _check_bounds(f"{where} ({type(c).__name__})", c.lb, c.ub)
        return c
    if isinstance(c, dict):
        kind = c.get("type")
        if kind not in ("eq", "ineq"):
            raise InvalidInputError(f"{where}['type'] must be 'eq' or 'ineq'; got {kind!r}.")
        if not callable(c.get("fun")):
            raise InvalidInputError(f"{where}['fun'] must be callable; got {c.get('fun')!r}.")
        if c.get("jac") is not None and not callable(c["jac"]):
            raise InvalidInputError(f"{where}['jac'] must be callable or absent.")
        unknown = sorted(set(c) - {"type", "fun", "jac", "args"})
        if unknown:
            raise InvalidInputError(
                f"{where} has unknown key(s) {', '.join(map(repr, unknown))}; a constraint "
                "dict takes 'type', 'fun', 'jac' and 'args'."
            )
        return c
    raise InvalidInputError(
        f"{where} must be a Constraint, a scipy NonlinearConstraint or LinearConstraint, "
        f"or a dict; got {type(c).__name__}."
    )


def _check_bounds(what: str, lb: Any, ub: Any) -> tuple[FloatArray, FloatArray]:
    try:
        lo = np.asarray(lb, dtype=np.float64)
        hi = np.asarray(ub, dtype=np.float64)
        lo, hi = np.broadcast_arrays(lo, hi)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{what}: lb and ub must be numbers or arrays of one shape; got {lb!r} and "
            f"{ub!r} ({exc})."
        ) from None
    if lo.ndim > 1:
        raise InvalidInputError(f"{what}: lb and ub must be scalars or 1-D; got {lo.shape}.")
    if np.isnan(lo).any() or np.isnan(hi).any():
        raise InvalidInputError(f"{what}: lb and ub must not be NaN (use -inf or inf).")
    bad = np.flatnonzero(np.atleast_1d(lo > hi))
    if bad.size:
        j = int(bad[0])
        a, b = np.atleast_1d(lo)[j], np.atleast_1d(hi)[j]
        raise InvalidInputError(
            f"{what}: inconsistent bounds, lb > ub at output {j} ({a} > {b}): no point "
            "can satisfy it."
        )
    return lo.copy(), hi.copy()
