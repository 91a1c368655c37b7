"""Every provider the shared tests run on: one registry, one forms module per backend.

``PROVIDERS`` maps a name to a function building a fresh provider for a
:class:`~tests.problems.Problem`. Black-box providers (finite differences, hand-written
gradients) take the problem's numpy form; an automatic or symbolic backend takes its
own form from its forms module (``autograd_forms``, ``jax_forms``, ``sympy_forms``).
A new backend joins the contract suite, the thread test and the other shared tests with
one line here and one forms module.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from gradopt import Analytic, FiniteDifference, GradientProvider
from tests.forms import autograd_forms, sympy_forms
from tests.problems import Problem

__all__ = ["PROVIDERS", "provider_factories"]

PROVIDERS: dict[str, Callable[[Problem], GradientProvider]] = {
    "analytic": lambda p: (
        Analytic(p.fun, jacobian=p.grad) if p.vector else Analytic(p.fun, p.grad, p.hessp)
    ),
    # (copies: one problem's f writes into its argument, which grad then must not see)
    "analytic-fused": lambda p: (
        Analytic(p.fun, jacobian=lambda x: p.grad(x.copy()))
        if p.vector
        else Analytic(
            p.fun, value_and_grad=lambda x: (p.fun(x.copy()), p.grad(x.copy())), hessp=p.hessp
        )
    ),
    "forward": lambda p: FiniteDifference(p.fun, method="forward"),
    "backward": lambda p: FiniteDifference(p.fun, method="backward"),
    "central": lambda p: FiniteDifference(p.fun, method="central"),
    "complex": lambda p: FiniteDifference(p.fun, method="complex"),
    "richardson": lambda p: FiniteDifference(p.fun, method="richardson"),
    "autograd": autograd_forms.provider,
    "symbolic": sympy_forms.provider,
}

if importlib.util.find_spec("jax") is not None:  # the `jax` extra (part of `test`)
    from tests.forms import jax_forms

    PROVIDERS["jax"] = jax_forms.provider


def provider_factories(problem: Problem) -> dict[str, Callable[[], GradientProvider]]:
    """For each registered provider, a function making a fresh one for `problem`."""
    return {name: (lambda make=make: make(problem)) for name, make in PROVIDERS.items()}
