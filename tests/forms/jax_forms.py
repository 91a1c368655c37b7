"""The problems of :mod:`tests.problems` for JAX: each written with jax.numpy.

Under ``jax.jit`` a Python ``if`` cannot look at a traced value: the one problem that
branches in Python (``branch``) is written here with ``jnp.where`` instead, which gives
the same function (both branches are smooth everywhere they are selected).

>>> import numpy as np
>>> from tests.problems import problem
>>> float(form(problem("branch-outer"))(np.array([2.5, 0.0])))
6.25
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from gradopt import Jax
from tests import problems
from tests.problems import Problem

__all__ = ["form", "provider"]


def _branch(x: Any) -> Any:
    return jnp.where(jnp.abs(x[0]) > 2, jnp.sum(x**2), jnp.sum(jnp.sin(x)))


# generic function -> its JAX form, where the generic one cannot be traced under jit
OVERRIDES: dict[Callable[..., Any], Callable[[Any], Any]] = {problems.branch: _branch}


def form(problem: Problem) -> Callable[[Any], Any]:
    """The problem's function written with jax.numpy (traceable under jax.jit)."""
    return OVERRIDES.get(problem.generic) or problem.form(jnp)


def provider(problem: Problem) -> Jax:
    """A Jax provider (jit-compiled) for `problem`."""
    return Jax(form(problem))
