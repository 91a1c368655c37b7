"""Parallel and vectorized finite differences: the same gradient as the serial one, bit for bit.

Worker processes cost a few tens of milliseconds to start (fork), so the suite shares one
thread pool and one user process pool per module; ``workers=N`` providers start their own.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from gradopt import FiniteDifference
from gradopt.exceptions import (
    ComplexStepError,
    EvaluationError,
    InvalidInputError,
    NonFiniteEvaluationError,
    ObjectiveError,
)
from gradopt.gradients._groups import Groups
from gradopt.gradients._schemes import Difference, Stencil

METHODS = ["forward", "backward", "central", "complex"]
X = np.linspace(-0.9, 1.3, 7)


def objective(x: Any) -> Any:
    """Smooth, carries complex numbers through; the last axis holds the coordinates."""
    rosen = np.sum(100.0 * (x[..., 1:] - x[..., :-1] ** 2) ** 2 + (1 - x[..., :-1]) ** 2, axis=-1)
    return rosen + np.sum(np.exp(x) * np.sin(x), axis=-1)


def nan_at_coordinate_2(x: Any) -> float:
    return float("nan") if x[2] != X[2] else float(objective(x))


def raise_at_coordinate_2(x: Any) -> float:
    if x[2] != X[2] and abs(x[2] - X[2]) < 1e-3:  # only when x[2] is stepped from X
        raise ValueError("simulation diverged")
    return float(objective(x))


def uses_float(x: Any) -> float:
    return float(np.sum(x**2))


def die(x: Any) -> float:
    if x[0] > 100 and x[0] != X[0] + 200:
        os._exit(3)  # a worker process dies without a word (at perturbed points only)
    return float(np.sum(x))


class Unpicklable(Exception):
    def __init__(self) -> None:
        super().__init__("holds a lock")
        self.lock = threading.Lock()


def raise_unpicklable(x: Any) -> float:
    if x[1] != X[1]:
        raise Unpicklable()
    return float(np.sum(x))


def children() -> set[int]:
    """Process ids of this process's live children (other pools' included)."""
    return {c.pid for c in multiprocessing.active_children() if c.pid is not None}


def make(mode: str, fun: Callable[..., Any], method: str, request: Any) -> FiniteDifference:
    if mode == "threads":
        return FiniteDifference(fun, method, executor=request.getfixturevalue("threads"))  # type: ignore[arg-type]
    if mode == "user processes":
        return FiniteDifference(fun, method, executor=request.getfixturevalue("processes"))  # type: ignore[arg-type]
    if mode in ("workers=2", "workers+timeout"):
        timeout = 30.0 if mode == "workers+timeout" else None
        p = FiniteDifference(fun, method, workers=2, timeout=timeout)  # type: ignore[arg-type]
        request.addfinalizer(p.close)
        return p
    if mode == "vectorized":
        return FiniteDifference(fun, method, vectorized=True)  # type: ignore[arg-type]
    return FiniteDifference(fun, method)  # type: ignore[arg-type]


MODES = ["threads", "user processes", "workers=2", "workers+timeout", "vectorized"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", METHODS)
def test_bit_for_bit_equal_to_serial(mode: str, method: str, request: Any) -> None:
    serial = FiniteDifference(objective, method)  # type: ignore[arg-type]
    f_ref, g_ref = serial.value_and_grad(X)
    par = make(mode, objective, method, request)
    f, g = par.value_and_grad(X)
    assert f == f_ref
    assert np.array_equal(g, g_ref)  # bit for bit, not approximately
    assert (par.nfev, par.ngev) == (serial.nfev, serial.ngev)
    g2 = par.grad(X + 0.25)  # a second gradient reuses the pool
    assert np.array_equal(g2, serial.grad(X + 0.25))


def test_scalar_x_and_value_in_vectorized_mode() -> None:
    p = FiniteDifference(lambda xs: np.sin(xs), vectorized=True)
    assert p.value(1.0) == np.sin(1.0)  # value(x) is a batch of one
    assert p.nfev == 1
    assert abs(float(p.grad(1.0)) - np.cos(1.0)) < 1e-9
    assert p.nfev == 3  # central: 2 points, one call, counted as 2


def test_vectorized_is_one_call_per_gradient() -> None:
    calls: list[tuple[int, ...]] = []

    def batch(xs: Any) -> Any:
        calls.append(xs.shape)
        return objective(xs)

    p = FiniteDifference(batch, "forward", vectorized=True)
    p.value_and_grad(X)
    assert calls == [(1, 7), (7, 7)]
    assert p.nfev == 8


def test_vectorized_wrong_shape() -> None:
    p = FiniteDifference(lambda xs: np.zeros(3), vectorized=True)
    with pytest.raises(ObjectiveError, match=r"return 14 values .* shape \(3,\)"):
        p.grad(X)


def test_one_chunk_per_worker() -> None:
    submitted: list[int] = []

    class Counting(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            submitted.append(len(args[1]))
            return super().submit(fn, *args, **kwargs)

    with Counting(3) as pool:
        FiniteDifference(objective, "central", executor=pool).grad(X)
    assert submitted == [5, 5, 4]  # 14 points in 3 chunks, in order


def test_lambdas_and_closures_go_to_processes() -> None:
    data = np.arange(7.0)
    before = children()
    with FiniteDifference(lambda x: np.sum((x - data) ** 2), "forward", workers=2) as p:
        g = p.grad(X)
    assert np.array_equal(
        g, FiniteDifference(lambda x: np.sum((x - data) ** 2), "forward").grad(X)
    )
    assert children() == before  # leaving the block shut the pool down


@pytest.mark.parametrize("mode", ["workers=2", "user processes"])
def test_function_that_cannot_be_sent(mode: str, request: Any) -> None:
    lock = threading.Lock()

    def locked(x: Any) -> float:
        with lock:
            return float(np.sum(x**2))

    p = make(mode, locked, "central", request)
    with pytest.raises(InvalidInputError, match=r"locked.*cannot be sent to worker.*lock"):
        p.grad(X)


def test_options_are_validated() -> None:
    with pytest.raises(InvalidInputError, match=r"option 'workers'.*positive integer; got 0"):
        FiniteDifference(objective, workers=0)
    with pytest.raises(InvalidInputError, match=r"option 'workers'.*positive integer; got True"):
        FiniteDifference(objective, workers=True)
    with pytest.raises(InvalidInputError, match=r"option 'workers'.*positive integer; got 1.5"):
        FiniteDifference(objective, workers=1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"'executor'.*futures.Executor.*str"):
        FiniteDifference(objective, executor="pool")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"vectorized"):
        FiniteDifference(objective, vectorized="yes")  # type: ignore[arg-type]
    with (
        ThreadPoolExecutor(1) as pool,
        pytest.raises(InvalidInputError, match="either executor or workers"),
    ):
        FiniteDifference(objective, executor=pool, workers=2)


# --------------------------------------------------------------------------- failures
def test_serial_exception_keeps_its_type_with_a_note() -> None:
    p = FiniteDifference(raise_at_coordinate_2, "central")
    with pytest.raises(ValueError, match=r"^simulation diverged") as info:
        p.grad(X)
    assert type(info.value) is ValueError
    assert str(info.value) == "simulation diverged"
    if sys.version_info >= (3, 11):
        assert "coordinate 2" in info.value.__notes__[0]
        assert "raise_at_coordinate_2" in info.value.__notes__[0]
    assert p.nfev == 5  # points of coordinates 0 and 1, then the failing one


@pytest.mark.parametrize("mode", ["threads", "workers=2"])
def test_worker_exception_becomes_evaluation_error(mode: str, request: Any) -> None:
    p = make(mode, raise_at_coordinate_2, "central", request)
    with pytest.raises(EvaluationError, match=r"ValueError at coordinate 2 .*x = \[") as info:
        p.grad(X)
    cause = info.value.__cause__
    assert isinstance(cause, ValueError) and str(cause) == "simulation diverged"
    assert isinstance(info.value, ValueError)  # `except ValueError` still catches it
    assert type(info.value).__name__ == "EvaluationError[ValueError]"
    # Every call is counted: each chunk of 7 points runs until it fails, the first at its
    # 5th point (coordinate 2's first), the second runs through.
    assert p.nfev == 12
    assert np.array_equal(p.grad(X + 3.0), FiniteDifference(raise_at_coordinate_2).grad(X + 3.0))


def test_unpicklable_exception_from_a_worker() -> None:
    with FiniteDifference(raise_unpicklable, "forward", workers=2) as p:
        with pytest.raises(EvaluationError, match="Unpicklable at coordinate 1") as info:
            p.grad(X)
        assert "holds a lock" in str(info.value)
        assert "could not be sent back" in str(info.value.__cause__)
        assert "Traceback" in str(info.value.__cause__.__cause__)  # the worker's traceback


def test_dead_worker_neither_hangs_nor_leaks() -> None:
    before = children()
    p = FiniteDifference(die, "forward", workers=2)
    with pytest.raises(EvaluationError, match="BrokenProcessPool"):
        p.grad(X + 200)
    assert np.array_equal(p.grad(X), FiniteDifference(die, "forward").grad(X))  # a fresh pool
    p.close()
    assert children() == before


def test_pool_is_shut_down_when_the_provider_is_collected() -> None:
    before = children()
    p = FiniteDifference(objective, workers=2)
    p.grad(X)
    assert len(children() - before) == 2
    del p
    gc.collect()
    assert children() == before


def test_closed_pool_starts_again() -> None:
    before = children()
    p = FiniteDifference(objective, workers=2)
    g = p.grad(X)
    p.close()
    p.close()  # idempotent
    assert children() == before
    assert np.array_equal(p.grad(X + 0.0 * X), g)  # cached at the same x: no pool needed
    assert np.array_equal(p.grad(X + 1.0), FiniteDifference(objective).grad(X + 1.0))
    p.close()


@pytest.mark.parametrize("mode", ["serial", *MODES])
def test_non_finite_value_names_coordinate(mode: str, request: Any) -> None:
    fun: Callable[..., Any] = nan_at_coordinate_2
    if mode == "vectorized":
        fun = lambda xs: np.where(xs[:, 2] != X[2], np.nan, objective(xs))  # noqa: E731
    p = make(mode, fun, "forward", request)
    with pytest.raises(NonFiniteEvaluationError, match=r"returned nan at coordinate 2 \(x\[2\]"):
        p.grad(X)


@pytest.mark.parametrize("mode", ["serial", "threads", "workers=2", "vectorized"])
def test_complex_step_needs_complex_arithmetic_in_every_mode(mode: str, request: Any) -> None:
    fun: Callable[..., Any] = uses_float
    if mode == "vectorized":
        fun = lambda xs: np.array([float(np.sum(r**2)) for r in xs])  # noqa: E731
    p = make(mode, fun, "complex", request)
    with pytest.raises(ComplexStepError, match="does not accept complex input"):
        p.grad(X)


# ------------------------------------------------------------------ careless objectives
CARELESS = {
    # what f returns at the stepped points of coordinate 1, and what the error must name
    "None": (None, r"returned .*None"),
    "string": ("5.0", r"returned .*str"),
    "list": ([1.0, 2.0], r"returned (a list|an array of shape \(2,\))"),
    "dict": ({"a": 1.0}, r"returned .*dict"),
    "shape (2,)": (np.array([1.0, 2.0]), r"returned an array of shape \(2,\)"),
    "complex": (1.0 + 2.0j, r"returned .*complex"),
}


def careless(bad: Any, vectorized: bool) -> Callable[..., Any]:
    def one(x: Any) -> Any:
        return bad if x[1] != X[1] else float(objective(x))

    def batch(xs: Any) -> Any:
        return [one(x) for x in xs]

    return batch if vectorized else one


@pytest.mark.parametrize("mode", ["serial", *MODES])
@pytest.mark.parametrize("case", list(CARELESS))
def test_careless_objective_names_what_it_returned_and_where(
    mode: str, case: str, request: Any
) -> None:
    """Every mode checks values as value() does: nothing becomes NaN or a number silently."""
    bad, what = CARELESS[case]
    p = make(mode, careless(bad, mode == "vectorized"), "central", request)
    with pytest.raises(ObjectiveError, match=what) as info:
        p.grad(X)
    message = str(info.value)
    assert "coordinate 1 (x[1] = " in message and "central difference at x = [" in message
    assert type(info.value) is ObjectiveError  # not NonFiniteEvaluationError: None is not NaN
    with pytest.raises(ObjectiveError, match=what):
        p.value(X + 1.0)  # value() refuses the same thing (here f returns `bad` everywhere)


def test_vectorized_batch_that_is_not_k_values() -> None:
    cases = [(None, "None"), ("abc", "a str of length 3"), (3.0, "an object of type float")]
    for out, what in cases:
        p = FiniteDifference(lambda xs, out=out: out, vectorized=True)
        with pytest.raises(ObjectiveError, match=r"return 14 values .* it returned " + what):
            p.grad(X)


class SimulationError(Exception):
    """An exception whose __init__ takes more than a message (pickle alone loses `code`)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def fail_with_code(x: Any) -> float:
    if x[1] != X[1]:
        raise SimulationError("solver diverged", code=42)
    return float(objective(x))


def open_missing_file(x: Any) -> float:
    if x[1] != X[1]:
        open("/nonexistent/gradopt/input.dat")  # noqa: SIM115
    return float(objective(x))


@pytest.mark.parametrize("mode", ["threads", "user processes", "workers=2"])
def test_worker_errors_keep_their_attributes(mode: str, request: Any) -> None:
    with pytest.raises(SimulationError, match="SimulationError at coordinate 1") as info:
        make(mode, fail_with_code, "forward", request).grad(X)
    assert isinstance(info.value, EvaluationError)
    assert info.value.code == 42  # type: ignore[attr-defined]
    assert isinstance(info.value.__cause__, SimulationError)
    with pytest.raises(FileNotFoundError) as missing:
        make(mode, open_missing_file, "forward", request).grad(X)
    assert missing.value.errno == 2
    assert missing.value.filename == "/nonexistent/gradopt/input.dat"


def test_executor_shut_down_by_its_owner() -> None:
    pool = ThreadPoolExecutor(2)
    pool.shutdown()
    with pytest.raises(EvaluationError, match=r"executor failed.*cannot schedule"):
        FiniteDifference(objective, executor=pool).grad(X)


def test_any_executor_subclass_works() -> None:
    class Inline(Executor):
        """Runs each task at once in the calling thread (a test double)."""

        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            fut: Future[Any] = Future()
            fut.set_result(fn(*args, **kwargs))
            return fut

    p = FiniteDifference(lambda x: objective(x), "central", executor=Inline())
    assert np.array_equal(p.grad(X), FiniteDifference(objective).grad(X))


#: A new formula is one Difference: x ± h, x ± 2h per coordinate (fourth order).
FIVE_POINT = Difference(
    "five-point", 1e-3, (1.0, -1.0, 2.0, -2.0), (8 / 12, -8 / 12, -1 / 12, 1 / 12)
)


@pytest.mark.parametrize("mode", MODES)
def test_any_scheme_with_the_interface_runs_in_parallel(mode: str, request: Any) -> None:
    """What a new scheme (e.g. Richardson) gets for free: every evaluator, bit for bit."""
    h = np.full(X.size, 1e-3)
    serial = FiniteDifference(objective)
    par = make(mode, objective, "central", request)
    groups = Groups.each(X.size)
    expected = serial._evaluate_points(X, h, FIVE_POINT, groups, False)
    assert np.array_equal(par._evaluate_points(X, h, FIVE_POINT, groups, False), expected)
    assert par.nfev == serial.nfev == 4 * X.size
    g = FIVE_POINT.combine(expected, Stencil(X, h, groups)).value[0]
    np.testing.assert_allclose(g, FiniteDifference(objective, "richardson").grad(X), rtol=1e-9)


@pytest.mark.parametrize("where", ["threads", "workers=2"])
def test_vectorized_chunks_on_workers(where: str, request: Any) -> None:
    """With an executor, a vectorized f gets one call per chunk (one per worker)."""
    serial = FiniteDifference(objective, "central")
    kwargs: dict[str, Any] = {"workers": 2} if where == "workers=2" else {}
    if where == "threads":
        kwargs["executor"] = request.getfixturevalue("threads")
    with FiniteDifference(objective, "central", vectorized=True, **kwargs) as p:
        assert np.array_equal(p.grad(X), serial.grad(X))
        assert p.value(X) == serial.value(X)  # a batch of one, in this process
        assert p.nfev == serial.nfev


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_no_workers_outlive_a_script_that_never_closes() -> None:
    """A script that forgets close() exits promptly, and its workers with it."""
    import subprocess
    import time

    script = (
        "import numpy as np\n"
        "from gradopt import FiniteDifference\n"
        "p = FiniteDifference(lambda x: float(np.sum(x**2)), workers=2)\n"
        "p.grad(np.ones(4))\n"
        "print(' '.join(str(q.pid) for q in p._calls.evaluator._pool._processes))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env
    )
    assert out.returncode == 0, out.stderr
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 10
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [p for p in pids if _alive(p)]
        time.sleep(0.05)
    assert alive == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is not alive
        return stat.read().split()[2] != "Z"
