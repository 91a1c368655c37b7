"""The providers: ``value_and_grad`` with bad points and careless objectives."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

from gradopt import Analytic, Autograd, FiniteDifference, Jax, Symbolic
from gradopt.exceptions import (
    AutogradTraceError,
    InvalidInputError,
    JaxTraceError,
    MissingCapabilityError,
    NonFiniteEvaluationError,
    ObjectiveError,
)
from gradopt.gradients.autograd import ObjectArrayWarning
from tests.bad_input.inputs import (
    GOOD,
    USERS_ERROR,
    bowl,
    bowl_grad,
    careless,
    point_inputs,
    raises,
)
from tests.bad_input.outcomes import Case, Outcome, Raises, Returns, Warns

__all__ = ["CASES"]

# The `jax` extra installs only on Python >= 3.11: without it the Jax rows are left out.
_HAS_JAX = importlib.util.find_spec("jax") is not None


PROVIDERS: dict[str, Callable[[Callable[..., Any]], Any]] = {
    "Analytic": lambda f: Analytic(f, bowl_grad),
    "FiniteDifference (central)": FiniteDifference,
    "FiniteDifference (complex)": lambda f: FiniteDifference(f, method="complex"),
    "FiniteDifference (richardson)": lambda f: FiniteDifference(f, method="richardson"),
    "Autograd": Autograd,
    **({"Jax": Jax} if _HAS_JAX else {}),
}


def _nan_value_and_grad(result: Any) -> bool:
    value, grad = result
    return bool(np.isnan(value) and np.all(np.isnan(grad)))


def _nan(entry: str) -> Outcome:
    """What each provider does with an f that returns NaN."""
    if entry.startswith("FiniteDifference"):
        return Raises(NonFiniteEvaluationError, ("returned", "nan", "coordinate 0"))
    if entry == "Analytic":  # f gives the value only; the gradient is the user's
        return Returns("the value is NaN, as f says", lambda r: bool(np.isnan(r[0])))
    return Returns("value and gradient are NaN, as f says", _nan_value_and_grad)


def _provider_cases() -> list[Case]:
    cases = []
    for entry, make in PROVIDERS.items():
        p = make(bowl)
        for label, thunk, outcome in point_inputs("x", p.value_and_grad):
            cases.append(Case(entry, f"``x``: {label}", thunk, outcome))
        for label, f, outcome in careless("f", _nan(entry)):
            cases.append(
                Case(entry, label, (lambda m=make, f=f: m(f).value_and_grad(GOOD)), outcome)
            )
        cases.append(
            Case(
                entry,
                "``fun`` is not callable (``3``)",
                lambda m=make: m(3),
                Raises(InvalidInputError, ("fun must be callable", "int")),
            )
        )
    return cases


def _analytic_gradient_cases() -> list[Case]:
    def with_grad(g: Callable[[Any], Any]) -> Callable[[], Any]:
        return lambda: Analytic(bowl, g).value_and_grad(GOOD)

    entry = "Analytic"
    return [
        Case(
            entry,
            "``grad`` returns None",
            with_grad(lambda x: None),
            Raises(ObjectiveError, ("grad returned None",)),
        ),
        Case(
            entry,
            "``grad`` returns shape (3,)",
            with_grad(lambda x: np.ones(3)),
            Raises(ObjectiveError, ("grad must return an array of shape (2,)", "shape (3,)")),
        ),
        Case(
            entry,
            "``grad`` returns complex numbers",
            with_grad(lambda x: bowl_grad(x) + 1j),
            Raises(ObjectiveError, ("grad must return real numbers", "complex128")),
        ),
        Case(
            entry,
            "``grad`` returns strings",
            with_grad(lambda x: np.array(["1", "2"])),
            Raises(ObjectiveError, ("grad must return real numbers", "<U1")),
        ),
        Case(
            entry,
            "``grad`` returns NaN",
            with_grad(lambda x: x * np.nan),
            Returns("the gradient is NaN, as grad says", lambda r: bool(np.all(np.isnan(r[1])))),
        ),
        Case(
            entry,
            "``hessp`` asked for, none given",
            lambda: Analytic(bowl, bowl_grad).hessp(GOOD, GOOD),
            Raises(MissingCapabilityError, ("no Hessian-vector product", "pass hessp=")),
        ),
    ]


def _assigns(x: Any) -> Any:
    y = x * 1.0
    y[0] = 1.0
    return y.sum()


def _floats(x: Any) -> Any:
    return float(x[0]) ** 2 + float(x[1]) ** 2


def _numpy_inside(x: Any) -> Any:
    return np.sum(np.asarray(x) ** 2)


def _float32(x: Any) -> Any:
    import jax.numpy as jnp

    return jnp.sum(x**2).astype(jnp.float32)


def _tracing_cases() -> list[Case]:
    """Functions an automatic-differentiation backend cannot trace."""
    cases = []
    for entry, make, error in (
        ("Autograd", Autograd, AutogradTraceError),
        ("Jax", Jax, JaxTraceError),
    ):
        cases += [
            Case(
                entry,
                "``f`` assigns into an array (``y[0] = 1``)",
                lambda m=make: m(_assigns).value_and_grad(GOOD),
                Raises(error, ("assign",)),
            ),
            Case(
                entry,
                "``f`` takes ``float(x[0])``",
                lambda m=make: m(_floats).value_and_grad(GOOD),
                Raises(error, ("trace",)),
            ),
        ]
    return [
        *cases,
        Case(
            "Autograd",
            "``f`` calls ``np.dot(x, x)`` (NumPy traced through object arrays)",
            lambda: Autograd(lambda x: np.dot(x, x)).value_and_grad(GOOD),
            Warns(ObjectArrayWarning, ("converts its argument to a NumPy array",)),
        ),
        Case(
            "Jax",
            "``f`` calls ``np.asarray(x)``",
            lambda: Jax(_numpy_inside).value_and_grad(GOOD),
            Raises(JaxTraceError, ("calls NumPy", "jax.numpy")),
        ),
        Case(
            "Jax",
            "``f`` returns float32",
            lambda: Jax(_float32).value_and_grad(GOOD),
            Raises(ObjectiveError, ("float32", "Jax works in float64")),
        ),
        Case(
            "Jax",
            "``jit='yes'``",
            lambda: Jax(bowl, jit="yes"),  # type: ignore[arg-type]
            Raises(InvalidInputError, ("jit must be True or False", "'yes'")),
        ),
        Case(
            "Jax",
            "``args=3``",
            lambda: Jax(bowl, args=3),  # type: ignore[arg-type]
            Raises(InvalidInputError, ("args must be a tuple", "int")),
        ),
    ]


def _autograd_cases() -> list[Case]:
    p = Autograd(bowl)
    return [
        Case(
            "Autograd",
            "``hessp``: ``v`` holds NaN",
            lambda: p.hessp(GOOD, [np.nan, 1.0]),
            Raises(InvalidInputError, ("v must be finite",)),
        ),
        Case(
            "Autograd",
            "``hessp``: ``v`` of the wrong length",
            lambda: p.hessp(GOOD, [1.0]),
            Raises(InvalidInputError, ("v must have the shape of x (2,)", "(1,)")),
        ),
    ]


def _symbolic_cases() -> list[Case]:
    entry = "Symbolic"
    p = Symbolic("(x - 1)**2 + (y - 1)**2", ["x", "y"])
    one = Symbolic("(x - 1)**2", ["x"])
    cases = [
        Case(entry, f"``x``: {label}", thunk, outcome)
        for label, thunk, outcome in point_inputs("x", p.value_and_grad, scalar=None)
    ]
    cases.append(
        Case(
            entry,
            "``x``: 0-d (a float), one variable",
            lambda: one.value_and_grad(np.float64(0.5)),
            Returns("``(0.25, array(-1.))``", lambda r: r[0] == 0.25 and r[1].shape == ()),
        )
    )
    refused = {
        "``x`` of the wrong length (3 for 2 variables)": (
            lambda: p.value_and_grad([1.0, 2.0, 3.0]),
            ("x must have one entry per variable", "got 3"),
        ),
        "``expr`` a Python function": (lambda: Symbolic(bowl, ["x"]), ("expr must be",)),
        "``expr`` with a free symbol": (lambda: Symbolic("x + a", ["x"]), ("free symbols", "a")),
        "``expr`` that does not parse": (lambda: Symbolic("x +* 2", ["x"]), ("cannot parse",)),
        "``variables`` a set": (lambda: Symbolic("x + y", {"x", "y"}), ("ordered sequence",)),
        "``variables`` empty": (lambda: Symbolic("1", []), ("at least one variable",)),
    }
    cases += [
        Case(entry, label, thunk, Raises(InvalidInputError, says))
        for label, (thunk, says) in refused.items()
    ]
    return cases


def batch_bowl(points: Any) -> Any:
    """:func:`bowl` of each point of a batch, shape ``(k, *x.shape)``, at once."""
    points = np.asarray(points)
    return ((points - 1.0) ** 2).reshape(points.shape[0], -1).sum(axis=1)


def _vectorized_cases() -> list[Case]:
    entry = "FiniteDifference (vectorized)"
    p = FiniteDifference(batch_bowl, vectorized=True)
    cases = [
        Case(entry, f"``x``: {label}", thunk, outcome)
        for label, thunk, outcome in point_inputs("x", p.value_and_grad)
    ]
    batch = "must return 4 values for a batch of 4 points"
    batched: list[tuple[str, Callable[..., Any], Outcome]] = [
        ("``f`` raises ``ValueError``", raises, USERS_ERROR),
        ("``f`` returns None", lambda X: None, Raises(ObjectiveError, (batch, "None"))),
        ("``f`` returns one number", lambda X: 1.0, Raises(ObjectiveError, (batch, "float"))),
        (
            "``f`` returns shape (4, 2)",
            lambda X: np.ones((len(X), 2)),
            Raises(ObjectiveError, (batch, "shape (4, 2)")),
        ),
        (
            "``f`` returns strings",
            lambda X: np.full(len(X), "5.0"),
            Raises(ObjectiveError, ("must return", "str")),
        ),
        (
            "``f`` returns complex numbers",
            lambda X: batch_bowl(X) + 1j,
            Raises(ObjectiveError, ("must return", "complex")),
        ),
        (
            "``f`` returns NaN",
            lambda X: batch_bowl(X) * np.nan,
            Raises(NonFiniteEvaluationError, ("returned", "nan")),
        ),
    ]
    cases += [
        Case(
            entry,
            label,
            (lambda f=f: FiniteDifference(f, vectorized=True).value_and_grad(GOOD)),
            outcome,
        )
        for label, f, outcome in batched
    ]
    return cases


CASES = [
    case
    for case in (
        *_provider_cases(),
        *_vectorized_cases(),
        *_analytic_gradient_cases(),
        *_autograd_cases(),
        *_tracing_cases(),
        *_symbolic_cases(),
    )
    if _HAS_JAX or case.entry != "Jax"
]
