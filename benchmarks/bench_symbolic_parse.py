"""Parsing formulas for ``Symbolic`` (issue 13): gradopt's allow-list parser against
sympy's ``parse_expr`` (what ``Symbolic`` used before), and the time a refused string takes.

For sums of n squared terms (Rosenbrock-like text): best-of-3 time of
``gradopt.gradients._expression.parse`` and of ``sympy.parse_expr`` with sympy's namespace,
and their ratio. Then the time gradopt takes to refuse strings that hang or run code in
sympy's parser (those are not given to sympy here).

Run: ``python benchmarks/bench_symbolic_parse.py``.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable

import sympy as sp
from sympy.parsing.sympy_parser import parse_expr, standard_transformations

from gradopt.exceptions import InvalidInputError
from gradopt.gradients._expression import parse


def _best_of(runs: int, fun: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fun()
        times.append(time.perf_counter() - start)
    return min(times)


def _sums() -> None:
    print("| terms | gradopt parse (s) | sympy parse_expr (s) | sympy / gradopt |")
    print("|---:|---:|---:|---:|")
    namespace = {name: getattr(sp, name) for name in sp.__all__}
    for n in (10, 100, 500, 1000):  # sympy's parser grows quadratically: 145 s at 2000
        symbols = sp.symbols(f"x0:{n}", real=True)
        text = " + ".join(f"100*(x{i} - x{i - 1}**2)**2" for i in range(1, n))
        local = {s.name: s for s in symbols}
        ours = _best_of(3, functools.partial(parse, text, symbols))
        theirs = _best_of(
            3,
            functools.partial(
                parse_expr,
                text,
                local_dict=local,
                global_dict=namespace,
                transformations=standard_transformations,
            ),
        )
        print(f"| {n} | {ours:.4f} | {theirs:.4f} | {theirs / ours:.1f} |")


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

        elapsed = _best_of(3, refuse)
        message = refuse().split(": ", 1)[1][:70]
        shown = text if len(text) <= 40 else text[:37] + "..."
        print(f"| `{shown}` | {1e3 * elapsed:.3f} | {message} |")


if __name__ == "__main__":
    print(f"load average: {os.getloadavg()[0]:.2f}\n")
    _sums()
    _refusals()
