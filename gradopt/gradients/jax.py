"""Exact gradients with JAX (the ``jax`` extra): compiled once per shape, in float64.

``value_and_grad`` is one compiled call that returns the value and the gradient packed in
one array, so arrays cross between NumPy and JAX once each way per call; ``hessp`` is
forward over reverse (``jvp`` of ``grad``), ``jvp`` forward mode. Each is compiled by
``jax.jit`` at its first call for a shape of x and reused after; providers of the same
function share the compiled code.

float64, without changing the global configuration: JAX computes in float32 unless
``jax_enable_x64`` is on. When it is off, each call runs inside ``jax.enable_x64(True)``,
a switch scoped to that call and to the calling thread (0.5 µs); the value is checked to
be float64 when f is traced, so a function that casts to float32 is an error, not a
silently less accurate gradient. Arrays created with ``jnp`` outside f while x64 is off
are float32 already: pass data as NumPy arrays (or through ``args=``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from gradopt._typing import FloatArray, describe_value, refusal_message
from gradopt.exceptions import (
    BackendUnavailableError,
    InvalidInputError,
    JaxTraceError,
    ObjectiveError,
)
from gradopt.gradients._base import BaseProvider

__all__ = ["Jax"]

_F64 = np.dtype(np.float64)


def _import_jax() -> Any:
    try:
        import jax
    except ImportError as exc:
        raise BackendUnavailableError("Jax needs jax: pip install 'gradopt[jax]'") from exc
    return jax


class _BadOutput(Exception):
    """f's output is unusable, found while tracing (the point is added by the caller)."""

    def __init__(self, got: str, hint: str) -> None:
        super().__init__(got)
        self.got, self.hint = got, hint


def _scalar(jnp: Any, out: Any) -> Any:
    """f's output as a 0-d float64 array; checked while tracing, so free at run time."""
    if isinstance(out, float | int) and not isinstance(out, bool):
        return jnp.asarray(out, dtype=jnp.float64)  # a constant function
    dtype, shape = getattr(out, "dtype", None), getattr(out, "shape", None)
    if dtype is None or shape is None or int(np.prod(shape)) != 1:
        raise _BadOutput(*describe_value(out))
    if np.dtype(dtype) != _F64:
        if np.issubdtype(dtype, np.floating):
            raise _BadOutput(
                f"a {np.dtype(dtype)} value",
                " Jax works in float64: do not cast to a lower precision inside f.",
            )
        raise _BadOutput(*describe_value(out))
    return jnp.reshape(out, ())


def _outputs(jnp: Any, out: Any) -> Any:
    """A vector-valued f's output as a 1-D float64 array, checked while tracing."""
    dtype, shape = getattr(out, "dtype", None), getattr(out, "shape", None)
    if dtype is None or shape is None or len(shape) > 1 or int(np.prod(shape)) == 0:
        got, _ = describe_value(out)
        raise _BadOutput(got, " A vector-valued function returns a 1-D array (m >= 1).")
    if np.dtype(dtype) != _F64:
        raise _BadOutput(f"an array of dtype {np.dtype(dtype)}", " Jax works in float64.")
    return jnp.reshape(out, (-1,))


class _Compiled(NamedTuple):
    value_and_grad: Callable[..., Any]
    value: Callable[..., Any]
    hessp: Callable[..., Any]
    jvp: Callable[..., Any]
    outputs: Callable[..., Any]
    jacobian_forward: Callable[..., Any]
    jacobian_reverse: Callable[..., Any]


def _compile(fun: Callable[..., Any] | weakref.ref[Any], jit: bool) -> _Compiled:
    """The derivative programs of `fun(x, *args)`, jit-compiled when `jit` (each compiled
    at its first call).

    `fun` may be a weak reference, followed only while tracing: then the programs do not
    keep the function alive (they are cached in a dictionary keyed weakly by it).
    """
    jax = _import_jax()
    jnp = jax.numpy
    target: Callable[[], Any] = fun if isinstance(fun, weakref.ref) else (lambda: fun)

    def value(x: Any, *args: Any) -> Any:
        return _scalar(jnp, target()(x, *args))

    def value_and_grad(x: Any, *args: Any) -> Any:
        f, g = jax.value_and_grad(value)(x, *args)
        return jnp.concatenate([jnp.reshape(f, (1,)), jnp.ravel(g)])

    def hessp(x: Any, v: Any, *args: Any) -> Any:
        return jax.jvp(lambda y: jax.grad(value)(y, *args), (x,), (v,))[1]

    def jvp(x: Any, v: Any, *args: Any) -> Any:
        return jnp.stack(jax.jvp(lambda y: value(y, *args), (x,), (v,)))

    def outputs(x: Any, *args: Any) -> Any:
        return _outputs(jnp, target()(x, *args))

    def jacobian(mode: Callable[..., Any]) -> Callable[..., Any]:
        def program(x: Any, *args: Any) -> Any:  # outputs, then the Jacobian row by row
            f = outputs(x, *args)
            jac = mode(outputs)(x, *args)
            return jnp.concatenate([f, jnp.ravel(jac)])

        return program

    programs = (
        value_and_grad,
        value,
        hessp,
        jvp,
        outputs,
        jacobian(jax.jacfwd),
        jacobian(jax.jacrev),
    )
    return _Compiled(*(jax.jit(p) if jit else p for p in programs))


# fun -> {jit: programs}: providers of one function share compiled code (a fit that
# builds a new provider does not compile again).
_PROGRAMS: weakref.WeakKeyDictionary[Any, dict[bool, _Compiled]] = weakref.WeakKeyDictionary()


def _programs(fun: Callable[..., Any], jit: bool) -> _Compiled:
    try:
        known = _PROGRAMS.setdefault(fun, {})
    except TypeError:  # not weakly referenceable: compile for this provider only
        return _compile(fun, jit)
    if jit not in known:
        known[jit] = _compile(weakref.ref(fun), jit)
    return known[jit]


def _trace_error(exc: Exception, jax: Any, jit: bool) -> JaxTraceError | None:
    """A JaxTraceError saying what to change in f, for JAX's tracing failures."""
    errors = jax.errors
    first = str(exc).strip().split("\n")[0]
    if isinstance(exc, errors.TracerArrayConversionError):
        advice = (
            "f calls NumPy (np.asarray, np.sin, ...) on a traced array: write it with "
            "jax.numpy (import jax.numpy as jnp)"
        )
    elif isinstance(exc, errors.ConcretizationTypeError | errors.TracerIntegerConversionError):
        advice = (
            "f needs the value of a traced array (a Python if or while on it, float(), "
            "int(), .item(), or a shape that depends on values): use jnp.where, "
            "jax.lax.cond or jax.lax.while_loop"
        )
        if jit:
            advice += ", or Jax(fun, jit=False), which runs Python control flow (slower)"
    elif isinstance(exc, TypeError) and "immutable" in first:
        advice = "f assigns into an array, which JAX arrays do not allow: use x.at[i].set(v)"
    else:
        return None
    return JaxTraceError(f"JAX cannot trace f: {advice}. (JAX said: {first})")


class Jax(BaseProvider):
    """Exact gradients by JAX's automatic differentiation, jit-compiled, in float64.

    The Jacobian of a vector-valued `fun` (``-> array (m,)``) is one compiled call, in
    forward mode (``jax.jacfwd``) when ``m > d``, reverse mode (``jax.jacrev``) otherwise.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> scalar`` (or ``-> array (m,)`` for Jacobians), written with
        ``jax.numpy``. Under ``jit=True`` it
        must be traceable: no Python ``if`` on values of x (use ``jnp.where`` or
        ``jax.lax.cond``), no NumPy calls on x, no assignment into arrays.
    jit : bool, default True
        Compile value and gradient (and ``hessp``, ``jvp``) with ``jax.jit`` at the first
        call for each shape of x. ``False`` runs f operation by operation: Python
        control flow on values then works, at many times the cost.
    args : sequence, default ()
        Further arguments of `fun`, not differentiated: data such as ``X`` and ``y``.
        They are moved to the device once, here, and passed to the compiled program
        as arguments; arrays captured by a closure instead are compiled into the
        program as constants (slow to compile and held twice when large).

    Notes
    -----
    JAX runs on the device it chooses by default (a GPU when one is installed). To
    choose one, make the calls inside ``with jax.default_device(jax.devices("cpu")[0]):``
    or set ``JAX_PLATFORMS=cpu`` before JAX is imported; `args` are placed on the default
    device when the provider is made.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import numpy as np
    >>> p = Jax(lambda x: jnp.sum(x**3))
    >>> p.value_and_grad([1.0, 2.0])
    (9.0, array([ 3., 12.]))
    >>> p.hessp([1.0, 2.0], [1.0, 0.0])
    array([6., 0.])
    >>> p.jvp([1.0, 2.0], [1.0, 1.0])
    (9.0, 15.0)

    Data as arguments:

    >>> X, y = np.eye(3), np.array([1.0, 2.0, 3.0])
    >>> q = Jax(lambda w, X, y: jnp.sum((X @ w - y) ** 2), args=(X, y))
    >>> q.grad(np.zeros(3))
    array([-2., -4., -6.])
    """

    def __init__(
        self, fun: Callable[..., Any], *, jit: bool = True, args: Sequence[Any] = ()
    ) -> None:
        super().__init__(fun)
        if not isinstance(jit, bool):
            raise InvalidInputError(f"jit must be True or False; got {jit!r}.")
        if not isinstance(args, tuple | list):
            raise InvalidInputError(
                f"args must be a tuple of further arguments of fun; got {type(args).__name__}."
            )
        self._jax = jax = _import_jax()
        self.jit = jit
        with jax.enable_x64(True):  # float64 data stays float64 on the device
            self.args = tuple(jax.device_put(a) for a in args)
        self._programs = _programs(fun, jit)

    def _run(self, program: Callable[..., Any], x: FloatArray, *vectors: Any) -> Any:
        """Run `program` at `x` in float64; its result as a NumPy array (one transfer)."""
        jax = self._jax
        try:
            if jax.config.jax_enable_x64:
                out = program(x, *vectors, *self.args)
            else:
                with jax.enable_x64(True):
                    out = program(x, *vectors, *self.args)
            result = np.asarray(out)
        except _BadOutput as exc:
            message = refusal_message(exc.got, exc.hint, "the function", x)
            raise ObjectiveError(message) from None
        except (TypeError, ValueError) as exc:
            error = _trace_error(exc, jax, self.jit)
            if error is None:
                raise
            raise error from exc
        if result.dtype is not _F64:  # never a silent float32
            raise ObjectiveError(f"JAX returned {result.dtype} at x; expected float64.")
        return result

    def _compute_grad(self, x: FloatArray, f0: float | None) -> tuple[Any, Any]:
        out = self._run(self._programs.value_and_grad, x)
        return out.item(0), out[1:] if x.ndim else out[1:].reshape(())

    def _compute_value(self, x: FloatArray) -> float:
        out: float = self._run(self._programs.value, x).item()
        return out

    def _compute_hessp(self, x: FloatArray, v: FloatArray) -> Any:
        return self._run(self._programs.hessp, x, v)

    def _compute_jvp(self, x: FloatArray, v: FloatArray) -> tuple[Any, Any]:
        out = self._run(self._programs.jvp, x, v)
        return out.item(0), out.item(1)

    def _compute_vector_value(self, x: FloatArray) -> Any:
        return self._run(self._programs.outputs, x)

    def _compute_jacobian(self, x: FloatArray, f0: Any) -> tuple[Any, Any]:
        """Outputs and Jacobian in one compiled call: forward mode (``jax.jacfwd``) when
        there are more outputs than coordinates, reverse mode (``jax.jacrev``) else, or
        while m is not known yet."""
        d = x.size
        m = f0.size if f0 is not None else self._outputs
        forward = m is not None and m > d
        programs = self._programs
        out = self._run(programs.jacobian_forward if forward else programs.jacobian_reverse, x)
        m = out.size // (d + 1)
        return out[:m], out[m:].reshape(m, d)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        del state["_jax"], state["_programs"]  # modules and compiled code do not pickle
        state["args"] = tuple(np.asarray(a) for a in self.args)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._jax = jax = _import_jax()
        with jax.enable_x64(True):
            self.args = tuple(jax.device_put(a) for a in self.args)
        self._programs = _programs(self.fun, self.jit)
