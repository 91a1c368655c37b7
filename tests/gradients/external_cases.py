"""Derivative test cases of numdifftools and scipy, re-expressed as gradient problems.

Read from their test suites (numdifftools ``tests/test_numdifftools.py`` and
``example_functions.py``; scipy ``differentiate/tests/test_differentiate.py`` and
``optimize/tests/test__numdiff.py``; scipy's own check that every continuous
distribution's pdf is the derivative of its cdf) and written here as data: the function,
its known gradient, the point, and the bounds and steps the suite uses. Vector-valued
functions there become one scalar problem per output. Left out: higher derivatives and
Hessians, and scipy's ``test_absolute_step_sign`` (a kink at the point: it checks the
sign of a step, which gradopt's positive steps do not have).

``expect`` lists, per method, an outcome other than an accurate gradient, with its
reason: a clear error where the method cannot apply (a complex step through code that is
not complex-analytic, Richardson's symmetric steps on a bound, its first step leaving
the function's domain), or a known flaw of the reference itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special, stats
from scipy.optimize import rosen, rosen_der

from gradopt.exceptions import ComplexStepError, InvalidInputError, NonFiniteEvaluationError

EPS32 = float(np.finfo(np.float32).eps)
EPS16 = float(np.finfo(np.float16).eps)
Fun = Callable[[Any], Any]


@dataclass(frozen=True)
class Case:
    """One problem: ``fun`` at ``x`` has gradient ``grad(x)``."""

    suite: str
    name: str
    fun: Fun
    grad: Fun
    x: Any
    bounds: Any = None
    step: Any = None
    ulps: float = 4.0  # f is right to this many units in the last place
    eps: float = float(np.finfo(np.float64).eps)  # of f's output
    ref_rtol: float = 0.0  # relative accuracy of the known gradient itself
    magnitude: float | None = None  # of the terms f adds up (default |f(x)|)
    complex_may_refuse: bool = False  # library code: the complex step works or refuses
    expect: dict[str, tuple[type[Exception], str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.suite}: {self.name}"


def _refuses_complex(reason: str) -> dict[str, tuple[type[Exception], str]]:
    return {"complex": (ComplexStepError, reason)}


def _quiet_log(x: Any) -> Any:
    with np.errstate(invalid="ignore"):
        return np.log(x)


NOT_ANALYTIC = "f is not complex-analytic code (math.*, or scipy code without complex support)"
ON_BOUND = "x lies on a bound: Richardson needs room on both sides (use central)"


# ----------------------------------------------------------------------------- numdifftools
def _numdifftools() -> list[Case]:
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
            _quiet_log,
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
        "that no estimate made from them can see (Richardson: 1.7e-15 off, estimate 9e-16)"
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


# ------------------------------------------------------------------------ scipy.differentiate
def _scipy_differentiate() -> list[Case]:
    s = "scipy.differentiate"
    out: list[Case] = []
    for x in (0.6, 0.612814, *np.linspace(-0.05, 1.05, 10)):
        out.append(Case(s, f"ndtr at {x:.6g}", special.ndtr, stats.norm.pdf, float(x)))

    def exp_in(x: Any) -> Any:  # test_step_direction: NaN outside [0, 2]
        return np.where((np.real(x) < 0) | (np.real(x) > 2), np.nan, np.exp(x))

    for x in np.linspace(0, 2, 10):
        expect = {"richardson": (InvalidInputError, ON_BOUND)} if x in (0.0, 2.0) else {}
        out.append(
            Case(
                s,
                f"exp, NaN outside [0, 2], at {x:.4g}",
                exp_in,
                np.exp,
                float(x),
                bounds=[(0.0, 2.0)],
                expect=expect,
            )
        )
    for x in (1.0, 2.0, 3.0, 4.0):
        for p in (2, 3):
            out.append(
                Case(s, f"x^{p} at {x}", lambda t, p=p: t**p, lambda t, p=p: p * t ** (p - 1), x)
            )
    for h in (1e-3, 0.1, 1.0):  # test_initial_step: exp at 0 with given steps
        out.append(Case(s, f"exp at 0, step {h}", np.exp, np.exp, 0.0, step=h))
    for x in (0.65, 0.7):
        out.append(Case(s, f"exp at {x}", np.exp, np.exp, x))
        out.append(
            Case(
                s,
                f"exp in float32 at {x}",
                lambda t: np.exp(np.float32(t)),
                np.exp,
                x,
                eps=EPS32,
                expect=_refuses_complex("float32 of a complex number drops it"),
            )
        )
    out.append(Case(s, "x^99 - 1 at 7", lambda x: x**99 - 1, lambda x: 99 * x**98, 7.0))
    for n in range(6):
        out.append(
            Case(
                s,
                f"2 x^{n} at 1.5",
                lambda x, n=n: 2 * x**n,
                lambda x, n=n: 2 * n * x ** (n - 1) if n else 0 * x,
                1.5,
            )
        )
    out.append(Case(s, "3 x - 1 at 2", lambda x: 3 * x - 1, lambda x: 3 + 0 * x, 2.0))
    out.append(
        Case(s, "(x - 1)^3 at 1 (saddle)", lambda x: (x - 1) ** 3, lambda x: 3 * (x - 1) ** 2, 1.0)
    )

    def piecewise(x: Any) -> Any:
        return np.where(np.real(x) > 1, (x - 1) ** 5, (x - 1) ** 3)

    def dpiecewise(x: Any) -> Any:
        return np.where(np.real(x) > 1, 5 * (x - 1) ** 4, 3 * (x - 1) ** 2)

    out.append(Case(s, "(x-1)^5 above 1, (x-1)^3 below, at 1", piecewise, dpiecewise, 1.0))
    shapes: dict[str, tuple[Fun, Fun]] = {  # test_preserve_shape, at 0
        "x": (lambda x: 1.0 * x, lambda x: 1 + 0 * x),
        "sin(3x)": (lambda x: np.sin(3 * x), lambda x: 3 * np.cos(3 * x)),
        "x + sin(10x)": (lambda x: x + np.sin(10 * x), lambda x: 1 + 10 * np.cos(10 * x)),
        "sin(20x) (x-1)^2": (
            lambda x: np.sin(20 * x) * (x - 1) ** 2,
            lambda x: 20 * np.cos(20 * x) * (x - 1) ** 2 + 2 * np.sin(20 * x) * (x - 1),
        ),
    }
    for name, (f, df) in shapes.items():
        out.append(Case(s, f"{name} at 0", f, df, 0.0))
    # TestJacobian.test_examples (Wikipedia's examples), one scalar problem per output.
    rows: dict[str, list[tuple[Fun, Fun]]] = {
        "f1": [
            (lambda z: z[0] ** 2 * z[1], lambda z: np.array([2 * z[0] * z[1], z[0] ** 2])),
            (lambda z: 5 * z[0] + np.sin(z[1]), lambda z: np.array([5.0, np.cos(z[1])])),
        ],
        "f2": [
            (
                lambda z: z[0] * np.cos(z[1]),
                lambda z: np.array([np.cos(z[1]), -z[0] * np.sin(z[1])]),
            ),
            (
                lambda z: z[0] * np.sin(z[1]),
                lambda z: np.array([np.sin(z[1]), z[0] * np.cos(z[1])]),
            ),
        ],
        "f3": [
            (
                lambda z: z[0] * np.sin(z[1]) * np.cos(z[2]),
                lambda z: np.array(
                    [
                        np.sin(z[1]) * np.cos(z[2]),
                        z[0] * np.cos(z[1]) * np.cos(z[2]),
                        -z[0] * np.sin(z[1]) * np.sin(z[2]),
                    ]
                ),
            ),
            (
                lambda z: z[0] * np.sin(z[1]) * np.sin(z[2]),
                lambda z: np.array(
                    [
                        np.sin(z[1]) * np.sin(z[2]),
                        z[0] * np.cos(z[1]) * np.sin(z[2]),
                        z[0] * np.sin(z[1]) * np.cos(z[2]),
                    ]
                ),
            ),
            (
                lambda z: z[0] * np.cos(z[1]),
                lambda z: np.array([np.cos(z[1]), -z[0] * np.sin(z[1]), 0.0]),
            ),
        ],
        "f4": [
            (lambda z: 1.0 * z[0], lambda z: np.array([1.0, 0.0, 0.0])),
            (lambda z: 5 * z[2], lambda z: np.array([0.0, 0.0, 5.0])),
            (lambda z: 4 * z[1] ** 2 - 2 * z[2], lambda z: np.array([0.0, 8 * z[1], -2.0])),
            (
                lambda z: z[2] * np.sin(z[0]),
                lambda z: np.array([z[2] * np.cos(z[0]), 0.0, np.sin(z[0])]),
            ),
        ],
        "f5": [
            (lambda z: 5 * z[1], lambda z: np.array([0.0, 5.0, 0.0])),
            (
                lambda z: 4 * z[0] ** 2 - 2 * np.sin(z[1] * z[2]),
                lambda z: np.array(
                    [8 * z[0], -2 * z[2] * np.cos(z[1] * z[2]), -2 * z[1] * np.cos(z[1] * z[2])]
                ),
            ),
            (lambda z: z[1] * z[2], lambda z: np.array([0.0, z[2], z[1]])),
        ],
    }
    rng = np.random.default_rng(458912319542)
    for name, funs in rows.items():
        x = rng.random(len(funs[0][1](np.ones(3))))
        for k, (f, g) in enumerate(funs):
            out.append(Case(s, f"{name}[{k}] at a random point", f, g, x))
    out.append(Case(s, "rosen at a random point of [0, 1]^5", rosen, rosen_der, rng.random(5)))
    # test_attrs: initial_step=10 on functions of unit scale.
    z = np.array([0.5, 0.25])
    far = {
        "complex": (
            AssertionError,
            "an imaginary step of 10 is far from the complex "
            "step's h -> 0 regime: cos(x + 10i) grows like cosh(10)",
        )
    }
    out.append(
        Case(
            s,
            "cos(x/2) cos(y), step 10",
            lambda z: np.cos(0.5 * z[0]) * np.cos(z[1]),
            lambda z: np.array(
                [-0.5 * np.sin(0.5 * z[0]) * np.cos(z[1]), -np.cos(0.5 * z[0]) * np.sin(z[1])]
            ),
            z,
            step=10.0,
            expect=far,
        )
    )
    out.append(
        Case(
            s,
            "sin(2x) y^2, step 10",
            lambda z: np.sin(2 * z[0]) * z[1] ** 2,
            lambda z: np.array([2 * np.cos(2 * z[0]) * z[1] ** 2, 2 * np.sin(2 * z[0]) * z[1]]),
            z,
            step=10.0,
            expect=far,
        )
    )
    # test_step_direction_size: f5 defined on [b0, b0 + 0.25] x [b1 - 0.1, b1] x R, at b.
    b = np.random.default_rng(23892589425245).random(3)
    box = [(b[0], b[0] + 0.25), (b[1] - 0.1, b[1]), (None, None)]
    for k, (f, g) in enumerate(rows["f5"]):
        out.append(
            Case(
                s,
                f"f5[{k}] at a corner of its domain",
                f,
                g,
                b,
                bounds=box,
                step=np.array([0.25, 0.1, 0.5]),
                expect={"richardson": (InvalidInputError, ON_BOUND)},
            )
        )
    return out


# ------------------------------------------------------------------- scipy.optimize._numdiff
def _vector_vector() -> list[tuple[Fun, Fun]]:
    return [
        (lambda x: x[0] * np.sin(x[1]), lambda x: np.array([np.sin(x[1]), x[0] * np.cos(x[1])])),
        (lambda x: x[1] * np.cos(x[0]), lambda x: np.array([-x[1] * np.sin(x[0]), np.cos(x[0])])),
        (
            lambda x: x[0] ** 3 * x[1] ** -0.5,
            lambda x: np.array([3 * x[0] ** 2 * x[1] ** -0.5, -0.5 * x[0] ** 3 * x[1] ** -1.5]),
        ),
    ]


def _scipy_numdiff() -> list[Case]:
    s = "scipy.optimize"
    out: list[Case] = []
    out.append(Case(s, "sinh at 1", np.sinh, np.cosh, 1.0))
    out.append(Case(s, "sinh at 1, step 1.49e-8", np.sinh, np.cosh, 1.0, step=1.49e-8))
    for name, f, df in (
        ("x^2", np.square, lambda x: 2 * x),
        ("tan", np.tan, lambda x: 1 / np.cos(x) ** 2),
        ("exp", np.exp, np.exp),
    ):
        out.append(Case(s, f"{name} at 0.5", f, df, 0.5))

    def vs(x: Any) -> Any:
        return np.sin(x[0] * x[1]) * np.log(x[0])

    def dvs(x: Any) -> Any:
        c = np.cos(x[0] * x[1])
        return np.array(
            [x[1] * c * np.log(x[0]) + np.sin(x[0] * x[1]) / x[0], x[0] * c * np.log(x[0])]
        )

    p = np.array([100.0, -0.5])
    out.append(Case(s, "sin(x0 x1) log(x0) at (100, -0.5)", vs, dvs, p))
    out.append(
        Case(s, "sin(x0 x1) log(x0) at (100, -0.5), step 1.49e-8", vs, dvs, p, step=1.49e-8)
    )
    settings: list[tuple[str, list[float], Any, Any]] = [
        ("at (-100, 0.2)", [-100.0, 0.2], None, None),
        ("at (-0.1, 0.1), step 1e-4", [-0.1, 0.1], None, 1e-4),
        ("at (1, 2) in [1, 2]^2", [1.0, 2.0], [(1.0, 2.0)] * 2, None),
        ("at (1, 2) in [1, inf)^2", [1.0, 2.0], [(1.0, None)] * 2, None),
        ("at (1, 2) in (-inf, 2]^2", [1.0, 2.0], [(None, 2.0)] * 2, None),
        ("at (-1, 1) in [-1, 1]^2", [-1.0, 1.0], [(-1.0, 1.0)] * 2, None),
        ("at (10, 10), box [-3e-9, +2e-9]", [10.0, 10.0], [(10 - 3e-9, 10 + 2e-9)] * 2, None),
        (
            "at (10, 10), box [-3e-9, +2e-9], step 1e-5",
            [10.0, 10.0],
            [(10 - 3e-9, 10 + 2e-9)] * 2,
            1e-5,
        ),
        ("at (-10, 10)", [-10.0, 10.0], None, None),
    ]
    for label, x, bounds, step in settings:
        on_bound = bounds is not None and any(
            xi in (lo, hi) for xi, (lo, hi) in zip(x, bounds, strict=True)
        )
        expect = {"richardson": (InvalidInputError, ON_BOUND)} if on_bound else {}
        for k, (f, g) in enumerate(_vector_vector()):
            out.append(
                Case(
                    s,
                    f"vector_vector[{k}] {label}",
                    f,
                    g,
                    np.array(x),
                    bounds=bounds,
                    step=step,
                    expect=expect,
                )
            )
    # test_options: exp(c0 x0), exp(c1 x1), c = (-1, 1), in [0, 2]^2, steps (1e-6, 1e-7).
    for k, c in enumerate((-1.0, 1.0)):
        out.append(
            Case(
                s,
                f"exp(c x{k}) at (1, 1) in [0, 2]^2, steps (1e-6, 1e-7)",
                lambda x, k=k, c=c: np.exp(c * x[k]),
                lambda x, k=k, c=c: c * np.exp(c * x[k]) * (np.arange(2) == k),
                np.ones(2),
                bounds=[(0.0, 2.0)] * 2,
                step=[1e-6, 1e-7],
            )
        )

    def with_nan(x: Any) -> Any:  # test_bound_switches
        return x if np.abs(x) <= 1e-8 else np.nan

    for x in (0.0, 1e-8):
        expect = {"richardson": (InvalidInputError, ON_BOUND)} if x else {}
        expect["complex"] = (
            ComplexStepError,
            "the suite's step 1e-6 reaches |x| > 1e-8, where f returns a real NaN",
        )
        out.append(
            Case(
                s,
                f"x, NaN outside [-1e-8, 1e-8], at {x}",
                with_nan,
                lambda x: 1 + 0 * x,
                x,
                bounds=[(-1e-8, 1e-8)],
                step=1e-6,
                expect=expect,
            )
        )
    out.append(
        Case(
            s,
            "math.exp at 1",
            lambda x: math.exp(np.asarray(x).item()),
            np.exp,
            1.0,
            expect=_refuses_complex(NOT_ANALYTIC),
        )
    )
    # test_fp: float32 and float16 output.
    rng = np.random.default_rng(1)
    xd = np.linspace(0, 1, 100)
    yd = rng.random(100)
    for i in (0, 37, 99):
        out.append(
            Case(
                s,
                f"float32 residual {i} of a line fit",
                lambda p, i=i: np.float32(p[0] + p[1] * xd[i] - yd[i]),
                lambda p, i=i: np.array([1.0, xd[i]]),
                np.array([-1.0, -1.0]),
                eps=EPS32,
                expect=_refuses_complex("float32 of a complex number drops it"),
            )
        )
    for dtype, eps in ((np.float16, EPS16), (np.float32, EPS32)):
        name = np.dtype(dtype).name
        out.append(
            Case(
                s,
                f"sin in {name} at 1",
                lambda x, t=dtype: np.sin(np.asarray(x).astype(t)),
                np.cos,
                1.0,
                eps=eps,
                ulps=1.0,
                expect=_refuses_complex(f"{name} of a complex number drops it"),
            )
        )
    out.append(Case(s, "sin in float64 at 1", np.sin, np.cos, 1.0))
    zero = [  # test_check_derivative: fun_zero_jacobian at (0, 0)
        (lambda x: x[0] * x[1], lambda x: x[::-1]),
        (lambda x: np.cos(x[0] * x[1]), lambda x: -np.sin(x[0] * x[1]) * x[::-1]),
    ]
    for k, (f, g) in enumerate(zero):
        out.append(Case(s, f"zero_jacobian[{k}] at (0, 0)", f, g, np.zeros(2)))
    # TestApproxDerivativeSparse (Nocedal & Wright p. 198), summed: x near its bounds.
    n = 50
    lb, ub = -0.1 * (1 + np.arange(n)), 0.1 * (1 + np.arange(n))
    x0 = np.empty(n)
    x0[::2], x0[1::2] = (1 - 1e-7) * lb[::2], (1 - 1e-7) * ub[1::2]

    def sparse_sum(x: Any) -> Any:
        e = x[1:] ** 3 - x[:-1] ** 2
        return np.sum(np.hstack((0, 3 * e)) + np.hstack((2 * e, 0)))

    def dsparse_sum(x: Any) -> Any:
        g = np.zeros_like(x)
        g[1:] += 5 * 3 * x[1:] ** 2
        g[:-1] -= 5 * 2 * x[:-1]
        return g

    out.append(
        Case(
            s,
            "sparse example summed, x near its bounds",
            sparse_sum,
            dsparse_sum,
            x0,
            bounds=list(zip(lb, ub, strict=True)),
        )
    )
    out.append(Case(s, "sparse example summed, no bounds", sparse_sum, dsparse_sum, x0))
    return out


# ----------------------------------------------------------------------------- scipy.stats
#: (name, shape parameters): a fast subset of scipy's continuous distributions, with the
#: parameters scipy's own tests use; benchmarks/bench_accuracy.py sweeps all of them.
DISTRIBUTIONS: list[tuple[str, tuple[float, ...]]] = [
    ("alpha", (3.570477051665046,)),
    ("anglit", ()),
    ("arcsine", ()),
    ("beta", (2.3098496451481823, 0.6268795430096368)),
    ("betaprime", (5, 6)),
    ("burr", (10.5, 4.3)),
    ("cauchy", ()),
    ("chi", (78,)),
    ("chi2", (55,)),
    ("cosine", ()),
    ("dweibull", (2.0685080649914673,)),
    ("expon", ()),
    ("exponnorm", (1.5,)),
    ("f", (29, 18)),
    ("fisk", (3.085754862225318,)),
    ("gamma", (1.9932305483800778,)),
    ("genextreme", (-0.1,)),
    ("gennorm", (1.2988442399460265,)),
    ("gompertz", (0.9474371307510525,)),
    ("gumbel_r", ()),
    ("halfnorm", ()),
    ("invgauss", (0.14546264555347513,)),
    ("johnsonsu", (2.554395574161155, 2.2482281679651965)),
    ("kstwobign", ()),
    ("laplace", ()),
    ("levy_l", ()),
    ("logistic", ()),
    ("lognorm", (0.9536822696057533,)),
    ("lomax", (1.8771398388773268,)),
    ("maxwell", ()),
    ("nakagami", (4.967379486666624,)),
    ("ncx2", (21, 1.0560465975116415)),
    ("norm", ()),
    ("pareto", (2.621716532144454,)),
    ("rayleigh", ()),
    ("rice", (0.7749725210111873,)),
    ("skewnorm", (4.0,)),
    ("t", (2.7433514990818093,)),
    ("truncnorm", (-1.0978730080013919, 2.730675410903198)),
    ("tukeylambda", (3.1321477856738267,)),
    ("vonmises", (3.99390425810714,)),
    ("wald", ()),
    ("weibull_min", (1.7866166930421596,)),
]
#: Per distribution: what differs from "every method accurate, pdf exact to 1e-12".
STATS_NOTES: dict[str, dict[str, Any]] = {
    # scipy's pdf is 1.3e-10 off (mpmath: pdf(0.92757...) = 1.2973235169064883, scipy
    # 1.297323517037502) while its cdf agrees with mpmath to the last digit.
    "kstwobign": {"ref_rtol": 2e-10},
    # The cdf is found by root finding and is noisy: about 15 ulps (measured with high
    # differences of f at 1e-7 spacing); mpmath confirms the pdf to 1e-14. Richardson's
    # round-off model assumes 4 ulps, and the spread of its table did not catch it here.
    "tukeylambda": {"ulps": 32.0, "richardson_under": True},
    # Its cdf takes |x| of a complex number: the complex step silently gives 0.5296 for
    # 0.5147 (f is not complex-analytic, and its imaginary part is not 0, so nothing can
    # tell). Richardson and real differences are right.
    "gennorm": {"complex_wrong": True},
}


def _scipy_stats() -> list[Case]:
    out: list[Case] = []
    for name, params in DISTRIBUTIONS:
        dist = getattr(stats, name)(*params)
        x = float(dist.median()) + 0.1  # scipy's test_accuracy point
        notes = STATS_NOTES.get(name, {})
        expect: dict[str, tuple[type[Exception], str]] = {}
        if notes.get("complex_wrong"):
            expect["complex"] = (AssertionError, "its cdf takes |x|: not complex-analytic")
        if notes.get("richardson_under"):
            expect["richardson"] = (AssertionError, "cdf noisier (15 ulps) than the model (4)")
        out.append(
            Case(
                "scipy.stats",
                f"{name}{params} cdf' = pdf at median + 0.1",
                dist.cdf,
                dist.pdf,
                x,
                ulps=notes.get("ulps", 4.0),
                ref_rtol=notes.get("ref_rtol", 1e-12),
                expect=expect,
                complex_may_refuse=True,
            )
        )
    return out


# ---------------------------------------------------------------------------------- sweeps
def _softplus_complex(z: Any) -> Any:
    # Written with operations that carry complex numbers (no abs, no maximum).
    return (
        np.log1p(np.exp(z - 1000)) if np.real(z) < 1000 else z - 1000 + np.log1p(np.exp(1000 - z))
    )


SCALE_FREE: dict[str, tuple[Fun, Fun]] = {
    "sin(x)": (np.sin, np.cos),
    "sin(200 x)": (lambda x: np.sin(200 * x), lambda x: 200 * np.cos(200 * x)),
    "softplus(x - 1000)": (_softplus_complex, lambda x: special.expit(x - 1000)),
    "exp(-(x - 1000)^2 / 2)": (
        lambda x: np.exp(-((x - 1000) ** 2) / 2),
        lambda x: -(x - 1000) * np.exp(-((x - 1000) ** 2) / 2),
    ),
}
SWEEP_X = np.logspace(-3, 5, 17)
NEAR_1000 = np.linspace(995.0, 1005.0, 9) + 0.123


def _sweeps() -> list[Case]:
    out = []
    tiny: dict[str, tuple[type[Exception], str]] = {
        "complex": (
            AssertionError,
            "f' = exp(x - 1000) = 1e-298: the imaginary part "
            "h f' = 1e-20 f' falls among subnormal numbers and loses its digits",
        )
    }
    for name, (f, df) in SCALE_FREE.items():
        xs = np.concatenate((SWEEP_X, NEAR_1000)) if "1000" in name else SWEEP_X
        for x in xs:
            expect = tiny if name.startswith("softplus") and 300 < x < 400 else {}
            out.append(Case("sweep", f"{name} at {x:.6g}", f, df, float(x), expect=expect))
    return out


def all_cases() -> list[Case]:
    return [
        *_numdifftools(),
        *_scipy_differentiate(),
        *_scipy_numdiff(),
        *_scipy_stats(),
        *_sweeps(),
    ]
