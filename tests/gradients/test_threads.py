"""A provider shared by threads: every call answers for its own point, counts are exact.

Eight threads make 500 calls each at points of their own, with the interpreter switching
threads every 10 µs so that calls interleave at every step; each result is compared
bit for bit with the same call made by a provider used by one thread only.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from gradopt import Analytic, FiniteDifference
from gradopt.gradients import BaseProvider
from tests.forms import provider_factories
from tests.problems import problem

THREADS, CALLS = 8, 500
PROB = problem("rosen-d10-random")
D = PROB.x.size

FACTORIES: dict[str, Callable[[], BaseProvider]] = {
    "analytic": lambda: Analytic(PROB.fun, PROB.grad, PROB.hessp),
    "analytic-fused": lambda: Analytic(
        PROB.fun, value_and_grad=lambda x: (PROB.fun(x), PROB.grad(x))
    ),
    "central": lambda: FiniteDifference(PROB.fun),
    **{n: make for n, make in provider_factories(PROB).items() if n in ("autograd", "jax")},
}
# calls of f per value_and_grad at a new point
NFEV = {"analytic": 1, "analytic-fused": 1, "central": 2 * D + 1}


@pytest.fixture
def switch_often() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def point(thread: int, call: int) -> np.ndarray[Any, Any]:
    return PROB.x + 1e-3 * (thread * CALLS + call)


def run_in_threads(work: Callable[[int], None]) -> None:
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def body(t: int) -> None:
        start.wait()
        try:
            work(t)
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


@pytest.mark.parametrize("name", list(FACTORIES))
def test_value_and_grad_from_eight_threads(name: str, switch_often: None) -> None:
    reference = FACTORIES[name]()
    expected = {
        (t, k): reference.value_and_grad(point(t, k)) for t in range(THREADS) for k in range(CALLS)
    }
    shared = FACTORIES[name]()
    wrong: list[tuple[int, int]] = []

    def work(t: int) -> None:
        for k in range(CALLS):
            f, g = shared.value_and_grad(point(t, k))
            f0, g0 = expected[t, k]
            if not (f == f0 and np.array_equal(g, g0)):
                wrong.append((t, k))

    run_in_threads(work)
    assert wrong == []
    n = THREADS * CALLS
    assert shared.ngev == reference.ngev == n
    assert shared.nfev == reference.nfev == n * NFEV.get(name, 1)


@pytest.mark.parametrize("name", [n for n in FACTORIES if n in ("analytic", "autograd", "jax")])
def test_hessp_and_value_from_eight_threads(name: str, switch_often: None) -> None:
    """Hessian-vector products (nested traces for autograd) and values, interleaved."""
    v = np.cos(np.arange(D))
    reference = FACTORIES[name]()
    shared = FACTORIES[name]()
    wrong: list[tuple[int, int]] = []
    calls = CALLS // 5

    def work(t: int) -> None:
        for k in range(calls):
            x = point(t, k)
            if not np.array_equal(shared.hessp(x, v), reference.hessp(x, v)):
                wrong.append((t, k))
            if shared.value(x) != reference.value(x):
                wrong.append((t, -k))

    run_in_threads(work)
    assert wrong == []
    assert (shared.nhev, shared.nfev, shared.ngev) == (THREADS * calls, THREADS * calls, 0)


def test_error_estimates_stay_with_their_gradients(switch_often: None) -> None:
    """Richardson's error estimate is cached with its gradient, not beside it."""
    reference = FiniteDifference(PROB.fun, method="richardson")
    shared = FiniteDifference(PROB.fun, method="richardson")
    calls = CALLS // 20
    expected = {
        (t, k): reference.grad_and_error(point(t, k)) for t in range(THREADS) for k in range(calls)
    }
    wrong: list[tuple[int, int]] = []

    def work(t: int) -> None:
        for k in range(calls):
            g, err = shared.grad_and_error(point(t, k))
            if not (
                np.array_equal(g, expected[t, k][0]) and np.array_equal(err, expected[t, k][1])
            ):
                wrong.append((t, k))

    run_in_threads(work)
    assert wrong == []
    assert (shared.ngev, shared.nfev) == (THREADS * calls, THREADS * calls * 10 * D)


def test_counts_are_exact_at_one_shared_point(switch_often: None) -> None:
    """Threads asking for the same point: the cache answers most calls, and the counts
    equal the calls actually made (threads that miss together each compute)."""
    calls = {"f": 0, "grad": 0}
    lock = threading.Lock()

    def counted(kind: str, fun: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def call(x: Any) -> Any:
            with lock:
                calls[kind] += 1
            return fun(x)

        return call

    shared = Analytic(counted("f", PROB.fun), counted("grad", PROB.grad))
    run_in_threads(lambda t: [shared.value_and_grad(PROB.x) for _ in range(CALLS)])
    assert (shared.nfev, shared.ngev) == (calls["f"], calls["grad"])
    assert 1 <= shared.ngev <= THREADS and 1 <= shared.nfev <= THREADS


@pytest.mark.parametrize("name", ["central", "richardson", "autograd"])
def test_jacobians_from_eight_threads(name: str, switch_often: None) -> None:
    """Outputs and Jacobians of a vector-valued function: one cache entry replaced whole,
    so each call answers for its own point and the counts are exact. (Autograd on a
    function with fewer outputs than coordinates: always reverse mode; with more, the
    mode of the first calls depends on which thread learns m first.)"""
    vec = problem("two-of-five" if name == "autograd" else "rosen-residuals-d6")
    make: Callable[[], BaseProvider] = {
        "central": lambda: FiniteDifference(vec.fun),
        "richardson": lambda: FiniteDifference(vec.fun, method="richardson"),
        "autograd": provider_factories(vec)["autograd"],
    }[name]
    calls = CALLS // 20
    reference = make()
    expected = {
        (t, k): reference.value_and_jacobian(vec.x + 1e-3 * (t * calls + k))
        for t in range(THREADS)
        for k in range(calls)
    }
    shared = make()
    wrong: list[tuple[int, int]] = []

    def work(t: int) -> None:
        for k in range(calls):
            f, jac = shared.value_and_jacobian(vec.x + 1e-3 * (t * calls + k))
            if not (
                np.array_equal(f, expected[t, k][0]) and np.array_equal(jac, expected[t, k][1])
            ):
                wrong.append((t, k))

    run_in_threads(work)
    assert wrong == []
    assert (shared.njev, shared.nfev) == (reference.njev, reference.nfev)
