"""The options of :func:`~gradopt.least_squares`, checked, and its robust losses.

A frozen pydantic model: a misspelt option, a loss scipy does not know, a negative
``f_scale`` or a ``max_nfev`` of ``"100"`` is an :class:`~gradopt.exceptions.InvalidInputError`
naming it, before anything is evaluated (scipy would fail later, or not at all). Options
that steer scipy's own finite differences (``diff_step``, ``jac_sparsity``) are refused
with the provider's way to do the same.

The losses ``rho(z)`` of ``z = (r / f_scale)^2`` (scipy's five) give the cost
``0.5 f_scale^2 sum(rho(z))`` and its gradient, which the callback sees.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

from gradopt._options import count, parse_options, real
from gradopt._typing import FloatArray
from gradopt.exceptions import InvalidInputError

__all__ = ["LOSSES", "LeastSquaresOptions", "check_lsq_options", "cost_and_gradient"]

Loss = Literal["linear", "soft_l1", "huber", "cauchy", "arctan"]

#: Each loss as ``z -> (rho(z), rho'(z))``.
LOSSES: dict[str, Callable[[FloatArray], tuple[FloatArray, FloatArray]]] = {
    "linear": lambda z: (z, np.ones_like(z)),
    "soft_l1": lambda z: (2 * (np.sqrt(1 + z) - 1), 1 / np.sqrt(1 + z)),
    "huber": lambda z: (
        np.where(z <= 1, z, 2 * np.sqrt(np.maximum(z, 1)) - 1),
        np.where(z <= 1, 1.0, 1 / np.sqrt(np.maximum(z, 1))),
    ),
    "cauchy": lambda z: (np.log1p(z), 1 / (1 + z)),
    "arctan": lambda z: (np.arctan(z), 1 / (1 + z**2)),
}

_SCIPY_DIFFERENCING = {
    "diff_step": "FiniteDifference(fun, step=...) sets the step",
    "jac_sparsity": "FiniteDifference(fun, sparsity=...) groups the columns",
    "jac": "the Jacobian comes from the provider",
}

_Tolerance: Any = real(ge=0, allow_inf_nan=False)


def _scale(value: Any) -> Any:
    if value is None:  # scipy's default
        return None
    if isinstance(value, str):
        if value != "jac":
            raise ValueError(
                f"must be a positive number, an array of them, or 'jac'; not {value!r}"
            )
        return value
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf" or arr.ndim > 1 or arr.size == 0:
        raise ValueError("must be a positive number, a 1-D array of them, or 'jac'")
    if not (np.isfinite(arr).all() and (arr > 0).all()):
        raise ValueError(f"must be positive and finite; got {value!r}")
    return float(arr) if arr.ndim == 0 else tuple(arr.astype(float).tolist())


class LeastSquaresOptions(BaseModel):
    """Options of :func:`gradopt.least_squares`, as scipy's ``least_squares`` names them.

    Attributes
    ----------
    method : {"trf", "dogbox", "lm"}
        Trust-region reflective (bounds, sparse Jacobians), dogleg in a box, or MINPACK's
        Levenberg-Marquardt (no bounds, linear loss, at least as many residuals as
        variables).
    loss : {"linear", "soft_l1", "huber", "cauchy", "arctan"}
        ``rho`` in the cost ``0.5 f_scale^2 sum(rho((r_i / f_scale)^2))``.
    f_scale : float
        The residual size where robust losses start to discount.
    x_scale : float, array or "jac", optional
        Characteristic scale of each variable (None: scipy's default).
    max_nfev : int, optional
        Limit on calls of the residuals by the solver (Jacobians not counted, as scipy).
    ftol, xtol, gtol : float
        scipy's stopping tolerances (``>= 0``).
    tr_solver : {"exact", "lsmr"}, optional
        The trust-region subproblem solver (``"lsmr"`` for sparse Jacobians).
    tr_options : dict
        Options of the subproblem solver.
    verbose : {0, 1, 2}
        scipy's own report.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["trf", "dogbox", "lm"] = "trf"
    loss: Loss = "linear"
    f_scale: real(gt=0, allow_inf_nan=False) = 1.0  # type: ignore[valid-type]
    x_scale: Annotated[Any, AfterValidator(_scale)] = None
    max_nfev: count(ge=1) | None = None  # type: ignore[valid-type]
    ftol: _Tolerance = 1e-8
    xtol: _Tolerance = 1e-8
    gtol: _Tolerance = 1e-8
    tr_solver: Literal["exact", "lsmr"] | None = None
    tr_options: dict[str, Any] | None = None
    verbose: Literal[0, 1, 2] = 0

    @model_validator(mode="after")
    def _lm_limits(self) -> LeastSquaresOptions:
        if self.method == "lm" and self.loss != "linear":
            raise ValueError(f"method 'lm' supports only loss='linear'; got loss={self.loss!r}")
        if self.method == "lm" and self.tr_solver == "lsmr":
            raise ValueError("method 'lm' has no tr_solver; leave it None")
        return self

    def scipy_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``scipy.optimize.least_squares`` these stand for."""
        kwargs = self.model_dump()
        if kwargs["x_scale"] is None:
            del kwargs["x_scale"]
        if kwargs["tr_options"] is None:
            kwargs["tr_options"] = {}
        return kwargs


def check_lsq_options(given: Mapping[str, Any]) -> LeastSquaresOptions:
    """`given` (option name to value) as :class:`LeastSquaresOptions`, or an error."""
    moot = sorted(k for k in given if k in _SCIPY_DIFFERENCING)
    if moot:
        advice = "; ".join(_SCIPY_DIFFERENCING[k] for k in moot)
        raise InvalidInputError(
            f"least_squares: option(s) {', '.join(map(repr, moot))} steer scipy's own finite "
            f"differences, which gradopt does not use. Instead, {advice}."
        )
    return parse_options(LeastSquaresOptions, given, "least_squares")


def cost_and_gradient(
    r: FloatArray, jac: Any, loss: str, f_scale: float
) -> tuple[float, FloatArray]:
    """The cost ``0.5 f_scale^2 sum(rho(z))`` and its gradient ``J^T (rho'(z) r)``."""
    z = (r / f_scale) ** 2
    rho, slope = LOSSES[loss](z)
    grad = np.asarray(jac.T @ (slope * r), dtype=np.float64).reshape(-1)
    return 0.5 * f_scale**2 * float(np.sum(rho)), grad
