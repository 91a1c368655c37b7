"""Property tests: every gradient method on random smooth expression trees, d = 1..30.

Each tree (:mod:`tests.trees.nodes`) is realised in the form each backend needs (numpy for
finite differences, ``autograd.numpy`` for Autograd, ``jax.numpy`` for Jax, a sympy
expression for Symbolic) and
checked against its true derivatives, computed in extended precision
(:mod:`tests.trees.jets`), within the method's theoretical tolerance
(:mod:`tests.trees.reference`): rounding bounds from running error analysis, truncation
errors measured by running the same formula in extended precision. The planted-error
tests at the end show that these tolerances reject a method that is slightly wrong.

Run ``HYPOTHESIS_PROFILE=thorough`` for 2,000 examples per property (see tests/profiles.py).
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import Phase, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning

from gradopt import Autograd, FiniteDifference, Jax, Symbolic
from tests.profiles import scaled
from tests.trees.jets import Analysis, analyse
from tests.trees.nodes import (
    Binary,
    Const,
    MatVec,
    Root,
    Tree,
    Unary,
    Var,
    realise,
    to_sympy,
    trees,
)
from tests.trees.reference import (
    EXTENDED,
    complex_step_tolerance,
    difference_tolerance,
    hessp_tolerance,
    is_moderate,
    richardson_tolerance,
)

pytestmark = pytest.mark.skipif(
    not EXTENDED,
    reason="the reference derivatives need numpy.longdouble with a 64-bit significand "
    "(x86-64); here it is float64 itself, which would check float64 against itself",
)


EPS = float(np.finfo(np.float64).eps)


class Recorder:
    """Wraps f: counts its calls and keeps the points (for the steps actually taken; a
    traced argument, which must not be converted to an array, is counted as None)."""

    def __init__(self, fun: Callable[[Any], Any]) -> None:
        self.fun = fun
        self.points: list[np.ndarray[Any, Any] | None] = []

    def __call__(self, x: Any) -> Any:
        self.points.append(np.array(x, copy=True) if isinstance(x, np.ndarray) else None)
        return self.fun(x)

    @property
    def calls(self) -> int:
        return len(self.points)


def truth_of(tree: Tree) -> Analysis:
    """The tree's exact gradient and rounding bounds; trees that overflow are skipped."""
    with np.errstate(all="ignore"):
        truth = analyse(tree)
    assume(is_moderate(truth))
    return truth


def within(g: Any, truth: Analysis, tol: Any) -> None:
    """Assert ``|g - truth| <= tol`` componentwise, naming the worst component."""
    err = np.abs(np.asarray(g, dtype=np.float64) - truth.grad)
    excess = err - tol
    j = int(np.argmax(excess))
    assert excess[j] <= 0, (
        f"component {j}: error {err[j]:.3g} > tolerance {tol[j]:.3g} "
        f"(truth {truth.grad[j]:.17g}, got {np.ravel(g)[j]:.17g})"
    )


# ------------------------------------------------------------------ agreement with truth
def exact_methods(tree: Tree) -> dict[str, Any]:
    """Gradients from the methods exact up to rounding, each in its backend's form."""
    return {"autograd": Autograd(realise(tree.root, anp)).grad(tree.x)}


@given(trees())
def test_autograd_is_exact_to_rounding(tree: Tree) -> None:
    truth = truth_of(tree)
    for g in exact_methods(tree).values():
        within(g, truth, truth.exact_tolerance())


#: The default steps FiniteDifference documents, relative to max(1, |x_j|).
DOCUMENTED_STEP = {"complex": 1e-20, "central": EPS ** (1 / 3), "forward": EPS**0.5}


def documented_steps(p: FiniteDifference, x: Any) -> Any:
    """The provider's steps at `x`, checked to be the documented ones: the step of the
    method's theory, rounded down to a whole number of units in the last place of the
    points, so that they are exact in float64; the complex step as it is."""
    h = p.steps(x)
    nominal = DOCUMENTED_STEP[p.method] * np.maximum(1.0, np.abs(x))
    unit = 0.0 if p.method == "complex" else np.spacing(np.abs(x) + 2 * nominal)
    assert np.all(h <= nominal) and np.all(h >= nominal - unit), (h, nominal)
    return h


#: Two trees hypothesis found at x = 0, where the gradient is 0 and the complex step returns
#: its truncation alone: a sum of cubes that cancels (its rounding is relative to the
#: terms, not to their sum) and x**9 (whose truncation is of order 9, not 3).
CANCELLING = Tree(
    Root(
        Unary(
            "cube",
            MatVec(
                ((28, -20, -25, -24), (15, 31, 28, 11), (30, 24, -32, -25), (24, -27, 31, 21)),
                4,
                Var(),
            ),
        )
    ),
    4,
    np.zeros(4),
)
NINTH_POWER = Tree(
    Root(Unary("cube", Unary("cube", Binary("mul", Var(), Const((90,)))))), 1, np.zeros(1)
)


@example(CANCELLING)
@example(NINTH_POWER)
@given(trees())
def test_complex_step_within_truncation_and_rounding(tree: Tree) -> None:
    truth = truth_of(tree)
    f = realise(tree.root, np)
    p = FiniteDifference(f, method="complex")
    h = documented_steps(p, tree.x)
    within(p.grad(tree.x), truth, complex_step_tolerance(tree, f, h, truth))


@pytest.mark.parametrize("method", ["central", "forward"])
@given(tree=trees())
def test_differences_within_truncation_and_rounding(method: str, tree: Tree) -> None:
    truth = truth_of(tree)
    f = realise(tree.root, np)
    p = FiniteDifference(f, method=method)  # type: ignore[arg-type]
    s = p.scheme
    h = documented_steps(p, tree.x)
    tol = difference_tolerance(tree, f, h, s.offsets, s.weights, s.uses_f0, truth)
    within(p.grad(tree.x), truth, tol)


def smallest_steps(x: Any, points: list[Any]) -> Any:
    """Per coordinate, the smallest non-zero displacement along it among `points`."""
    smallest = np.full(x.size, np.inf)
    for p in points:
        moved = np.flatnonzero(p != x)
        if moved.size == 1:
            j = moved[0]
            smallest[j] = min(smallest[j], abs(p[j] - x[j]))
    return smallest


@given(trees())
def test_richardson_error_estimate_covers_its_error(tree: Tree) -> None:
    truth = truth_of(tree)
    f = Recorder(realise(tree.root, np))
    g, estimate = FiniteDifference(f, method="richardson").grad_and_error(tree.x)
    smallest = smallest_steps(tree.x, f.points)
    within(g, truth, richardson_tolerance(tree, estimate, smallest, truth))


# ------------------------------------------------------------------ Hessian-vector products


@st.composite
def trees_and_directions(draw: Any, max_d: int = 30, max_depth: int = 4) -> tuple[Tree, Any]:
    """A tree and a direction v: entries in [-1, 1], one of them ±1 (so v is not 0)."""
    tree = draw(trees(max_d, max_depth))
    v = np.array(draw(st.lists(st.floats(-1.0, 1.0), min_size=tree.d, max_size=tree.d)))
    v[draw(st.integers(0, tree.d - 1))] = draw(st.sampled_from([1.0, -1.0]))
    return tree, v


def check_hessp(tree: Tree, v: Any, provider: Any) -> None:
    """``provider.hessp(x, v)`` against ``(g(x + h v) - g(x - h v)) / 2h`` with the
    provider's own gradient g, at the central difference's step ``h = eps^(1/3)``
    (relative to max(1, |x|) and to v's largest entry)."""
    truth = truth_of(tree)
    x = tree.x
    h = EPS ** (1 / 3) * max(1.0, float(np.max(np.abs(x)))) / float(np.max(np.abs(v)))
    # A step h * v_j below the smallest normal float is one XLA flushes to zero on CPU
    # (denormals are zero), so no difference of gradients can see that entry of v: the
    # comparison is made on v without such entries.
    v = np.where(np.abs(h * v) < np.finfo(np.float64).tiny, 0.0, v)
    hv_true, tol = hessp_tolerance(tree, v, h, truth)
    hv = provider.hessp(x, v)
    difference = (provider.grad(x + h * v) - provider.grad(x - h * v)) / (2 * h)
    err = np.abs(hv - difference)
    j = int(np.argmax(err - tol))
    assert err[j] <= tol[j], (
        f"component {j}: hessp {hv[j]:.17g} and the difference of grad {difference[j]:.17g} "
        f"differ by {err[j]:.3g} > tolerance {tol[j]:.3g} (true Hv {hv_true[j]:.17g})"
    )


@given(trees_and_directions())
def test_autograd_hessp_matches_a_central_difference_of_grad(case: tuple[Tree, Any]) -> None:
    tree, v = case
    check_hessp(tree, v, Autograd(realise(tree.root, anp)))


# ----------------------------------------------------------------------------- counts
def moves_per_coordinate(x: Any, points: list[Any]) -> Any:
    """How many points move each coordinate; every point moves one coordinate or none."""
    moves = np.zeros(x.size, dtype=int)
    for p in points:
        moved = np.flatnonzero(p != x)
        assert moved.size <= 1, f"a point moves coordinates {moved.tolist()}"
        moves[moved] += 1
    return moves


@pytest.mark.parametrize("method", ["forward", "central", "complex", "richardson"])
@given(tree=trees())
def test_calls_of_f_match_the_documented_counts(method: str, tree: Tree) -> None:
    """value_and_grad at a fresh point: forward d + 1, central 2d + 1, complex
    d + 1 (two or four more when the whole gradient is exactly 0: the check that f keeps
    imaginary parts), richardson 10 d + 1 plus 10 per coordinate and extra round.
    Every point moves one coordinate (or none)."""
    truth_of(tree)  # skips trees that overflow
    f = Recorder(realise(tree.root, np))
    p = FiniteDifference(f, method=method)  # type: ignore[arg-type]
    _, g = p.value_and_grad(tree.x)
    d = tree.d
    assert p.nfev == f.calls
    if method in ("forward", "backward"):
        assert f.calls == d + 1
    elif method == "central":
        assert f.calls == 2 * d + 1
    elif method == "complex":  # and the check of f's imaginary parts if g is exactly 0
        assert f.calls - (d + 1) in ((0,) if np.any(g) else (2, 4))
    else:
        moves = moves_per_coordinate(tree.x, f.points)  # 10 per round (5 steps, ±)
        assert np.all(moves >= 10) and np.all(moves % 10 == 0), moves.tolist()
        assert f.calls == 1 + int(moves.sum())  # and f(x) once, for the value


@given(trees_and_directions())
def test_autograd_calls_f_once_per_derivative(case: tuple[Tree, Any]) -> None:
    """value_and_grad: one traced call, nfev 1; hessp: one more traced call, counted in
    nhev only (the counting policy of gradients/_base.py, scipy's for a user's hessp)."""
    tree, v = case
    truth_of(tree)
    f = Recorder(realise(tree.root, anp))
    p = Autograd(f)
    p.value_and_grad(tree.x)
    p.hessp(tree.x, v)
    assert (f.calls, p.nfev, p.ngev, p.nhev) == (2, 1, 1, 1)


# ---------------------------------------------------------------------------------- Jax
# JAX compiles every tree, the gradient and the Hessian-vector product (0.1-0.3 s a tree
# on a 2-core machine, about 100x the other methods' cost), so this property takes a
# fifth of the profile's examples (20, or 400 in the thorough profile), on the same trees.
@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="the jax extra (Python >= 3.11)"
)
@scaled(1 / 5)
@given(trees_and_directions())
def test_jax_is_exact_to_rounding_and_its_hessp_matches_grad(case: tuple[Tree, Any]) -> None:
    import jax.numpy as jnp

    tree, v = case
    truth = truth_of(tree)
    p = Jax(realise(tree.root, jnp))
    within(p.grad(tree.x), truth, truth.exact_tolerance())
    check_hessp(tree, v, p)


# ----------------------------------------------------------------------------- Symbolic
# sympy differentiates and compiles each tree (lambdify with common subexpressions):
# 0.05-0.5 s a tree in d <= 4, depth <= 3, and more beyond (a product of matrix products
# grows to hundreds of terms). So this property draws small trees, and a third of the
# profile's examples; the expression and its derivative are sympy's own (it folds
# x*x into x**2, exp(a)*exp(b) into exp(a + b)), which the gamma_N term of the exact
# tolerance covers: any order of the same sums and products.
@scaled(1 / 3)
@given(trees_and_directions(max_d=4, max_depth=3))
def test_symbolic_is_exact_to_rounding_and_its_hessp_matches_grad(
    case: tuple[Tree, Any],
) -> None:
    tree, v = case
    truth = truth_of(tree)
    expr, xs = to_sympy(tree.root, tree.d)
    p = Symbolic(expr, xs)
    within(p.grad(tree.x), truth, truth.exact_tolerance())
    check_hessp(tree, v, p)


# ------------------------------------------------------------------------ planted errors
def fails(body: Callable[[Any], None], strategy: Any) -> None:
    """`body` under hypothesis (generation only, no shrinking) must find a failure."""
    run = settings(
        max_examples=300, phases=[Phase.generate], database=None, report_multiple_bugs=False
    )(given(strategy)(body))
    # The failure found is expected; hypothesis then prints the example, and a large tree's
    # repr makes it warn ("Generating overly large repr"), which the suite would make an error.
    with warnings.catch_warnings(), pytest.raises(AssertionError, match="tolerance"):
        warnings.filterwarnings("ignore", "Generating overly large repr", HypothesisWarning)
        run()


def test_planted_errors_are_caught_exact_methods() -> None:
    def autograd_off_by_1e10(tree: Tree) -> None:
        truth = truth_of(tree)
        g = Autograd(realise(tree.root, anp)).grad(tree.x)
        g[np.argmax(np.abs(g))] *= 1 + 1e-10
        within(g, truth, truth.exact_tolerance())

    fails(autograd_off_by_1e10, trees())


def test_planted_errors_are_caught_complex_step() -> None:
    def complex_step_of_1e6(tree: Tree) -> None:  # a "safe-looking" step, 1e14x too large
        truth = truth_of(tree)
        f = realise(tree.root, np)
        h = FiniteDifference(f, method="complex").steps(tree.x)
        g = FiniteDifference(f, method="complex", step=1e-6).grad(tree.x)
        within(g, truth, complex_step_tolerance(tree, f, h, truth))

    fails(complex_step_of_1e6, trees())


@pytest.mark.parametrize("mutant", ["10x step", "forward"])
def test_planted_errors_are_caught_central(mutant: str) -> None:
    def central(tree: Tree) -> None:
        truth = truth_of(tree)
        f = realise(tree.root, np)
        p = FiniteDifference(f, method="central")
        h = p.steps(tree.x)
        if mutant == "10x step":
            g = FiniteDifference(f, method="central", step=10 * h).grad(tree.x)
        else:
            g = FiniteDifference(f, method="forward").grad(tree.x)
        s = p.scheme
        tol = difference_tolerance(tree, f, h, s.offsets, s.weights, s.uses_f0, truth)
        within(g, truth, tol)

    fails(central, trees())


def test_planted_errors_are_caught_richardson() -> None:
    def unextrapolated(tree: Tree) -> None:  # the first central difference, at 1/16
        truth = truth_of(tree)
        f = Recorder(realise(tree.root, np))
        _, estimate = FiniteDifference(f, method="richardson").grad_and_error(tree.x)
        g = FiniteDifference(f, method="central", step=0.0625).grad(tree.x)
        smallest = smallest_steps(tree.x, f.points)
        within(g, truth, richardson_tolerance(tree, estimate, smallest, truth))

    fails(unextrapolated, trees())


def test_planted_errors_are_caught_hessp() -> None:
    class Off:  # hessp 1e-7 too large, relatively
        def __init__(self, p: Autograd) -> None:
            self.p = p
            self.grad = p.grad

        def hessp(self, x: Any, v: Any) -> Any:
            return self.p.hessp(x, v) * (1 + 1e-7)

    def hessp_off(case: tuple[Tree, Any]) -> None:
        tree, v = case
        check_hessp(tree, v, Off(Autograd(realise(tree.root, anp))))

    fails(hessp_off, trees_and_directions())
