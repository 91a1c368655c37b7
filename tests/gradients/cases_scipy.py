"""scipy's derivative test cases (``differentiate/tests/test_differentiate.py``,
``optimize/tests/test__numdiff.py``), re-expressed as gradient problems; see
:mod:`tests.gradients.external_cases`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special, stats
from scipy.optimize import rosen, rosen_der

from gradopt.exceptions import ComplexStepError, InvalidInputError
from tests.gradients.external_cases import (
    EPS16,
    EPS32,
    NOT_ANALYTIC,
    ON_BOUND,
    Case,
    Fun,
    refuses_complex,
)


# ------------------------------------------------------------------------ scipy.differentiate
def scipy_differentiate_cases() -> list[Case]:
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
                expect=refuses_complex("float32 of a complex number drops it"),
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


def scipy_optimize_cases() -> list[Case]:
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
            expect=refuses_complex(NOT_ANALYTIC),
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
                expect=refuses_complex("float32 of a complex number drops it"),
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
                expect=refuses_complex(f"{name} of a complex number drops it"),
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
