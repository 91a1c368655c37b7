"""Parsing formulas for ``Symbolic`` (issue 13): gradopt's allow-list parser against
sympy's ``parse_expr`` (what ``Symbolic`` used before), and the time a refused string takes.

For sums of n squared terms (Rosenbrock-like text): best-of-3 time of
``gradopt.gradients._expression.parse`` and of ``sympy.parse_expr`` with sympy's namespace
(taking turns, sympy's expression cache cleared before each call), and their ratio.
Then the time gradopt takes to refuse strings that hang or run code in sympy's parser
(those are not given to sympy here).

Run: ``python benchmarks/bench_symbolic_parse.py``.
"""

from __future__ import annotations

import functools
import os
import timeit
from collections.abc import Callable

import sympy as sp
from sympy.core.cache import clear_cache
from sympy.parsing.sympy_parser import parse_expr, standard_transformations

from gradopt.exceptions import InvalidInputError
from gradopt.gradients._expression import parse


def _cold(fun: Callable[[], object]) -> float:
    """Time of one call, sympy's expression cache cleared first."""
    clear_cache()
    return min(timeit.repeat(fun, number=1, repeat=1))


def _sums(repeats: int = 3) -> None:
    print("| terms | gradopt parse (s) | sympy parse_expr (s) | sympy / gradopt |")
    print("|---:|---:|---:|---:|")
    namespace = {name: getattr(sp, name) for name in sp.__all__}
    for n in (10, 100, 500, 1000):  # sympy's parser grows quadratically: 145 s at 2000
        symbols = sp.symbols(f"x0:{n}", real=True)
        text = " + ".join(f"100*(x{i} - x{i - 1}**2)**2" for i in range(1, n))
        ours = functools.partial(parse, text, symbols)
        theirs = functools.partial(
            parse_expr,
            text,
            local_dict={s.name: s for s in symbols},
            global_dict=namespace,
            transformations=standard_transformations,
        )
        times = [(_cold(ours), _cold(theirs)) for _ in range(repeats)]  # taking turns
        best_ours, best_theirs = (min(column) for column in zip(*times, strict=True))
        print(f"| {n} | {best_ours:.4f} | {best_theirs:.4f} | {best_theirs / best_ours:.1f} |")


def _refusals() -> None:
    print("\n| refused string | gradopt (ms) | message |")
    print("|---|---:|---|")
    x = sp.Symbol("x", real=True)
    for text in (
        "x + 9**9**9**9",
        "factorial(10**7)",
        "x*sqrt(2)**(10**6)",
        "x*3**4000",
        "sympify('_' + '_import_' + '_(\"os\")')",
        "sin(" * 200 + "x" + ")" * 200,
    ):

        def refuse(text: str = text) -> str:
            try:
                parse(text, [x])
            except InvalidInputError as exc:
                return str(exc)
            raise AssertionError(f"{text!r} was accepted")

        elapsed = min(timeit.repeat(refuse, number=1, repeat=3))
        message = refuse().split(": ", 1)[1][:70]
        shown = text if len(text) <= 40 else text[:37] + "..."
        print(f"| `{shown}` | {1e3 * elapsed:.3f} | {message} |")


if __name__ == "__main__":
    print(f"load average: {os.getloadavg()[0]:.2f}\n")
    _sums()
    _refusals()
