"""The bad-input tables of the docs: every public entry point tried with careless input.

Nothing here is written by hand but the cases: each one is *run* when the docs are built,
and its table cell is what happened (the exception and its message, or what came back),
so the page cannot drift from the code. ``python docs/_ext/bad_input_cases.py`` prints
the tables as reStructuredText.
"""

from __future__ import annotations

import contextlib
import io
import signal
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import autograd.numpy as anp
import numpy as np

SECONDS = 20  # a case that takes longer is reported as "no answer"


@dataclass
class Outcome:
    kind: str  # "ok", "fails" (success=False), "raises", "hangs"
    short: str  # the matrix cell
    detail: str  # the message


def _run(case: Callable[[], Any]) -> Outcome:
    def alarm(signum: int, frame: Any) -> None:
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, SECONDS)
    try:
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
            warnings.simplefilter("always")
            result = case()
    except TimeoutError:
        return Outcome("hangs", f"no answer in {SECONDS} s", "")
    except BaseException as exc:  # what the user would see
        return Outcome("raises", f"{type(exc).__name__}{_origin(exc)}", _one_line(exc))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    seen = sorted({f"{w.category.__name__}: {_one_line(w.message)}" for w in caught})
    warned = f" (warns {', '.join(s.split(':')[0] for s in seen)})" if seen else ""
    notes = "; ".join(seen)
    if hasattr(result, "success") and not result.success:
        return Outcome("fails", "success=False" + warned, _one_line(result.message) + notes)
    return Outcome("ok", "returns" + warned, _describe(result) + (f"; {notes}" if notes else ""))


def _origin(exc: BaseException) -> str:
    """Where an exception that is not gradopt's own class was raised, as a note."""
    if type(exc).__module__.startswith("gradopt"):
        return ""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    path = tb.tb_frame.f_code.co_filename if tb is not None else ""
    if path == __file__:
        return " (f's own, passed on)"
    for package, note in (
        ("/gradopt/", "gradopt"),
        ("/sklearn/", "scikit-learn's input check"),
        ("/autograd/", "from autograd"),
        ("/numpy/", "from numpy"),
        ("/scipy/", "from scipy"),
    ):
        if package in path:
            return f" ({note})"
    return " (not gradopt's)"


def _one_line(message: object, limit: int = 240) -> str:
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(result: Any) -> str:
    if hasattr(result, "x") and hasattr(result, "fun"):
        return f"x = {np.round(result.x, 6)}, {_one_line(result.message)}"
    if isinstance(result, tuple):
        return ", ".join(_describe(r) for r in result)
    if hasattr(result, "coef_"):
        return f"fitted: coef_ = {np.round(result.coef_, 3)}"
    return _one_line(repr(result), 120)


# --- functions and points -------------------------------------------------------------


def f(x: Any) -> Any:
    return anp.sum(x**2)


def f_jax(x: Any) -> Any:
    import jax.numpy as jnp

    return jnp.sum(x**2)


def g(x: Any) -> Any:
    return 2 * np.asarray(x)


def _nan_after(k: int) -> Callable[[Any], Any]:
    calls = [0]

    def fun(x: Any) -> Any:
        calls[0] += 1
        return np.nan if calls[0] > k else float(np.sum(np.asarray(x) ** 2))

    return fun


def _raises(x: Any) -> Any:
    raise ValueError("the simulation diverged")


GOOD = np.array([1.0, 2.0])
#: (column, f, x): the careless inputs, each with the function and the point to use.
POINT_INPUTS: list[tuple[str, Callable[[], Callable[[Any], Any]], Any]] = [
    ("NaN in x", lambda: f, np.array([1.0, np.nan])),
    ("inf in x", lambda: f, np.array([1.0, np.inf])),
    ("empty x", lambda: f, np.array([])),
    ("2-D x", lambda: f, np.ones((2, 2))),
    ("strings", lambda: f, ["1", "2"]),
    ("object array", lambda: f, np.array([1.0, None], dtype=object)),
    ("complex x", lambda: f, np.array([1 + 1j, 2.0])),
    ("0-d x", lambda: f, np.float64(1.5)),
    ("a list", lambda: f, [1.0, 2.0]),
    ("f raises", lambda: _raises, GOOD),
    ("f returns None", lambda: lambda x: None, GOOD),
    ("f returns an array", lambda: lambda x: np.asarray(x) * 1.0, GOOD),
    ("f NaN after 3 calls", lambda: _nan_after(3), GOOD),
]


def _point_entries() -> dict[str, Callable[[Callable[[Any], Any], Any], Any]]:
    from gradopt import Analytic, Autograd, FiniteDifference, Jax, check_gradient, minimize
    from gradopt.analysis import step_error

    def grad_of(fun: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return g if fun is f else (lambda x: np.zeros(np.shape(x)) if fun(x) is None else g(x))

    return {
        "Analytic(f, g).value_and_grad(x)": lambda fun, x: Analytic(
            fun, grad_of(fun)
        ).value_and_grad(x),
        "FiniteDifference(f).value_and_grad(x)": lambda fun, x: FiniteDifference(
            fun
        ).value_and_grad(x),
        'FiniteDifference(f, "complex").grad(x)': lambda fun, x: FiniteDifference(
            fun, method="complex"
        ).grad(x),
        'FiniteDifference(f, "richardson").grad_and_error(x)': lambda fun, x: FiniteDifference(
            fun, method="richardson"
        ).grad_and_error(x),
        "Autograd(f).value_and_grad(x)": lambda fun, x: Autograd(fun).value_and_grad(x),
        "Jax(f).value_and_grad(x)": lambda fun, x: Jax(f_jax if fun is f else fun).value_and_grad(
            x
        ),
        "minimize(FiniteDifference(f), x)": lambda fun, x: minimize(FiniteDifference(fun), x),
        'minimize(Analytic(f, g), x, method="gradient-descent")': lambda fun, x: minimize(
            Analytic(fun, grad_of(fun)), x, method="gradient-descent"
        ),
        "check_gradient(f, g, x)": lambda fun, x: check_gradient(fun, grad_of(fun), x),
        "step_error(f, x, derivative=3.0)": lambda fun, x: step_error(fun, x, 3.0),
    }


# --- data for the estimators ------------------------------------------------------------

_RNG = np.random.default_rng(0)
_X = _RNG.normal(size=(40, 2))
_Y = _X @ [1.0, -2.0] + 0.1 * _RNG.normal(size=40)


def _with(a: Any, index: Any, value: Any, dtype: Any = None) -> Any:
    out = np.array(a, dtype=dtype if dtype is not None else np.asarray(a).dtype)
    out[index] = value
    return out


DATA_INPUTS: list[tuple[str, Any, Any]] = [
    ("NaN in X", _with(_X, (0, 0), np.nan), _Y),
    ("inf in X", _with(_X, (0, 0), np.inf), _Y),
    ("empty X", np.empty((0, 2)), np.empty(0)),
    ("1-D X", _X[:, 0], _Y),
    ("strings in X", _with(_X, (0, 0), "a", dtype=object), _Y),
    ("complex X", _X + 1j, _Y),
    ("NaN in y", _X, _with(_Y, 3, np.nan)),
    ("y too short", _X, _Y[:-1]),
    ("constant y", _X, np.ones(40)),
    ("one row", _X[:1], _Y[:1]),
    ("lists", _X.tolist(), _Y.tolist()),
]


def _data_entries() -> dict[str, Callable[[Any, Any], Any]]:
    from gradopt.linear_model import HuberRegressor, RobustRegressor

    return {
        "HuberRegressor().fit(X, y)": lambda X, y: HuberRegressor().fit(X, y),
        'HuberRegressor(gradient="autograd").fit(X, y)': lambda X, y: HuberRegressor(
            gradient="autograd"
        ).fit(X, y),
        "RobustRegressor().fit(X, y)": lambda X, y: RobustRegressor().fit(X, y),
        'RobustRegressor(method="MM").fit(X, y)': lambda X, y: RobustRegressor(
            method="MM", random_state=0
        ).fit(X, y),
    }


# --- the command line -------------------------------------------------------------------

CLI_CASES = [
    ["demo", "--n-samples", "0"],
    ["demo", "--outlier-fraction", "1.5"],
    ["demo", "--data", "/nonexistent.csv", "--target", "y"],
    ["demo", "--data", "/dev/zero", "--target", "y"],
    ["demo", "--epsilon", "nan"],
    ["demo", "--mode", "robust", "--alpha", "0.1"],
    ["step-error", "--function", "cosh"],
    ["step-error", "--x0", "1,nan"],
    ["step-error", "--function", "rosen", "--x0", "1"],
    ["step-error", "--x0", "1", "--component", "3"],
    ["step-error", "--plot", "/nonexistent/dir/out.png"],
    ["check-grad", "os:system('ls')", "m:g", "--x0", "1"],
    ["check-grad", "no_such_module:f", "no_such_module:g", "--x0", "1"],
    ["check-grad", "math:fsum", "math:fsum", "--x0", "1,2"],
    ["check-grad", "math:f", "math:g"],
]


def _cli(argv: list[str]) -> tuple[str, str]:
    from gradopt.cli import main

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 2
    lines = err.getvalue().strip().splitlines()
    return f"exit {status}", " / ".join(lines) if lines else _one_line(out.getvalue(), 120)


# --- rendering --------------------------------------------------------------------------


def _table(title: str, columns: list[str], rows: list[list[str]], widths: str) -> str:
    lines = [
        f".. list-table:: {title}".rstrip(),
        "   :header-rows: 1",
        f"   :widths: {widths}",
        "",
    ]
    for row in [columns, *rows]:
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" for cell in row[1:]]
    return "\n".join(lines) + "\n\n"


def _literal(text: str) -> str:
    return "``" + text.replace("`", "'") + "``" if text else ""


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("`", "'").replace("_", "\\_")


def _matrix(
    title: str,
    entries: dict[str, Callable[..., Any]],
    inputs: list[tuple[str, Any, Any]],
    call: Callable[[Callable[..., Any], Any, Any], Any],
) -> str:
    outcomes = {
        (entry, label): _run(lambda fn=fn, a=a, b=b: call(fn, a, b))
        for entry, fn in entries.items()
        for label, a, b in inputs
    }
    out = [f"{title}\n{'-' * len(title)}\n\n"]
    for entry in entries:
        rows = [
            [_escape(label), outcomes[entry, label].short, _literal(outcomes[entry, label].detail)]
            for label, _, _ in inputs
        ]
        heading = _literal(entry)
        out.append(f"{heading}\n{'~' * len(heading)}\n\n")
        out.append(_table("", ["input", "outcome", "message"], rows, "18 22 60"))
    return "".join(out)


def render() -> str:
    """The tables as reStructuredText (run every case)."""
    points = _matrix(
        "Functions and points",
        _point_entries(),
        POINT_INPUTS,
        lambda entry, make, x: entry(make(), x),  # a fresh f for every case
    )
    data = _matrix(
        "Data for the estimators",
        _data_entries(),
        DATA_INPUTS,
        lambda entry, X, y: entry(X, y),
    )
    cli_rows = []
    for argv in CLI_CASES:
        status, message = _cli(argv)
        cli_rows.append([_literal("gradopt " + " ".join(argv)), status, _literal(message)])
    cli = "The command line\n----------------\n\n" + _table(
        "``gradopt`` with bad input", ["command", "status", "stderr"], cli_rows, "35 8 57"
    )
    return points + data + cli


if __name__ == "__main__":
    print(render())
