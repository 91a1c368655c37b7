"""numdifftools' derivative test cases (``tests/test_numdifftools.py``, ``example_functions.py``),
re-expressed as gradient problems; see :mod:`tests.gradients.external_cases`."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import rosen, rosen_der

from gradopt.exceptions import NonFiniteEvaluationError
from tests.gradients.external_cases import (
    Case,
    Fun,
    quiet_log,
)


# ----------------------------------------------------------------------------- numdifftools
def numdifftools_cases() -> list[Case]:
    s = "numdifftools"
    out: list[Case] = []
    # example_functions.py: every function with a known first derivative, at x = 0.5.
    examples: dict[str, tuple[Fun, Fun]] = {
        "cos": (np.cos, lambda x: -np.sin(x)),
        "sin": (np.sin, np.cos),
        "tan": (np.tan, lambda x: 1 / np.cos(x) ** 2),
        "cosh": (np.cosh, np.sinh),
        "sinh": (np.sinh, np.cosh),
        "tanh": (np.tanh, lambda x: 1 / np.cosh(x) ** 2),
        "arcsinh": (np.arcsinh, lambda x: 1 / np.sqrt(1 + x * x)),
        "exp": (np.exp, np.exp),
        "expm1": (np.expm1, np.exp),
        "exp2": (np.exp2, lambda x: np.log(2.0) * np.exp2(x)),
        "square": (np.square, lambda x: 2 * x),
        "sqrt": (np.sqrt, lambda x: 0.5 / np.sqrt(x)),
        "log": (np.log, lambda x: 1 / x),
        "log1p": (np.log1p, lambda x: 1 / (1 + x)),
        "log10": (np.log10, lambda x: 1 / (x * np.log(10.0))),
        "log2": (np.log2, lambda x: 1 / (x * np.log(2.0))),
        "arccos": (np.arccos, lambda x: -1 / np.sqrt(1 - x * x)),
        "arcsin": (np.arcsin, lambda x: 1 / np.sqrt(1 - x * x)),
        "arctan": (np.arctan, lambda x: 1 / (1 + x * x)),
        "arctanh": (np.arctanh, lambda x: 1 / (1 - x * x)),
        "inv": (lambda x: 1 / x, lambda x: -1 / x**2),
    }
    for name, (f, df) in examples.items():
        out.append(Case(s, f"{name} at 0.5", f, df, 0.5))
    # cos at the points hypothesis found hard, and pi/2 (test_high_order_derivative_cos).
    for x in (7.6564547238847105, 8.9428143931508, 2.2204460492503134e-14, np.pi / 2, 5.0):
        out.append(Case(s, f"cos at {x:.6g}", np.cos, lambda x: -np.sin(x), x))
    # Derivative of sin at 13 points of [0, 2 pi]: here one gradient of a sum of sines.
    xs = np.linspace(0, 2 * np.pi, 13)
    out.append(
        Case(
            s,
            "sum of sin at 13 points of [0, 2pi]",
            lambda x: np.sum(np.sin(x)),
            np.cos,
            xs,
            magnitude=float(np.sum(np.abs(np.sin(xs)))),
        )
    )
    out.append(Case(s, "2 x^3 at 0", lambda x: 2 * x**3, lambda x: 6 * x**2, 0.0))
    out.append(Case(s, "2 x^3 at 1", lambda x: 2 * x**3, lambda x: 6 * x**2, 1.0))
    cube = Case(
        s, "sum x^3 at 2 (6 points)", lambda x: np.sum(x**3), lambda x: 3 * x**2, np.full(6, 2.0)
    )
    out.append(cube)
    out.append(Case(s, "exp at 0", np.exp, np.exp, 0.0))
    out.append(Case(s, "sinh at 0", np.sinh, np.cosh, 0.0))
    domain = "Richardson's first step (1/16) leaves log's domain at 1e-3: f is NaN there"
    out.append(
        Case(
            s,
            "log at 1e-3",
            quiet_log,
            lambda x: 1 / x,
            1e-3,
            expect={"richardson": (NonFiniteEvaluationError, domain)},
        )
    )
    out.append(
        Case(s, "log at 1e-3 in (0, inf)", np.log, lambda x: 1 / x, 1e-3, bounds=[(0, None)])
    )
    for v in (-1000.0, -31.4, 0.0, 0.5, 77.0, 1000.0):  # test_scalar_to_vector
        out.append(Case(s, f"x at {v}", lambda x: 1.0 * x, lambda x: np.ones_like(x), v))
        out.append(Case(s, f"x^2 at {v}", lambda x: x**2, lambda x: 2 * x, v))
        out.append(Case(s, f"x^3 at {v}", lambda x: x**3, lambda x: 3 * x**2, v))
    out.append(
        Case(
            s,
            "x0 x1 x2 + exp(x0) x1 at (3, 5, 7)",
            lambda x: x[0] * x[1] * x[2] + np.exp(x[0]) * x[1],
            lambda x: np.array(
                [x[1] * x[2] + np.exp(x[0]) * x[1], x[0] * x[2] + np.exp(x[0]), x[0] * x[1]]
            ),
            np.array([3.0, 5.0, 7.0]),
        )
    )
    # test_on_vector_valued_function: squared residuals of an exact fit. The residual
    # cancels terms of size 3-5 to 0, so each value of f carries rounding of that size
    # (its ``magnitude``), far beyond f's own. (The exact gradient at the float point is
    # not 0 either: mpmath gives -1.5e-15, -3.0e-15, -5.5e-15 for i = 9.)
    t = np.arange(0, 1, 0.1)
    y = 1 + 2 * np.exp(0.75 * t)
    hidden = (
        "f = r^2 at r = 0: r cancels terms of size 5, so f's tiny values carry rounding "
        "that no estimate made from them can see (Richardson: 1.7e-15 off, estimate 1.8e-16)"
    )
    for i in (3, 9):

        def resid(c: Any, i: int = i) -> Any:
            return (c[0] + c[1] * np.exp(c[2] * t[i]) - y[i]) ** 2

        def dresid(c: Any, i: int = i) -> Any:
            r = c[0] + c[1] * np.exp(c[2] * t[i]) - y[i]
            e = np.exp(c[2] * t[i])
            return 2 * r * np.array([1.0, e, c[1] * t[i] * e])

        expect = {"richardson": (AssertionError, hidden)} if i == 9 else {}
        out.append(
            Case(
                s,
                f"squared residual {i} at the fit",
                resid,
                dresid,
                np.array([1, 2, 0.75]),
                magnitude=float(y[i]),
                expect=expect,
            )
        )
    for x in ([1.0, 2.0], [3.0, 4.0]):  # test_on_matrix_valued_function
        p = np.array(x)
        out.append(
            Case(s, f"x0^2 + x1^2 at {x}", lambda z: z[0] ** 2 + z[1] ** 2, lambda z: 2 * z, p)
        )
        out.append(
            Case(s, f"x0^3 + x1^3 at {x}", lambda z: z[0] ** 3 + z[1] ** 3, lambda z: 3 * z**2, p)
        )
    out.append(
        Case(
            s,
            "sum x^2 - 1 at (1, 2)",
            lambda x: np.sum(x**2) - 1,
            lambda x: 2 * x,
            np.array([1.0, 2.0]),
        )
    )
    out.append(
        Case(
            s, "x + y at (1, 3)", lambda x: x[0] + x[1], lambda x: np.ones(2), np.array([1.0, 3.0])
        )
    )
    out.append(
        Case(
            s,
            "sum x^2 at (1, 2, 3)",
            lambda x: np.sum(x**2),
            lambda x: 2 * x,
            np.array([1.0, 2.0, 3.0]),
        )
    )

    def issue39(x: Any) -> Any:
        return 1.0 / (np.exp(x[0]) + np.cos(x[1]) + 10)

    def dissue39(x: Any) -> Any:
        den = (np.exp(x[0]) + np.cos(x[1]) + 10) ** 2
        return np.array([-np.exp(x[0]) / den, np.sin(x[1]) / den])

    out.append(
        Case(s, "1 / (exp(x0) + cos(x1) + 10) at (1, 2)", issue39, dissue39, np.array([1.0, 2.0]))
    )
    out.append(Case(s, "rosen at (2, 3)", rosen, rosen_der, np.array([2.0, 3.0])))
    cosdiff = lambda x: np.cos(x[0] - x[1])  # noqa: E731
    dcosdiff = lambda x: np.array([-1.0, 1.0]) * np.sin(x[0] - x[1])  # noqa: E731
    out.append(Case(s, "cos(x0 - x1) at (0, 0)", cosdiff, dcosdiff, np.zeros(2)))
    p = np.array([3.0, 5.0])
    out.append(
        Case(
            s,
            "cos(x0 x1) at (3, 5)",
            lambda z: np.cos(z[0] * z[1]),
            lambda z: -np.sin(z[0] * z[1]) * z[::-1],
            p,
        )
    )
    out.append(
        Case(
            s,
            "sin(x0 x1) at (3, 5)",
            lambda z: np.sin(z[0] * z[1]),
            lambda z: np.cos(z[0] * z[1]) * z[::-1],
            p,
        )
    )
    return out
