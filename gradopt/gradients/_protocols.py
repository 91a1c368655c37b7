"""The provider interface optimizers program against, and its optional capabilities.

:class:`GradientProvider` is structural: any object with these methods is a provider.
:class:`SupportsHessp`, :class:`SupportsJvp` and
:class:`~gradopt.gradients._jacobian.SupportsJacobian` are the optional capabilities;
:class:`~gradopt.gradients._base.BaseProvider` implements them all once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from gradopt._typing import ArrayLike, FloatArray

__all__ = ["GradientProvider", "SupportsHessp", "SupportsJvp", "hessp_of"]


@runtime_checkable
class GradientProvider(Protocol):
    """What an optimizer needs from a source of gradients.

    Implementations count calls of the user's function in ``nfev`` and gradients in
    ``ngev``; ``reset_counts`` sets both to zero.
    """

    @property
    def nfev(self) -> int:
        """Calls of the user's function so far (every call, as scipy counts)."""

    @property
    def ngev(self) -> int:
        """Gradients computed so far."""

    def value(self, x: ArrayLike) -> float:
        """``fun(x)`` as a float."""

    def grad(self, x: ArrayLike) -> FloatArray:
        """The gradient at `x`, a float64 array shaped like `x`."""

    def value_and_grad(self, x: ArrayLike) -> tuple[float, FloatArray]:
        """``(value(x), grad(x))``, sharing the work the two have in common."""

    def reset_counts(self) -> None:
        """Set the counters to zero."""


@runtime_checkable
class SupportsHessp(Protocol):
    """A provider that can multiply the Hessian at ``x`` by a vector ``v``."""

    @property
    def has_hessp(self) -> bool:
        """Whether :meth:`hessp` is available (a provider may offer it conditionally)."""

    def hessp(self, x: ArrayLike, v: ArrayLike) -> FloatArray:
        """The Hessian at `x` times the vector `v`, shaped like `x`."""


@runtime_checkable
class SupportsJvp(Protocol):
    """A provider that gives directional derivatives ``grad f(x) @ v`` (forward mode)."""

    @property
    def has_jvp(self) -> bool:
        """Whether :meth:`jvp` is available."""

    def jvp(self, x: ArrayLike, v: ArrayLike) -> tuple[float, float]:
        """``(f(x), grad f(x) @ v)``."""


def hessp_of(provider: object) -> Callable[[ArrayLike, ArrayLike], FloatArray] | None:
    """Return the provider's Hessian-vector product, or None when it has none."""
    if isinstance(provider, SupportsHessp) and provider.has_hessp:
        return provider.hessp
    return None
