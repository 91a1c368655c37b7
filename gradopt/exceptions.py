"""Errors raised by gradopt.

Every error gradopt raises on its own account derives from :class:`GradoptError` and from
the built-in exception a caller would naturally catch, so ``except ValueError`` keeps
working::

    GradoptError
    ├── InvalidInputError        (ValueError)  bad x, bad option, bad shape
    │   └── ObjectiveError       (ValueError)  the user's function or gradient returned
    │                                          something unusable (non-scalar, wrong shape)
    ├── ComplexStepError         (TypeError)   f does not carry complex numbers through
    ├── TraceError               (TypeError)   an automatic-differentiation backend cannot
    │   │                                      trace f (says what to change in f)
    │   ├── AutogradTraceError                 ... autograd (e.g. in-place writes)
    │   └── JaxTraceError                      ... JAX (e.g. a Python ``if`` on a traced value)
    ├── MissingCapabilityError   (TypeError)   a method needs e.g. ``hessp`` the provider lacks
    ├── EvaluationError          (RuntimeError) an evaluation of f failed during a finite
    │   │                                      difference (names the coordinate and point)
    │   ├── NonFiniteEvaluationError           ... because f returned NaN or infinity;
    │   │                                      optimizers report it as success=False
    │   └── EvaluationTimeoutError (TimeoutError) ... because an evaluation on a worker
    │                                          ran past ``FiniteDifference(timeout=...)``
    └── BackendUnavailableError  (ImportError) an optional dependency is not installed

Exceptions raised by the user's own function are never wrapped unless gradopt can add
information (then the original is chained as ``__cause__`` and keeps its type as a base).
"""

from __future__ import annotations

__all__ = [
    "AutogradTraceError",
    "BackendUnavailableError",
    "ComplexStepError",
    "EvaluationError",
    "EvaluationTimeoutError",
    "GradoptError",
    "InvalidInputError",
    "JaxTraceError",
    "MissingCapabilityError",
    "NonFiniteEvaluationError",
    "ObjectiveError",
    "TraceError",
]


class GradoptError(Exception):
    """Base class of every error gradopt raises on its own account."""


class InvalidInputError(GradoptError, ValueError):
    """An argument has the wrong value, type or shape."""


class ObjectiveError(InvalidInputError):
    """The user's function (or hand-written gradient) returned something unusable."""


class ComplexStepError(GradoptError, TypeError):
    """The complex-step method was used on a function that drops imaginary parts."""


class TraceError(GradoptError, TypeError):
    """An automatic-differentiation backend could not trace the user's function."""


class AutogradTraceError(TraceError):
    """autograd could not trace the user's function."""


class JaxTraceError(TraceError):
    """JAX could not trace the user's function (under ``jax.jit`` or at all)."""


class MissingCapabilityError(GradoptError, TypeError):
    """A method needs derivative information that the provider does not offer."""


class EvaluationError(GradoptError, RuntimeError):
    """An evaluation of the user's function failed inside a finite difference."""


class NonFiniteEvaluationError(EvaluationError):
    """The user's function returned NaN or infinity where a finite value was needed."""


class EvaluationTimeoutError(EvaluationError, TimeoutError):
    """An evaluation of the user's function on a worker ran past its time limit.

    Raised by :class:`~gradopt.FiniteDifference` with ``timeout=`` set; the message names
    the coordinate and the point. A process pool that gradopt owns (``workers=N``) has
    been stopped by then, hung worker included, and the next evaluation starts a new one.
    """


class BackendUnavailableError(GradoptError, ImportError):
    """An optional dependency needed for this feature is not installed."""
