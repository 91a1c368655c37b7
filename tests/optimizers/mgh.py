"""Standard unconstrained test problems of Moré, Garbow and Hillstrom (1981).

"Testing unconstrained optimization software", ACM TOMS 7(1), 17-41: each problem is a
sum of squares ``f(x) = sum_i r_i(x)^2`` with a standard start ``x0`` and the minimum
value the paper reports. Written with ``autograd.numpy`` and without operations that drop
imaginary parts, so that every provider (analytic, forward, central, complex step,
autograd) applies. Several start where a long first step overflows ``exp`` to ``inf``
(Jennrich-Sampson, Osborne 1, Box 3-D, Biggs EXP6): the line search must back off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import autograd.numpy as anp
import numpy as np

__all__ = ["MGH", "Problem"]


@dataclass(frozen=True)
class Problem:
    """A sum of squares of `residuals`, its start and the minimum values MGH report
    (the global one first, then other local minima)."""

    name: str
    residuals: Callable[[Any], Any]
    x0: np.ndarray
    minima: tuple[float, ...]

    def fun(self, x: Any) -> Any:
        r = self.residuals(x)
        return anp.sum(r * r)


def _stack(*parts: Any) -> Any:
    return anp.stack(parts) if anp.ndim(parts[0]) == 0 else anp.concatenate(parts)


def rosenbrock(x: Any) -> Any:
    return _stack(10.0 * (x[1] - x[0] ** 2), 1.0 - x[0])


def freudenstein_roth(x: Any) -> Any:
    return _stack(
        -13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1],
        -29.0 + x[0] + ((x[1] + 1.0) * x[1] - 14.0) * x[1],
    )


def powell_badly_scaled(x: Any) -> Any:
    return _stack(1e4 * x[0] * x[1] - 1.0, anp.exp(-x[0]) + anp.exp(-x[1]) - 1.0001)


def brown_badly_scaled(x: Any) -> Any:
    return _stack(x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2.0)


_BEALE_Y = np.array([1.5, 2.25, 2.625])


def beale(x: Any) -> Any:
    i = np.arange(1, 4)
    return _BEALE_Y - x[0] * (1.0 - x[1] ** i)


def jennrich_sampson(x: Any) -> Any:
    i = np.arange(1, 11)
    return 2.0 + 2.0 * i - (anp.exp(i * x[0]) + anp.exp(i * x[1]))


def helical_valley(x: Any) -> Any:
    # theta = atan2(x2, x1) / (2 pi), written with arctan so that complex steps pass.
    base = anp.arctan(x[1] / x[0]) / (2 * np.pi)
    theta = base + (0.5 if anp.real(x[0]) < 0 else 0.0)
    return _stack(
        10.0 * (x[2] - 10.0 * theta), 10.0 * (anp.sqrt(x[0] ** 2 + x[1] ** 2) - 1.0), x[2]
    )


_BARD_Y = np.array(
    [0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39]
)


def bard(x: Any) -> Any:
    u = np.arange(1.0, 16.0)
    v = 16.0 - u
    w = np.minimum(u, v)
    return _BARD_Y - (x[0] + u / (v * x[1] + w * x[2]))


_GAUSSIAN_Y = np.array(
    [
        0.0009,
        0.0044,
        0.0175,
        0.0540,
        0.1295,
        0.2420,
        0.3521,
        0.3989,
        0.3521,
        0.2420,
        0.1295,
        0.0540,
        0.0175,
        0.0044,
        0.0009,
    ]
)


def gaussian(x: Any) -> Any:
    t = (8.0 - np.arange(1.0, 16.0)) / 2.0
    return x[0] * anp.exp(-x[1] * (t - x[2]) ** 2 / 2.0) - _GAUSSIAN_Y


_MEYER_Y = np.array(
    [
        34780.0,
        28610.0,
        23650.0,
        19630.0,
        16370.0,
        13720.0,
        11540.0,
        9744.0,
        8261.0,
        7030.0,
        6005.0,
        5147.0,
        4427.0,
        3820.0,
        3307.0,
        2872.0,
    ]
)


def meyer(x: Any) -> Any:
    t = 45.0 + 5.0 * np.arange(1.0, 17.0)
    return x[0] * anp.exp(x[1] / (t + x[2])) - _MEYER_Y


def box_3d(x: Any) -> Any:
    t = 0.1 * np.arange(1.0, 11.0)
    return anp.exp(-t * x[0]) - anp.exp(-t * x[1]) - x[2] * (np.exp(-t) - np.exp(-10.0 * t))


def powell_singular(x: Any) -> Any:
    return _stack(
        x[0] + 10.0 * x[1],
        np.sqrt(5.0) * (x[2] - x[3]),
        (x[1] - 2.0 * x[2]) ** 2,
        np.sqrt(10.0) * (x[0] - x[3]) ** 2,
    )


def wood(x: Any) -> Any:
    return _stack(
        10.0 * (x[1] - x[0] ** 2),
        1.0 - x[0],
        np.sqrt(90.0) * (x[3] - x[2] ** 2),
        1.0 - x[2],
        np.sqrt(10.0) * (x[1] + x[3] - 2.0),
        (x[1] - x[3]) / np.sqrt(10.0),
    )


_KO_Y = np.array(
    [0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323, 0.0235, 0.0246]
)
_KO_U = np.array([4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625])


def kowalik_osborne(x: Any) -> Any:
    u = _KO_U
    return _KO_Y - x[0] * (u**2 + u * x[1]) / (u**2 + u * x[2] + x[3])


def brown_dennis(x: Any) -> Any:
    t = np.arange(1.0, 21.0) / 5.0
    return (x[0] + t * x[1] - np.exp(t)) ** 2 + (x[2] + x[3] * np.sin(t) - np.cos(t)) ** 2


_OSBORNE1_Y = np.array(
    [
        0.844,
        0.908,
        0.932,
        0.936,
        0.925,
        0.908,
        0.881,
        0.850,
        0.818,
        0.784,
        0.751,
        0.718,
        0.685,
        0.658,
        0.628,
        0.603,
        0.580,
        0.558,
        0.538,
        0.522,
        0.506,
        0.490,
        0.478,
        0.467,
        0.457,
        0.448,
        0.438,
        0.431,
        0.424,
        0.420,
        0.414,
        0.411,
        0.406,
    ]
)


def osborne_1(x: Any) -> Any:
    t = 10.0 * np.arange(33.0)
    return _OSBORNE1_Y - (x[0] + x[1] * anp.exp(-t * x[3]) + x[2] * anp.exp(-t * x[4]))


def biggs_exp6(x: Any) -> Any:
    t = 0.1 * np.arange(1.0, 14.0)
    y = np.exp(-t) - 5.0 * np.exp(-10.0 * t) + 3.0 * np.exp(-4.0 * t)
    return x[2] * anp.exp(-t * x[0]) - x[3] * anp.exp(-t * x[1]) + x[5] * anp.exp(-t * x[4]) - y


def watson(x: Any) -> Any:
    t = np.arange(1.0, 30.0) / 29.0
    j = np.arange(len(x))
    powers = t[:, None] ** j[None, :]  # t_i^j
    s1 = anp.dot(powers[:, :-1] * j[None, 1:], x[1:])  # sum_j (j) x_j t^(j-1)
    s2 = anp.dot(powers, x)
    return _stack(s1 - s2**2 - 1.0, _stack(x[0]), _stack(x[1] - x[0] ** 2 - 1.0))


def extended_rosenbrock(x: Any) -> Any:
    return _stack(10.0 * (x[1::2] - x[::2] ** 2), 1.0 - x[::2])


def extended_powell(x: Any) -> Any:
    a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
    return _stack(
        a + 10.0 * b, np.sqrt(5.0) * (c - d), (b - 2.0 * c) ** 2, np.sqrt(10.0) * (a - d) ** 2
    )


def penalty_1(x: Any) -> Any:
    return _stack(np.sqrt(1e-5) * (x - 1.0), _stack(anp.sum(x**2) - 0.25))


def variably_dimensioned(x: Any) -> Any:
    j = np.arange(1.0, len(x) + 1.0)
    s = anp.sum(j * (x - 1.0))
    return _stack(x - 1.0, _stack(s, s**2))


def trigonometric(x: Any) -> Any:
    n = len(x)
    i = np.arange(1.0, n + 1.0)
    return n - anp.sum(anp.cos(x)) + i * (1.0 - anp.cos(x)) - anp.sin(x)


def brown_almost_linear(x: Any) -> Any:
    n = len(x)
    head = x[:-1] + anp.sum(x) - (n + 1.0)
    return _stack(head, _stack(anp.prod(x) - 1.0))


def discrete_boundary_value(x: Any) -> Any:
    n = len(x)
    h = 1.0 / (n + 1.0)
    t = h * np.arange(1.0, n + 1.0)
    padded = _stack(_stack(0.0 * x[0]), x, _stack(0.0 * x[0]))
    return 2.0 * x - padded[:-2] - padded[2:] + h**2 * (x + t + 1.0) ** 3 / 2.0


def broyden_tridiagonal(x: Any) -> Any:
    padded = _stack(_stack(0.0 * x[0]), x, _stack(0.0 * x[0]))
    return (3.0 - 2.0 * x) * x - padded[:-2] - 2.0 * padded[2:] + 1.0


def linear_full_rank(x: Any) -> Any:
    n, m = len(x), 2 * len(x)
    s = anp.sum(x)
    head = x - 2.0 / m * s - 1.0
    return _stack(head, -2.0 / m * s - 1.0 + 0.0 * anp.ones(m - n))


def chebyquad(x: Any) -> Any:
    n = len(x)
    y = 2.0 * x - 1.0
    t_prev, t = anp.ones(n) + 0.0 * x, y
    out = []
    for i in range(1, n + 1):
        exact = -1.0 / (i * i - 1.0) if i % 2 == 0 else 0.0
        out.append(anp.mean(t) - exact)
        t_prev, t = t, 2.0 * y * t - t_prev
    return anp.stack(out)


def _p(name: str, r: Callable[[Any], Any], x0: Any, *minima: float) -> Problem:
    return Problem(name, r, np.asarray(x0, dtype=float), minima)


MGH: dict[str, Problem] = {
    p.name: p
    for p in [
        _p("rosenbrock", rosenbrock, [-1.2, 1.0], 0.0),
        _p("freudenstein_roth", freudenstein_roth, [0.5, -2.0], 0.0, 48.9842),
        _p("powell_badly_scaled", powell_badly_scaled, [0.0, 1.0], 0.0),
        _p("brown_badly_scaled", brown_badly_scaled, [1.0, 1.0], 0.0),
        _p("beale", beale, [1.0, 1.0], 0.0),
        _p("jennrich_sampson", jennrich_sampson, [0.3, 0.4], 124.362),
        _p("helical_valley", helical_valley, [-1.0, 0.0, 0.0], 0.0),
        _p("bard", bard, [1.0, 1.0, 1.0], 8.21487e-3, 17.4286),
        _p("gaussian", gaussian, [0.4, 1.0, 0.0], 1.12793e-8),
        _p("meyer", meyer, [0.02, 4000.0, 250.0], 87.9458),
        _p("box_3d", box_3d, [0.0, 10.0, 20.0], 0.0),
        _p("powell_singular", powell_singular, [3.0, -1.0, 0.0, 1.0], 0.0),
        _p("wood", wood, [-3.0, -1.0, -3.0, -1.0], 0.0),
        _p("kowalik_osborne", kowalik_osborne, [0.25, 0.39, 0.415, 0.39], 3.07505e-4),
        _p("brown_dennis", brown_dennis, [25.0, 5.0, -5.0, -1.0], 85822.2),
        _p("osborne_1", osborne_1, [0.5, 1.5, -1.0, 0.01, 0.02], 5.46489e-5),
        _p("biggs_exp6", biggs_exp6, [1.0, 2.0, 1.0, 1.0, 1.0, 1.0], 0.0, 5.65565e-3),
        _p("watson_6", watson, np.zeros(6), 2.28767e-3),
        _p("extended_rosenbrock_10", extended_rosenbrock, np.tile([-1.2, 1.0], 5), 0.0),
        _p("extended_powell_8", extended_powell, np.tile([3.0, -1.0, 0.0, 1.0], 2), 0.0),
        _p("penalty_1_4", penalty_1, np.arange(1.0, 5.0), 2.24997e-5),
        _p("variably_dimensioned_10", variably_dimensioned, 1.0 - np.arange(1, 11) / 10, 0.0),
        _p("trigonometric_10", trigonometric, np.full(10, 0.1), 0.0, 2.79506e-5),
        _p("brown_almost_linear_10", brown_almost_linear, np.full(10, 0.5), 0.0, 1.0),
        _p(
            "discrete_boundary_value_10",
            discrete_boundary_value,
            (lambda t: t * (t - 1.0))(np.arange(1, 11) / 11),
            0.0,
        ),
        _p("broyden_tridiagonal_10", broyden_tridiagonal, np.full(10, -1.0), 0.0),
        _p("linear_full_rank_10", linear_full_rank, np.ones(10), 10.0),
        _p("chebyquad_8", chebyquad, np.arange(1, 9) / 9, 3.51687e-3),
    ]
}
"""The problems by name."""
