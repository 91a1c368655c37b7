"""Validated options of gradopt's own optimizers (frozen pydantic models).

A misspelt or out-of-range option is an :class:`~gradopt.exceptions.InvalidInputError`
naming it, never a warning that drops it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gradopt._options import Count, Flag, Real

__all__ = ["GradientDescentOptions"]


class GradientDescentOptions(BaseModel):
    """Options of :func:`gradopt.optimizers.gradient_descent`.

    Attributes
    ----------
    learning_rate : float, default 1.0
        The step: fixed with ``line_search="none"``; with Armijo the first trial step of
        the first iteration (later ones start from `initial_step`).
    line_search : {"armijo", "none"}, default "armijo"
        Backtracking until ``f(x + t d) <= f(x) + armijo_c1 * t * g·d``, or a fixed step.
    initial_step : {"bb", "previous", "constant"}, default "bb"
        Armijo's first trial step at each iteration: the Barzilai-Borwein step
        ``s·s / s·y`` from the last move (falling back to the previous accepted step when
        ``s·y <= 0``), the previous accepted step times `step_growth`, or always
        `learning_rate`.
    momentum : float in [0, 1), default 0.0
        Heavy-ball coefficient ``beta``: the direction is ``-(g + beta * v)`` with the
        velocity ``v <- beta * v + g`` (as in PyTorch's SGD); 0 gives plain descent.
    nesterov : bool, default False
        Nesterov's look-ahead form ``-(g + beta * v)``; needs ``momentum > 0``.
    gtol : float > 0, default 1e-5
        Stop when the Euclidean norm of the gradient is at most `gtol`.
    ftol : float >= 0 or None, default None
        Also stop when ``|f_k - f_{k+1}| <= ftol * max(1, |f_k|, |f_{k+1}|)``.
    max_iter : int >= 0, default 10_000
        Iteration limit (always finite).
    history : bool, default False
        Record f and ||g|| at every iterate in ``result.history``.
    armijo_c1 : float in (0, 1), default 1e-4
        Sufficient-decrease constant.
    step_shrink : float in (0, 1), default 0.5
        Backtracking factor.
    step_growth : float >= 1, default 2.0
        With ``initial_step="previous"``, how much the last accepted step is enlarged.
    max_backtracks : int >= 1, default 60
        Backtracking steps before the line search is declared failed.

    Examples
    --------
    >>> GradientDescentOptions(learning_rate=1e-3, line_search="none").max_iter
    10000
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    learning_rate: Real = Field(1.0, gt=0, allow_inf_nan=False)
    line_search: Literal["armijo", "none"] = "armijo"
    initial_step: Literal["bb", "previous", "constant"] = "bb"
    momentum: Real = Field(0.0, ge=0, lt=1)
    nesterov: Flag = False
    gtol: Real = Field(1e-5, gt=0, allow_inf_nan=False)
    ftol: Real | None = Field(None, ge=0, allow_inf_nan=False)
    max_iter: Count = Field(10_000, ge=0)
    history: Flag = False
    armijo_c1: Real = Field(1e-4, gt=0, lt=1)
    step_shrink: Real = Field(0.5, gt=0, lt=1)
    step_growth: Real = Field(2.0, ge=1, allow_inf_nan=False)
    max_backtracks: Count = Field(60, ge=1)

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self) -> GradientDescentOptions:
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        return self

    @model_validator(mode="after")
    def _line_search_options_need_a_line_search(self) -> GradientDescentOptions:
        # Accepting them and doing nothing would be a silently ignored option.
        unused = sorted(self.model_fields_set & _LINE_SEARCH_OPTIONS)
        if self.line_search == "none" and unused:
            raise ValueError(
                f"{', '.join(unused)}: used only with line_search='armijo', not with 'none'"
            )
        return self


_LINE_SEARCH_OPTIONS = frozenset(
    {"initial_step", "armijo_c1", "step_shrink", "step_growth", "max_backtracks"}
)
