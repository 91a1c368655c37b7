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
from dataclasses import dataclass

__all__ = ["SCIPY_METHODS", "HessianUse", "ScipyMethod", "accepted_options", "documented_options"]


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
    forwards_to : str or None
        The module-qualified function receiving the solver's ``**kwargs`` (the trust-region
        family forwards its options to ``_minimize_trust_region``).
    """

    name: str
    uses_gradient: bool
    hessian: HessianUse
    bounds: bool
    solver: str
    forwards_to: str | None = None

    @property
    def key(self) -> str:
        """The lower-case name used for look-up."""
        return self.name.lower()


_TRUST_REGION = "scipy.optimize._trustregion._minimize_trust_region"

_METHODS = (
    ScipyMethod("L-BFGS-B", True, HessianUse.NONE, True, "_minimize_lbfgsb"),
    ScipyMethod("BFGS", True, HessianUse.NONE, False, "_minimize_bfgs"),
    ScipyMethod("CG", True, HessianUse.NONE, False, "_minimize_cg"),
    ScipyMethod("TNC", True, HessianUse.NONE, True, "_minimize_tnc"),
    ScipyMethod("SLSQP", True, HessianUse.NONE, True, "_minimize_slsqp"),
    ScipyMethod("Newton-CG", True, HessianUse.OPTIONAL_HESSP, False, "_minimize_newtoncg"),
    ScipyMethod(
        "trust-constr", True, HessianUse.OPTIONAL_HESSP, True, "_minimize_trustregion_constr"
    ),
    ScipyMethod(
        "trust-ncg", True, HessianUse.REQUIRED_HESSP, False, "_minimize_trust_ncg", _TRUST_REGION
    ),
    ScipyMethod(
        "trust-krylov",
        True,
        HessianUse.REQUIRED_HESSP,
        False,
        "_minimize_trust_krylov",
        _TRUST_REGION,
    ),
    ScipyMethod(
        "dogleg", True, HessianUse.REQUIRED_DENSE, False, "_minimize_dogleg", _TRUST_REGION
    ),
    ScipyMethod(
        "trust-exact",
        True,
        HessianUse.REQUIRED_DENSE,
        False,
        "_minimize_trustregion_exact",
        _TRUST_REGION,
    ),
    ScipyMethod("Nelder-Mead", False, HessianUse.NONE, True, "_minimize_neldermead"),
    ScipyMethod("Powell", False, HessianUse.NONE, True, "_minimize_powell"),
    ScipyMethod("COBYLA", False, HessianUse.NONE, True, "_minimize_cobyla"),
    ScipyMethod("COBYQA", False, HessianUse.NONE, True, "_minimize_cobyqa"),
)

SCIPY_METHODS: dict[str, ScipyMethod] = {m.key: m for m in _METHODS}
"""Every scipy method gradopt runs, by lower-case name."""

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


@functools.cache
def accepted_options(method: ScipyMethod) -> frozenset[str]:
    """The option names scipy's solver for `method` really consumes.

    Read from the signature of scipy's per-method function (and of the function its
    ``**kwargs`` go to); if scipy ever moves those private functions, from the method's
    documentation (:func:`scipy.optimize.show_options`) instead.

    Examples
    --------
    >>> sorted(accepted_options(SCIPY_METHODS["bfgs"]))[:4]
    ['c1', 'c2', 'disp', 'eps']
    """
    try:
        names = _keyword_names(_resolve("scipy.optimize._minimize." + method.solver))
        if method.forwards_to is not None:
            names |= _keyword_names(_resolve(method.forwards_to))
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
