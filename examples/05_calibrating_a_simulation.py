"""
Calibrating a simulation
========================

Recover the rates of a predator-prey model from noisy observations. The model is the
Lotka-Volterra system, solved with :func:`scipy.integrate.solve_ivp`::

    prey'     = alpha * prey - beta * prey * predator
    predator' = delta * prey * predator - gamma * predator

Nobody wrote its derivative with respect to the rates, and every run of the solver takes
milliseconds: the case finite differences are for. A central-difference gradient of the
four rates costs 2 × 4 = 8 independent simulations, so they run at the same time on
worker processes (``workers=2``). The rates must stay positive, so the same bounds go to
L-BFGS-B and to the finite differences: no simulation is ever run with a negative rate.

Scripts that start worker processes need the ``if __name__ == "__main__":`` guard (a
worker process imports the script again, and must not start workers of its own).
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from scipy.integrate import solve_ivp

from gradopt import FiniteDifference, minimize

TRUE_RATES = np.array([1.1, 0.4, 0.4, 0.1])  # alpha, beta, gamma, delta
START = np.array([10.0, 5.0])  # prey, predators at t = 0
TIMES = np.linspace(0.0, 20.0, 81)
BOUNDS = [(1e-3, 5.0)] * 4


def simulate(rates):
    """Populations at TIMES, shape (len(TIMES), 2)."""
    alpha, beta, gamma, delta = rates

    def rhs(t, y):
        prey, pred = y
        return [alpha * prey - beta * prey * pred, delta * prey * pred - gamma * pred]

    sol = solve_ivp(rhs, (TIMES[0], TIMES[-1]), START, t_eval=TIMES, rtol=1e-9, atol=1e-9)
    return sol.y.T


rng = np.random.default_rng(42)
DATA = simulate(TRUE_RATES) * (1 + 0.03 * rng.standard_normal((TIMES.size, 2)))


def misfit(rates):
    """Sum of squared relative residuals between the simulation and the data."""
    return float(np.sum(((simulate(rates) - DATA) / (1.0 + np.abs(DATA))) ** 2))


# %%
# Calibrate, with the simulations of each gradient on two worker processes
# ------------------------------------------------------------------------
# ``FiniteDifference`` as a context manager owns its pool of workers and stops it at the
# end of the block. The gradient is bit for bit the one the serial loop computes.


def calibrate(x0):
    with FiniteDifference(misfit, "central", bounds=BOUNDS, workers=2) as provider:
        start = time.perf_counter()
        result = minimize(provider, x0, method="L-BFGS-B", bounds=BOUNDS)
        seconds = time.perf_counter() - start
        parallel_grad = provider.grad(x0)
    serial_grad = FiniteDifference(misfit, "central", bounds=BOUNDS).grad(x0)
    assert np.array_equal(parallel_grad, serial_grad)
    return result, seconds


if __name__ == "__main__":
    x0 = np.array([0.9, 0.3, 0.5, 0.12])
    result, seconds = calibrate(x0)
    print(f"{'rate':<8}{'true':>8}{'start':>8}{'found':>9}")
    for name, true, a, b in zip(
        ["alpha", "beta", "gamma", "delta"], TRUE_RATES, x0, result.x, strict=True
    ):
        print(f"{name:<8}{true:>8.3f}{a:>8.3f}{b:>9.4f}")
    print(f"{result.nit} iterations, {result.nfev} simulations, {seconds:.1f} s: {result.message}")

    fig, ax = plt.subplots(figsize=(9, 4.2))
    for k, (name, color) in enumerate((("prey", "tab:green"), ("predators", "tab:red"))):
        ax.plot(TIMES, DATA[:, k], "o", ms=3, color=color, alpha=0.6, label=f"{name}, data")
        ax.plot(TIMES, simulate(x0)[:, k], ":", color=color, label=f"{name}, start")
        ax.plot(TIMES, simulate(result.x)[:, k], "-", color=color, label=f"{name}, calibrated")
    ax.set(xlabel="time", ylabel="population", title="Lotka-Volterra, calibrated to the data")
    ax.legend(fontsize="small", ncol=3)
    fig.tight_layout()
    plt.show()

# %%
# Every simulation of a gradient is independent of the others, so with ``workers=N``
# the wall time of a gradient approaches that of ``2d / N`` simulations when each one
# is long enough to pay for sending it to a worker (a few milliseconds here). The
# :doc:`parallel finite differences page </parallel>` covers threads, any
# ``concurrent.futures`` executor, a Dask cluster and timeouts.
