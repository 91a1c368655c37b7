"""The scipy methods gradopt can run: what each consumes and which options it accepts.

A registry, not a chain of ``if``: each :class:`ScipyMethod` states which derivative
information the method uses (gradient, Hessian-vector products, a full Hessian), whether
it takes bounds, and where scipy keeps its per-method solver, from whose signature the
accepted option names are read. scipy itself only warns about an unknown option and drops
it; gradopt rejects it before the run starts.
"""

from __future__ import annotations

import enum
import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass

import scipy

__all__ = [
    "SCIPY_METHODS",
    "SCIPY_VERSION",
    "UNAVAILABLE",
    "HessianUse",
    "ScipyMethod",
    "accepted_options",
    "callback_gets_result",
    "documented_options",
    "solver_functions",
]

SCIPY_VERSION: tuple[int, int] = tuple(  # type: ignore[assignment]
    int(part) for part in re.findall(r"\d+", scipy.__version__)[:2]
)
"""The installed scipy's (major, minor) version."""


class HessianUse(enum.Enum):
    """What a method does with second derivatives; each member carries its description."""

    NONE = "does not use second derivatives"
    OPTIONAL_HESSP = "uses Hessian-vector products when the provider has them"
    REQUIRED_HESSP = "needs Hessian-vector products"
    REQUIRED_DENSE = "needs the full Hessian, which gradopt builds from d Hessian-vector products"


@dataclass(frozen=True)
class ScipyMethod:
    """One method of :func:`scipy.optimize.minimize`.

    Attributes
    ----------
    name : str
        The name as scipy spells it.
    uses_gradient : bool
        Whether the method takes ``jac``.
    hessian : HessianUse
        What it does with second derivatives.
    bounds : bool
        Whether it accepts ``bounds``.
    solver : str
        The name of scipy's per-method function in ``scipy.optimize._minimize``.
    limit_statuses : tuple of int
        scipy's ``status`` codes (when not successful) meaning that an iteration or
        evaluation limit was reached; reported as :attr:`Status.MAX_ITER`.
    forwards_to : str or None
        The module-qualified function receiving the solver's ``**kwargs`` (the trust-region
        family forwards its options to ``_minimize_trust_region``).
    differences_gradients : bool
        Without ``hessp`` the method approximates Hessian-vector products by differences
        of gradients (step option ``eps``): it then gets ``fun`` and ``jac`` separately,
        so that each difference costs a gradient, not a value and a gradient.
    since : (int, int)
        The first scipy version that has the method.
    constraints : bool
        Whether it accepts ``constraints``.
    """

    name: str
    uses_gradient: bool
    hessian: HessianUse
    bounds: bool
    solver: str
    limit_statuses: tuple[int, ...]
    forwards_to: str | None = None
    differences_gradients: bool = False
    since: tuple[int, int] = (1, 11)
    constraints: bool = False

    @property
    def key(self) -> str:
        """The lower-case name used for look-up."""
        return self.name.lower()


_TRUST = "scipy.optimize._trustregion._minimize_trust_region"
_PRIMA_COBYLA = SCIPY_VERSION >= (1, 16)

_NONE, _OPT, _HESSP, _DENSE = (
    HessianUse.NONE,
    HessianUse.OPTIONAL_HESSP,
    HessianUse.REQUIRED_HESSP,
    HessianUse.REQUIRED_DENSE,
)
# name, gradient, Hessian, bounds, scipy's solver, its limit statuses, forwards to
_METHODS = (
    ScipyMethod("L-BFGS-B", True, _NONE, True, "_minimize_lbfgsb", (1,)),
    ScipyMethod("BFGS", True, _NONE, False, "_minimize_bfgs", (1,)),
    ScipyMethod("CG", True, _NONE, False, "_minimize_cg", (1,)),
    ScipyMethod("TNC", True, _NONE, True, "_minimize_tnc", (3,)),
    ScipyMethod("SLSQP", True, _NONE, True, "_minimize_slsqp", (9,), constraints=True),
    ScipyMethod(
        "Newton-CG", True, _OPT, False, "_minimize_newtoncg", (1,), differences_gradients=True
    ),
    ScipyMethod(
        "trust-constr", True, _OPT, True, "_minimize_trustregion_constr", (0,), constraints=True
    ),
    ScipyMethod("trust-ncg", True, _HESSP, False, "_minimize_trust_ncg", (1,), _TRUST),
    ScipyMethod("trust-krylov", True, _HESSP, False, "_minimize_trust_krylov", (1,), _TRUST),
    ScipyMethod("dogleg", True, _DENSE, False, "_minimize_dogleg", (1,), _TRUST),
    ScipyMethod("trust-exact", True, _DENSE, False, "_minimize_trustregion_exact", (1,), _TRUST),
    ScipyMethod("Nelder-Mead", False, _NONE, True, "_minimize_neldermead", (1, 2)),
    ScipyMethod("Powell", False, _NONE, True, "_minimize_powell", (1, 2)),
    # scipy 1.16 replaced COBYLA's Fortran code (status 2: evaluation limit) by PRIMA's
    # (status 3: MAXFUN_REACHED, while 2 means a failed trust-region subproblem).
    ScipyMethod(
        "COBYLA",
        False,
        _NONE,
        True,
        "_minimize_cobyla",
        (3,) if _PRIMA_COBYLA else (2,),
        constraints=True,
    ),
    ScipyMethod(
        "COBYQA", False, _NONE, True, "_minimize_cobyqa", (5, 6), since=(1, 14), constraints=True
    ),
)

SCIPY_METHODS: dict[str, ScipyMethod] = {m.key: m for m in _METHODS if m.since <= SCIPY_VERSION}
"""Every scipy method gradopt runs with the installed scipy, by lower-case name."""

UNAVAILABLE: dict[str, ScipyMethod] = {m.key: m for m in _METHODS if m.since > SCIPY_VERSION}
"""Methods that need a newer scipy than the installed one."""

# What scipy.optimize.minimize passes itself (positionally or by name), never an option.
_NOT_OPTIONS = frozenset(
    {"fun", "func", "x0", "args", "jac", "grad", "hess", "hessp", "bounds", "constraints"}
    | {"callback", "subproblem"}
)


def _keyword_names(func: object) -> frozenset[str]:
    params = inspect.signature(func).parameters.values()  # type: ignore[arg-type]
    named = (p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
    return frozenset(named) - _NOT_OPTIONS


def _resolve(qualified: str) -> object:
    import importlib

    module, _, name = qualified.rpartition(".")
    return getattr(importlib.import_module(module), name)


def callback_gets_result(method: ScipyMethod) -> bool:
    """Whether scipy hands this method's callback an ``OptimizeResult`` when its parameter
    is named ``intermediate_result`` (TNC, and before scipy 1.16 SLSQP and COBYLA, call
    it with ``x``; giving them such a callback breaks scipy's handling of fixed variables).
    """
    import scipy.optimize._minimize as scipy_minimize

    new_style = getattr(scipy_minimize, "MINIMIZE_METHODS_NEW_CB", None)
    return method.key != "tnc" if new_style is None else method.key in new_style


def solver_functions(method: ScipyMethod) -> list[Callable[..., object]]:
    """scipy's per-method function and the function its ``**kwargs`` go to, if any."""
    functions = [_resolve("scipy.optimize._minimize." + method.solver)]
    if method.forwards_to is not None:
        functions.append(_resolve(method.forwards_to))
    return functions  # type: ignore[return-value]


@functools.cache
def accepted_options(method: ScipyMethod) -> frozenset[str]:
    """The option names scipy's solver for `method` really consumes.

    Read from the signature of scipy's per-method function (and of the function its
    ``**kwargs`` go to); if scipy ever moves those private functions, from the method's
    documentation (:func:`scipy.optimize.show_options`) instead.

    Examples
    --------
    >>> {"gtol", "maxiter", "norm"} <= accepted_options(SCIPY_METHODS["bfgs"])
    True
    """
    try:
        names = frozenset().union(*(_keyword_names(f) for f in solver_functions(method)))
    except (ImportError, AttributeError):  # pragma: no cover - depends on scipy internals
        names = documented_options(method)
    return names


_HEADERS = ("Options", "Parameters")
_ENTRY = re.compile(r"^([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*:")


def documented_options(method: ScipyMethod) -> frozenset[str]:
    """The option names listed in scipy's documentation of `method` (show_options)."""
    from scipy.optimize import show_options

    text = inspect.cleandoc(show_options(solver="minimize", method=method.key, disp=False))
    lines = text.splitlines()
    names: set[str] = set()
    inside = False
    for line, underline in zip(lines, [*lines[1:], ""], strict=True):
        is_header = bool(line.strip()) and set(underline.strip()) == {"-"}
        if is_header:
            inside = line.strip() in _HEADERS
            continue
        if inside and (match := _ENTRY.match(line)):
            names.update(part.strip() for part in match.group(1).split(","))
    return frozenset(names) - _NOT_OPTIONS
