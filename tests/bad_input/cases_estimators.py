"""``HuberRegressor`` and ``RobustRegressor``: ``fit`` and ``predict`` with bad data.

The estimators validate data as scikit-learn's own do (``validate_data``), so the
messages are scikit-learn's and name the argument (``X``, ``y``, ``sample_weight``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import DataConversionWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from gradopt.linear_model import HuberRegressor, RobustRegressor
from tests.bad_input.outcomes import Case, Outcome, Raises, Returns, Warns

__all__ = ["CASES"]

_RNG = np.random.default_rng(0)
X = _RNG.normal(size=(30, 2))
Y = X @ [1.0, 2.0] + 0.1 * _RNG.normal(size=30)
_HOLE = np.arange(60).reshape(30, 2) == 3  # one cell of X


def _fitted_coef(estimator: type) -> Callable[[Any], bool]:
    reference = estimator().fit(X, Y).coef_
    return lambda coef: bool(np.allclose(coef, reference, rtol=1e-6, atol=1e-9))


def _x_inputs() -> list[tuple[str, Any, Outcome | None]]:
    """X inputs; None as outcome: works, like the float array."""
    return [
        (
            "``X`` holds NaN",
            np.where(_HOLE, np.nan, X),
            Raises(ValueError, ("Input X contains NaN",)),
        ),
        (
            "``X`` holds infinity",
            np.where(_HOLE, np.inf, X),
            Raises(ValueError, ("Input X contains infinity",)),
        ),
        ("``X`` has no rows", np.empty((0, 2)), Raises(ValueError, ("0 sample(s)",))),
        ("``X`` has no columns", np.empty((30, 0)), Raises(ValueError, ("0 feature(s)",))),
        ("``X`` 1-D", X[:, 0], Raises(ValueError, ("Expected 2D array, got 1D array",))),
        ("``X`` 3-D", X[:, :, None], Raises(ValueError, ("Found array with dim 3",))),
        ("``X`` 0-d", np.float64(1.0), Raises(ValueError, ("Expected 2D array, got scalar",))),
        ("``X`` complex", X + 1j, Raises(ValueError, ("Complex data not supported",))),
        (
            "``X`` non-numeric strings",
            np.full(X.shape, "a"),
            Raises(ValueError, ("could not convert string to float",)),
        ),
        ("``X`` numeric strings", X.astype(str), None),
        ("``X`` an object array of floats", X.astype(object), None),
        ("``X`` a list of lists", X.tolist(), None),
        ("``X`` a pandas DataFrame", pd.DataFrame(X, columns=["a", "b"]), None),
    ]


def _fit_cases(estimator: type) -> list[Case]:
    entry = f"{estimator.__name__}.fit"
    same = Returns("as with the float array", _fitted_coef(estimator))
    cases = []
    for label, data, outcome in _x_inputs():
        y = Y[: len(data)] if np.ndim(data) >= 1 else Y
        cases.append(
            Case(entry, label, (lambda d=data, y=y: estimator().fit(d, y).coef_), outcome or same)
        )
    ys: list[tuple[str, Any, Outcome]] = [
        (
            "``y`` holds NaN",
            np.where(np.arange(30) == 3, np.nan, Y),
            Raises(ValueError, ("Input y contains NaN",)),
        ),
        (
            "``y`` holds infinity",
            np.where(np.arange(30) == 3, np.inf, Y),
            Raises(ValueError, ("Input y contains infinity",)),
        ),
        (
            "``y`` of the wrong length",
            Y[:-1],
            Raises(ValueError, ("inconsistent numbers of samples", "[30, 29]")),
        ),
        ("``y`` complex", Y + 1j, Raises(ValueError, ("Complex data not supported",))),
        (
            "``y`` a column, shape (30, 1)",
            Y[:, None],
            Warns(DataConversionWarning, ("column-vector y",)),
        ),
        ("``y`` a pandas Series", pd.Series(Y), same),
    ]
    cases += [
        Case(entry, label, (lambda y=y: estimator().fit(X, y).coef_), outcome)
        for label, y, outcome in ys
    ]
    weights: list[tuple[str, Any, tuple[str, ...]]] = [
        ("``sample_weight`` negative", -np.ones(30), ("Negative values", "sample_weight")),
        ("``sample_weight`` NaN", np.full(30, np.nan), ("Input sample_weight contains NaN",)),
        ("``sample_weight`` of the wrong length", np.ones(29), ("sample_weight.shape == (29,)",)),
        ("``sample_weight`` all zero", np.zeros(30), ("at least one non-zero",)),
    ]
    cases += [
        Case(
            entry,
            label,
            (lambda w=w: estimator().fit(X, Y, sample_weight=w)),
            Raises(ValueError, says),
        )
        for label, w, says in weights
    ]
    params: list[tuple[str, dict[str, Any], str]] = [
        ("``epsilon=0.5``", {"epsilon": 0.5}, "epsilon"),
        ("``alpha=-1``", {"alpha": -1.0}, "alpha"),
        ("``max_iter=-1``", {"max_iter": -1}, "max_iter"),
        ("``max_iter='10'``", {"max_iter": "10"}, "max_iter"),
    ]
    if estimator is HuberRegressor:
        params += [
            ("``gradient='nope'``", {"gradient": "nope"}, "gradient"),
            ("``solver='nope'``", {"solver": "nope"}, "solver"),
        ]
    else:
        params = [p for p in params if p[2] != "epsilon"]
        params += [("``loss='nope'``", {"loss": "nope"}, "loss")]
    cases += [
        Case(
            entry,
            label,
            (lambda kw=kw: estimator(**kw).fit(X, Y)),
            Raises(InvalidParameterError, (f"The '{name}' parameter of {estimator.__name__}",)),
        )
        for label, kw, name in params
    ]
    return cases


def _predict_cases(estimator: type) -> list[Case]:
    entry = f"{estimator.__name__}.predict"
    model = estimator().fit(X, Y)
    expected = model.predict(X)
    same = Returns("as with the float array", lambda p: bool(np.allclose(p, expected)))
    cases = [
        Case(
            entry,
            "before ``fit``",
            lambda: estimator().predict(X),
            Raises(NotFittedError, ("is not fitted yet",)),
        ),
        Case(
            entry,
            "``X`` with 3 columns, fitted on 2",
            lambda: model.predict(np.ones((2, 3))),
            Raises(ValueError, ("X has 3 features", "expecting 2 features")),
        ),
    ]
    for label, data, outcome in _x_inputs():
        if "DataFrame" in label:  # fitted on an array: scikit-learn warns, and predicts
            outcome = Warns(UserWarning, ("X has feature names",))
        elif "no rows" in label:
            outcome = Raises(ValueError, ("0 sample(s)",))
        cases.append(Case(entry, label, (lambda d=data: model.predict(d)), outcome or same))
    return cases


CASES = [
    case
    for estimator in (HuberRegressor, RobustRegressor)
    for case in _fit_cases(estimator) + _predict_cases(estimator)
]
