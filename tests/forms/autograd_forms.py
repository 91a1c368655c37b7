"""The problems of :mod:`tests.problems` for autograd: each written with autograd.numpy.

Every problem runs as written (autograd traces Python loops and branches).

>>> import numpy as np
>>> from tests.problems import problem
>>> float(form(problem("exp-sin"))(np.zeros(4)))
0.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import autograd.numpy as anp

from gradopt import Autograd
from tests.problems import Problem

__all__ = ["form", "provider"]


def form(problem: Problem) -> Callable[[Any], Any]:
    """The problem's function written with autograd.numpy."""
    return problem.form(anp)


def provider(problem: Problem) -> Autograd:
    """An Autograd provider for `problem`."""
    return Autograd(form(problem))
