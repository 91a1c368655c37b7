"""The options of :class:`~gradopt.gradients.finite_difference.FiniteDifference`, validated.

A frozen pydantic model: every option is checked when the provider is made, and a bad
one is an :class:`~gradopt.exceptions.InvalidInputError` naming it. The options also
choose the evaluator (serial, vectorized, an executor, or a pool gradopt owns).
"""

from __future__ import annotations

import math
import operator
from concurrent.futures import Executor
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, StrictBool, field_validator, model_validator

from gradopt.gradients._bounds import Box, parse_bounds
from gradopt.gradients._evaluators import (
    Evaluator,
    ExecutorEvaluator,
    SerialEvaluator,
    VectorizedEvaluator,
    unpicklable_executor,
)
from gradopt.gradients._groups import Sparsity, parse_sparsity
from gradopt.gradients._pool import PoolEvaluator

__all__ = ["FiniteDifferenceOptions", "Method"]

Method = Literal["forward", "backward", "central", "complex", "richardson"]


class FiniteDifferenceOptions(BaseModel):
    """Validated options of :class:`FiniteDifference`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    method: Method = "central"
    step: float | tuple[float, ...] | None = None

    @field_validator("step", mode="before")
    @classmethod
    def _positive_step(cls, step: Any) -> Any:
        if step is None:
            return None
        if np.asarray(step).dtype.kind not in "iuf":  # no "0.1", no True
            raise ValueError(f"step must be a number or a sequence of numbers; got {step!r}")
        arr = np.asarray(step, dtype=np.float64)
        if arr.ndim > 1 or arr.size == 0:
            raise ValueError(f"step must be a scalar or a 1-D sequence; got shape {arr.shape}")
        if not np.all(np.isfinite(arr) & (arr > 0)):
            raise ValueError(f"step must be positive and finite; got {step!r}")
        return float(arr) if arr.ndim == 0 else tuple(arr.tolist())

    executor: Executor | None = None
    workers: int | None = None
    timeout: float | None = None
    vectorized: StrictBool = False
    bounds: Box | None = None
    sparsity: Sparsity | None = None

    @field_validator("timeout", mode="before")
    @classmethod
    def _positive_timeout(cls, timeout: Any) -> Any:
        if timeout is None:
            return None
        if isinstance(timeout, bool) or not isinstance(timeout, int | float | np.number):
            raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
        if not (math.isfinite(timeout) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
        return float(timeout)

    @field_validator("workers", mode="before")
    @classmethod
    def _positive_workers(cls, workers: Any) -> Any:
        if workers is None:
            return None
        try:
            if isinstance(workers, bool):
                raise TypeError
            n = operator.index(workers)
        except TypeError:
            raise ValueError(f"workers must be a positive integer; got {workers!r}") from None
        if n < 1:
            raise ValueError(f"workers must be a positive integer; got {workers!r}")
        return n

    @field_validator("executor", mode="before")
    @classmethod
    def _an_executor(cls, executor: Any) -> Any:
        if executor is not None and not isinstance(executor, Executor):
            raise ValueError(
                "executor must be a concurrent.futures.Executor (a ThreadPoolExecutor, "
                "ProcessPoolExecutor or distributed.Client(...).get_executor()); got "
                f"{type(executor).__name__}"
            )
        return executor

    @field_validator("bounds", mode="before")
    @classmethod
    def _valid_bounds(cls, bounds: Any) -> Any:
        return parse_bounds(bounds)

    @field_validator("sparsity", mode="before")
    @classmethod
    def _valid_sparsity(cls, sparsity: Any) -> Any:
        return parse_sparsity(sparsity)

    @model_validator(mode="after")
    def _one_way_to_parallelize(self) -> FiniteDifferenceOptions:
        if self.executor is not None and self.workers is not None:
            raise ValueError(
                "give either executor or workers, not both (workers=N is a shortcut for a "
                "process pool of N workers that gradopt owns)"
            )
        if self.timeout is not None and self.executor is None and self.workers is None:
            raise ValueError(
                "timeout needs workers=N or executor=...: an evaluation running in this "
                "process cannot be stopped from outside it (workers=1 runs f in one worker "
                "process, which can)"
            )
        return self

    def __getstate__(self) -> dict[Any, Any]:
        if self.executor is not None:
            raise TypeError(unpicklable_executor(self.executor))
        return super().__getstate__()

    def make_evaluator(self) -> Evaluator:
        """The evaluator these options ask for."""
        if self.workers is not None:
            return PoolEvaluator(self.workers, self.vectorized, self.timeout)
        if self.executor is not None:
            return ExecutorEvaluator(self.executor, self.vectorized, self.timeout)
        return VectorizedEvaluator() if self.vectorized else SerialEvaluator()
