"""Calibrate a simulation: recover the rates of a predator-prey model from noisy data.

The model is the Lotka-Volterra system, solved with ``scipy.integrate.solve_ivp``::

    prey'     = alpha * prey - beta * prey * predator
    predator' = delta * prey * predator - gamma * predator

Nobody wrote its derivative with respect to the rates, and every run of the solver is
slow, which is the case finite differences are for: a central-difference gradient costs
2 * 4 = 8 independent simulations, so they run in parallel on worker processes
(``workers=2``). The rates must stay positive, so the same bounds go to L-BFGS-B and to
the finite differences (no simulation is ever run with a negative rate).

Run: ``python examples/simulation_calibration.py``
"""

from __future__ import annotations

import time

import numpy as np
from scipy.integrate import solve_ivp

from gradopt import FiniteDifference, minimize

TRUE_RATES = np.array([1.1, 0.4, 0.4, 0.1])  # alpha, beta, gamma, delta
START = np.array([10.0, 5.0])  # prey, predators at t = 0
TIMES = np.linspace(0.0, 30.0, 121)
BOUNDS = [(1e-3, 5.0)] * 4


def simulate(rates: np.ndarray) -> np.ndarray:
    """Populations at TIMES, shape (len(TIMES), 2)."""
    alpha, beta, gamma, delta = rates

    def rhs(t: float, y: np.ndarray) -> list[float]:
        prey, pred = y
        return [alpha * prey - beta * prey * pred, delta * prey * pred - gamma * pred]

    sol = solve_ivp(rhs, (TIMES[0], TIMES[-1]), START, t_eval=TIMES, rtol=1e-10, atol=1e-10)
    return sol.y.T


rng = np.random.default_rng(42)
DATA = simulate(TRUE_RATES) * (1 + 0.02 * rng.standard_normal((TIMES.size, 2)))


def misfit(rates: np.ndarray) -> float:
    """Sum of squared relative residuals between the simulation and the data."""
    return float(np.sum(((simulate(rates) - DATA) / (1.0 + np.abs(DATA))) ** 2))


def calibrate(provider: FiniteDifference, x0: np.ndarray) -> tuple[np.ndarray, float, float]:
    start = time.perf_counter()
    result = minimize(
        provider, x0, method="L-BFGS-B", bounds=BOUNDS, options={"ftol": 1e-12, "gtol": 1e-8}
    )
    return result.x, result.fun, time.perf_counter() - start


def main() -> None:
    x0 = np.array([0.8, 0.3, 0.6, 0.15])
    start = time.perf_counter()
    misfit(x0)
    print(f"one simulation: {1e3 * (time.perf_counter() - start):.1f} ms")

    serial = FiniteDifference(misfit, "central", bounds=BOUNDS)
    x_serial, f_serial, t_serial = calibrate(serial, x0)
    with FiniteDifference(misfit, "central", bounds=BOUNDS, workers=2) as parallel:
        x_par, f_par, t_par = calibrate(parallel, x0)

    print(f"\n{'rate':<8}{'true':>8}{'serial':>10}{'parallel':>10}")
    for name, true, a, b in zip(
        ["alpha", "beta", "gamma", "delta"], TRUE_RATES, x_serial, x_par, strict=True
    ):
        print(f"{name:<8}{true:>8.3f}{a:>10.4f}{b:>10.4f}")
    print(f"\nmisfit: serial {f_serial:.6g}, parallel {f_par:.6g}")
    print(f"calls of the simulation: serial {serial.nfev}, parallel {parallel.nfev}")
    print(
        f"time: serial {t_serial:.2f} s, 2 workers {t_par:.2f} s "
        f"(speed-up {t_serial / t_par:.2f}x)"
    )
    assert np.allclose(x_par, TRUE_RATES, rtol=0.05), "calibration did not recover the rates"


if __name__ == "__main__":
    main()
