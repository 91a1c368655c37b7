"""Worker processes under failure: hung evaluations, Ctrl-C, failed starts, close(), exit.

Each test counts this process's descendants (psutil) before and after: nothing started
for an evaluation may outlive it. Hung evaluations sleep for a minute on the workers
only (``value(x)`` runs here unless a timeout is set), so a test that waited for one
would hit its time limit instead of passing.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest

from gradopt import FiniteDifference, minimize
from gradopt.exceptions import EvaluationError, EvaluationTimeoutError, InvalidInputError
from gradopt.gradients import _evaluators, _pool

X = np.linspace(-0.9, 1.3, 5)
PARENT = os.getpid()
HANG = 60.0
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="signals and process groups")


def descendants() -> set[int]:
    """Live (not zombie) descendants of this process."""
    alive = set()
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                alive.add(p.pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def settled(before: set[int], expected: int = 0, timeout: float = 2.0) -> set[int]:
    """Descendants not in `before`, once there are `expected` of them (or time is up):
    processes that are exiting take a moment to go."""
    deadline = time.monotonic() + timeout
    extra = descendants() - before
    while len(extra) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
        extra = descendants() - before
    return extra


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def before() -> Iterator[set[int]]:
    pids = descendants()
    yield pids
    assert settled(pids) == set()  # every test leaves nothing behind


def smooth(x: Any) -> float:
    return float(np.sum(x**2) + np.sum(np.sin(x)))


def hang_at_coordinate_2(x: Any) -> float:
    if os.getpid() != PARENT and x[2] != X[2] and abs(x[2] - X[2]) < 1e-3:
        time.sleep(HANG)
    return smooth(x)


def hang_on_workers(x: Any) -> float:
    if os.getpid() != PARENT:
        time.sleep(HANG)
    return smooth(x)


def workers_of(p: FiniteDifference) -> list[int]:
    pool = p._calls.evaluator._pool  # type: ignore[attr-defined]
    return [] if pool is None else [q.pid for q in pool._processes]


# --------------------------------------------------------------------------- timeouts
def test_timeout_names_the_point_and_replaces_the_pool(before: set[int]) -> None:
    p = FiniteDifference(hang_at_coordinate_2, workers=2, timeout=0.5)
    start = time.monotonic()
    with pytest.raises(
        EvaluationTimeoutError, match=r"timeout=0.5 s at coordinate 2 \(x\[2\] = 0.2\d* stepped"
    ) as info:
        p.grad(X)
    assert time.monotonic() - start < 3.0
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, EvaluationError)
    assert "worker processes were stopped" in str(info.value)
    assert settled(before) == set()  # the hung worker and its sibling are gone
    assert p.nfev == 6  # coordinates 0, 1 and the hung point, one more in flight
    g = p.grad(X + 1.0)  # usable: a new pool
    assert np.array_equal(g, FiniteDifference(smooth).grad(X + 1.0))
    assert len(settled(before, 2)) == 2
    p.close()


def test_timeout_applies_to_value_and_stops_what_f_started(
    before: set[int], tmp_path: Path
) -> None:
    """value(x) runs on the workers too, and a program f started goes with its worker."""
    pid_file = tmp_path / "sleeper.pid"

    def start_a_program_and_hang(x: Any) -> float:
        if os.getpid() != PARENT:
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            pid_file.write_text(str(child.pid))
            time.sleep(HANG)
        return smooth(x)

    p = FiniteDifference(start_a_program_and_hang, "forward", workers=2, timeout=0.5)
    with pytest.raises(EvaluationTimeoutError, match=r"at x = \[-0.9 , -0.35"):
        p.value(X)
    assert p.nfev == 1
    sleeper = int(pid_file.read_text())
    deadline = time.monotonic() + 2.0
    while not gone(sleeper) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert gone(sleeper)


def test_timeout_on_a_vectorized_batch(before: set[int]) -> None:
    def batch(xs: Any) -> Any:
        if os.getpid() != PARENT and len(xs) > 1:
            time.sleep(HANG)
        return np.sum(xs**2, axis=1)

    with FiniteDifference(batch, workers=2, vectorized=True, timeout=0.5) as p:
        with pytest.raises(EvaluationTimeoutError, match=r"a batch of points 0..4 of the central"):
            p.grad(X)
        assert p.value(X) == np.sum(X**2)  # a batch of one, on a new pool


def test_timeout_on_threads_returns_but_cannot_stop_the_thread() -> None:
    def slow(x: Any) -> float:
        if threading.current_thread() is not threading.main_thread():
            time.sleep(1.5)
        return smooth(x)

    with ThreadPoolExecutor(2) as pool:
        p = FiniteDifference(slow, executor=pool, timeout=0.2)
        start = time.monotonic()
        with pytest.raises(EvaluationTimeoutError, match="still be running on your executor"):
            p.grad(X)
        assert time.monotonic() - start < 1.0  # the threads run on, another second


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"timeout": 1.0}, "timeout needs workers=N or executor"),
        ({"timeout": 1.0, "vectorized": True}, "timeout needs workers=N or executor"),
        ({"timeout": 0, "workers": 1}, "positive number of seconds; got 0"),
        ({"timeout": -1.0, "workers": 1}, "positive number of seconds; got -1.0"),
        ({"timeout": float("nan"), "workers": 1}, "positive number of seconds; got nan"),
        ({"timeout": "1", "workers": 1}, "positive number of seconds; got '1'"),
        ({"timeout": True, "workers": 1}, "positive number of seconds; got True"),
    ],
)
def test_timeout_is_validated(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        FiniteDifference(smooth, **kwargs)


# --------------------------------------------------------------------- stopping pools
@posix_only
def test_close_stops_hung_workers(before: set[int]) -> None:
    p = FiniteDifference(hang_on_workers, workers=2)
    errors: list[BaseException] = []

    def compute() -> None:
        try:
            p.grad(X)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=compute)
    thread.start()
    deadline = time.monotonic() + 5.0
    while len(workers_of(p)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # the workers are inside f now
    start = time.monotonic()
    p.close()
    assert time.monotonic() - start < 2.0
    thread.join(5.0)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], EvaluationError)
    assert "worker processes were stopped (by close()" in str(errors[0])


def test_keyboard_interrupt_during_an_evaluation_stops_the_pool(
    before: set[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the parent waits for its workers: they are stopped, the error re-raised."""
    real_wait = _evaluators.wait

    def interrupted_wait(futures: Any, **kwargs: Any) -> Any:
        real_wait(futures, timeout=0.3)  # the hung point is running by then
        raise KeyboardInterrupt

    p = FiniteDifference(hang_at_coordinate_2, workers=2)
    monkeypatch.setattr(_evaluators, "wait", interrupted_wait)
    with pytest.raises(KeyboardInterrupt):
        p.grad(X)
    assert settled(before) == set()
    monkeypatch.undo()
    g = p.grad(X + 1)  # the provider stays usable, with a new pool
    assert np.array_equal(g, FiniteDifference(smooth).grad(X + 1))
    p.close()


def test_interrupted_minimize_hands_back_the_last_iterate(before: set[int]) -> None:
    """Ctrl-C between evaluations (here raised by the callback at iteration 3)."""
    seen: list[Any] = []

    def callback(intermediate_result: Any) -> None:
        seen.append(intermediate_result)
        if intermediate_result.nit == 3:
            raise KeyboardInterrupt

    p = FiniteDifference(smooth, workers=2)
    with pytest.raises(KeyboardInterrupt) as info:
        minimize(p, np.full(4, 2.0), callback=callback)
    last = info.value.intermediate_result  # type: ignore[attr-defined]
    assert last.nit == 3 and np.array_equal(last.x, seen[-1].x) and last.fun == seen[-1].fun
    assert workers_of(p) == []  # minimize closed the provider's pool
    if sys.version_info >= (3, 11):
        assert "interrupted after iteration 3" in info.value.__notes__[-1]


def test_interrupt_before_the_first_iteration() -> None:
    def interrupt(x: Any) -> float:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as info:
        minimize(FiniteDifference(interrupt), np.ones(2))
    assert info.value.intermediate_result is None  # type: ignore[attr-defined]


# ------------------------------------------------------------------- starting pools
class FailingContext:
    """A multiprocessing context whose `n`-th process fails to start (as fork does under
    a process limit)."""

    def __init__(self, n: int) -> None:
        import multiprocessing

        self.real = multiprocessing.get_context()
        self.n, self.started = n, 0
        outer = self

        class Process(self.real.Process):  # type: ignore[name-defined,misc]
            def start(self) -> None:
                outer.started += 1
                if outer.started == outer.n:
                    raise BlockingIOError(11, "Resource temporarily unavailable")
                super().start()

        self.Process = Process

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_failed_start_leaves_nothing_behind(
    before: set[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_pool, "mp_context", lambda: FailingContext(2))
    p = FiniteDifference(smooth, workers=2)
    with pytest.raises(
        EvaluationError, match=r"could not start a pool of 2 worker processes .*BlockingIOError"
    ):
        p.grad(X)
    assert settled(before) == set()  # the first worker, started, was stopped
    monkeypatch.undo()
    assert np.array_equal(p.grad(X), FiniteDifference(smooth).grad(X))
    p.close()


def _refuse_to_load(text: str) -> Any:
    raise ModuleNotFoundError(text)


class LoadsNowhere:
    """A picklable callable that cannot be unpickled (its module is missing there)."""

    def __call__(self, x: Any) -> float:
        return smooth(x)

    def __reduce__(self) -> Any:
        return (_refuse_to_load, ("No module named 'simulation'",))


def test_function_that_cannot_be_loaded_on_the_workers(before: set[int]) -> None:
    p = FiniteDifference(LoadsNowhere(), workers=2)
    with pytest.raises(InvalidInputError, match=r"could not be loaded in a worker.*'simulation'"):
        p.grad(X)


def test_pool_size_is_capped(before: set[int], monkeypatch: pytest.MonkeyPatch) -> None:
    with FiniteDifference(smooth, "forward", workers=64) as p:
        p.grad(X[:1])  # one point per gradient: one worker, not 64
        assert len(settled(before, 1)) == 1
    monkeypatch.setattr(_pool, "cpu_ceiling", lambda: 3)
    with FiniteDifference(smooth, workers=10**6) as p:
        p.grad(X)  # 10 points, 3 CPUs
        assert len(settled(before, 3)) == 3
    with FiniteDifference(smooth, "forward", workers=3) as p:
        p.grad(X[:2])
        assert len(workers_of(p)) == 2
        p.grad(X)  # more points than workers: the pool grows to its ceiling
        assert len(workers_of(p)) == 3 and len(settled(before, 3)) == 3


# ------------------------------------------------------------------------- pickling
def test_pickled_provider_leaves_its_pool_behind(before: set[int]) -> None:
    with FiniteDifference(smooth, workers=2) as p:
        g = p.grad(X)
        copy = pickle.loads(pickle.dumps(p))
        assert workers_of(copy) == [] and len(workers_of(p)) == 2
        assert np.array_equal(copy.grad(X + 1), p.grad(X + 1))  # its own pool
        assert set(workers_of(copy)).isdisjoint(workers_of(p))
        copy.close()
        assert np.array_equal(p.grad(X), g)


def test_provider_with_your_executor_does_not_pickle() -> None:
    with ThreadPoolExecutor(1) as pool:
        p = FiniteDifference(smooth, executor=pool)
        with pytest.raises(TypeError, match=r"executor=ThreadPoolExecutor\(...\) cannot be"):
            pickle.dumps(p)


# ------------------------------------------------------------- whole interpreters
def _run(script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@posix_only
def test_sigint_to_the_parent_alone_stops_minimize_and_its_workers(tmp_path: Path) -> None:
    flag = tmp_path / "hang"
    proc = _run(
        """
        import os, sys, time, multiprocessing
        import numpy as np
        from gradopt import FiniteDifference, minimize

        PARENT, FLAG = os.getpid(), sys.argv[1]

        def f(x):
            if os.getpid() != PARENT and os.path.exists(FLAG):
                time.sleep(60)  # hangs from the third iteration on
            return float(np.sum((x - 3.0) ** 2) + np.sum(x**4))

        def callback(intermediate_result):
            if intermediate_result.nit == 2:
                open(FLAG, "w").close()

        try:
            minimize(FiniteDifference(f, workers=2), np.zeros(4), callback=callback)
        except KeyboardInterrupt as exc:
            last = exc.intermediate_result
            print("interrupted", last.nit, len(multiprocessing.active_children()), flush=True)
            sys.exit(5)
        """,
        str(flag),
    )
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 20
    while not flag.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # both workers are inside f, hung
    workers = parent.children(recursive=True)
    assert len(workers) == 2
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)  # to the parent only, not its process group
    out, err = proc.communicate(timeout=10)
    assert time.monotonic() - start < 5.0  # about 0.5 s: stop the workers, exit
    assert proc.returncode == 5, err
    assert out.split() == ["interrupted", "2", "0"]
    assert not [w.pid for w in workers if psutil.pid_exists(w.pid)]


@posix_only
def test_exit_waits_for_no_hung_worker_and_no_failed_start() -> None:
    """A script that hits a failed pool start, then leaves a hung evaluation running in
    a thread and never closes, exits promptly and takes every worker with it."""
    proc = _run(
        """
        import os, time, threading
        import numpy as np
        from gradopt import FiniteDifference
        from gradopt.gradients import _pool

        PARENT = os.getpid()

        def f(x):
            if os.getpid() != PARENT:
                time.sleep(60)
            return float(np.sum(x**2))

        real = _pool.mp_context
        class Failing(type(real())):
            class Process(real().Process):
                def start(self):
                    raise OSError("no more processes")
        _pool.mp_context = Failing
        try:
            FiniteDifference(f, workers=2).grad(np.ones(3))
        except Exception as exc:
            print(type(exc).__name__, flush=True)
        _pool.mp_context = real

        p = FiniteDifference(f, workers=2)
        threading.Thread(target=lambda: p.grad(np.ones(3)), daemon=False).start()
        while p._calls.evaluator._pool is None:
            time.sleep(0.01)
        time.sleep(0.2)
        print(*[w.pid for w in p._calls.evaluator._pool._processes], flush=True)
        """
    )
    out, err = proc.communicate(timeout=20)
    lines = out.splitlines()
    assert lines[0] == "EvaluationError", err
    workers = [int(pid) for pid in lines[1].split()]
    assert len(workers) == 2
    assert proc.returncode == 0, err
    assert not [pid for pid in workers if psutil.pid_exists(pid)]
