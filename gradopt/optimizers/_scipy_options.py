"""The values of scipy's method options, checked before the run.

scipy passes option values to its solvers unchecked: ``maxiter="10"`` fails deep inside
L-BFGS-B, ``gtol=-1`` or ``gtol=nan`` silently changes what convergence means, and
``norm="inf"`` raises a TypeError from a NumPy reduction. Here every option a method
accepts gets a type (a frozen pydantic model per method, built from the names and
defaults in the signature of scipy's solver), so that a bad value is an
:class:`~gradopt.exceptions.InvalidInputError` naming the option, the value and what
was expected. Options whose values are arrays (``initial_simplex``, ``direc``,
``hess_inv0``, TNC's ``scale``) are left to scipy, which checks them before it evaluates
anything (gradopt reports such a refusal as an InvalidInputError too).
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, create_model

from gradopt._options import Flag, Real, count, parse_options, real
from gradopt.exceptions import InvalidInputError
from gradopt.optimizers._scipy_methods import ScipyMethod, accepted_options, solver_functions

__all__ = ["SCIPY_DIFFERENCING", "check_options", "validate_values"]

SCIPY_DIFFERENCING: dict[str, str] = {
    "eps": "FiniteDifference(fun, step=...) sets the step",
    "finite_diff_rel_step": "FiniteDifference(fun, step=...) sets the step",
    "workers": (
        "FiniteDifference(fun, workers=N) or FiniteDifference(fun, executor=...) evaluates "
        "the points of each gradient in parallel"
    ),
}
"""Options that steer scipy's own finite differences of f, and gradopt's way to do it.
gradopt hands scipy the provider's gradient (``jac=True``), so they would be accepted and
silently do nothing."""


def check_options(
    method: ScipyMethod, options: Mapping[str, Any] | None, has_hessp: bool = False
) -> dict[str, Any]:
    """Return `options` as a dict after checking every name and value.

    A name `method` does not accept, or one that would set scipy's own finite differences
    (unused: the gradient comes from the provider), is an error; so is a value of the
    wrong type or range. Newton-CG without a Hessian-vector product differences
    gradients with step ``eps``, so there ``eps`` is used.
    """
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InvalidInputError(
            f"options must be a dict of option names to values; got {type(options).__name__}."
        )
    accepted = accepted_options(method)
    unused: set[str] = set()
    if method.uses_gradient:
        differences_gradients = method.differences_gradients and not has_hessp
        unused = set(SCIPY_DIFFERENCING) - ({"eps"} if differences_gradients else set())
    moot = sorted(str(k) for k in options if k in unused)
    if moot:
        advice = "; ".join(dict.fromkeys(SCIPY_DIFFERENCING[k] for k in moot))
        raise InvalidInputError(
            f"method {method.name!r}: option(s) {', '.join(map(repr, moot))} set scipy's own "
            "finite differences of f, which gradopt does not use: the gradient comes from "
            f"the provider. Instead, {advice}."
        )
    unknown = sorted(str(k) for k in options if k not in accepted)
    if unknown:
        raise InvalidInputError(
            f"method {method.name!r} does not accept the option(s) {', '.join(map(repr, unknown))}"
            f"; it accepts: {', '.join(sorted(accepted - unused))}."
        )
    return validate_values(method, options)


def _norm_order(value: float) -> float:
    if math.isnan(value) or not (math.isinf(value) or value >= 1):
        raise ValueError("must be inf, -inf or a number >= 1 (the order of a vector norm)")
    return value


def _flag_or_level(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral) and int(value) >= 0:
        return int(value)
    raise ValueError(f"must be True, False or a verbosity level >= 0, not {value!r}")


def _no_nan(value: float) -> float:
    if math.isnan(value):
        raise ValueError("must not be NaN")
    return value


# Types built at run time for pydantic (values of a table, not static annotations).
_Tolerance: Any = real(ge=0, allow_inf_nan=False)
_Positive: Any = real(gt=0, allow_inf_nan=False)
_Fraction: Any = real(gt=0, lt=1)
_Target: Any = Annotated[Real, AfterValidator(_no_nan)]
_Default: Any = real(allow_inf_nan=False)  # TNC: a negative value = default
_COUNT: Any = count(ge=0)
_AT_LEAST_ONE: Any = count(ge=1)

# The type of each option by name; a method-specific entry below wins.
_KINDS: dict[str, Any] = {
    "maxiter": _COUNT,
    "maxfun": _AT_LEAST_ONE,
    "maxfev": _AT_LEAST_ONE,
    "maxls": _AT_LEAST_ONE,
    "maxcor": _AT_LEAST_ONE,
    "subproblem_maxiter": _AT_LEAST_ONE,
    "gtol": _Tolerance,
    "ftol": _Tolerance,
    "xtol": _Tolerance,
    "xatol": _Tolerance,
    "fatol": _Tolerance,
    "xrtol": _Tolerance,
    "tol": _Positive,
    "catol": _Tolerance,
    "barrier_tol": _Tolerance,
    "feasibility_tol": _Tolerance,
    "eps": _Positive,
    "norm": Annotated[Real, AfterValidator(_norm_order)],
    "c1": _Fraction,
    "c2": _Fraction,
    "eta": real(ge=0, lt=0.25),
    "initial_trust_radius": _Positive,
    "max_trust_radius": _Positive,
    "initial_tr_radius": _Positive,
    "final_tr_radius": _Positive,
    "initial_constr_penalty": _Positive,
    "initial_barrier_parameter": _Positive,
    "initial_barrier_tolerance": _Positive,
    "rhobeg": _Positive,
    "f_target": _Target,
    "disp": Annotated[Any, BeforeValidator(_flag_or_level)],
    "iprint": count(),
    "verbose": count(ge=0, le=3),
    "return_all": Flag,
    "adaptive": Flag,
    "inexact": Flag,
    "sparse_jacobian": Flag,
    "scale": Flag,  # COBYQA; TNC's scale is an array (below)
    "factorization_method": Literal[
        "NormalEquation", "AugmentedSystem", "QRFactorization", "SVDFactorization"
    ],
    "accuracy": _Tolerance,
    "stepmx": _Tolerance,
    "minfev": _Default,
    "mesg_num": count(),
}
_METHOD_KINDS: dict[tuple[str, str], Any] = {
    # TNC takes negative values (its defaults) to mean "choose for me".
    **{("tnc", name): _Default for name in ("ftol", "xtol", "gtol", "rescale")},
    ("tnc", "eta"): real(lt=1),
    ("tnc", "maxCGit"): count(ge=-1),
    ("tnc", "scale"): Any,
    ("tnc", "offset"): Any,
    ("cobyla", "maxiter"): _AT_LEAST_ONE,
}


@functools.cache
def _defaults(method: ScipyMethod) -> dict[str, Any]:
    """Each accepted option's default in scipy's signature."""
    defaults: dict[str, Any] = {}
    for function in solver_functions(method):
        for param in inspect.signature(function).parameters.values():
            if param.name in accepted_options(method):
                defaults.setdefault(param.name, param.default)
    return defaults


@functools.cache
def options_model(method: ScipyMethod) -> type[BaseModel]:
    """A frozen pydantic model of `method`'s options (None allowed where scipy's
    default is None; options without a known type are passed through)."""
    fields: dict[str, Any] = {}
    for name, default in _defaults(method).items():
        kind = _METHOD_KINDS.get((method.key, name), _KINDS.get(name, Any))
        if default is None and kind is not Any:
            kind = kind | None
        fields[name] = (kind, None)
    model: type[BaseModel] = create_model(
        f"{method.name}Options",
        __config__=ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True),
        **fields,
    )
    return model


def validate_values(method: ScipyMethod, options: Mapping[str, Any]) -> dict[str, Any]:
    """`options` with every value checked against its type (names already checked).

    scipy's own default for an option is always accepted (L-BFGS-B's ``iprint`` default
    is a sentinel object, TNC's tolerances are -1).

    Examples
    --------
    >>> from gradopt.optimizers._scipy_methods import SCIPY_METHODS
    >>> validate_values(SCIPY_METHODS["bfgs"], {"maxiter": "10"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gradopt.exceptions.InvalidInputError: method 'BFGS': option 'maxiter'='10': must be a number...
    """
    defaults = _defaults(method)
    given = {k: v for k, v in options.items() if k not in defaults or v is not defaults[k]}
    parsed = parse_options(options_model(method), given, f"method {method.name!r}")
    return {name: getattr(parsed, name) if name in given else options[name] for name in options}
