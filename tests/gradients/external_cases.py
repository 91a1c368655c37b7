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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special, stats

from gradopt.exceptions import ComplexStepError

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


def refuses_complex(reason: str) -> dict[str, tuple[type[Exception], str]]:
    return {"complex": (ComplexStepError, reason)}


def quiet_log(x: Any) -> Any:
    with np.errstate(invalid="ignore"):
        return np.log(x)


NOT_ANALYTIC = "f is not complex-analytic code (math.*, or scipy code without complex support)"
ON_BOUND = "x lies on a bound: Richardson needs room on both sides (use central)"


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
    """Every case, suite by suite."""
    from tests.gradients.cases_numdifftools import numdifftools_cases
    from tests.gradients.cases_scipy import scipy_differentiate_cases, scipy_optimize_cases

    return [
        *numdifftools_cases(),
        *scipy_differentiate_cases(),
        *scipy_optimize_cases(),
        *_scipy_stats(),
        *_sweeps(),
    ]
