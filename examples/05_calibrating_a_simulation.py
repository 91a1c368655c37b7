"""
Calibrating a simulation
========================

Recover the rates of a predator-prey model from noisy observations. The model is the
Lotka-Volterra system, solved with :func:`scipy.integrate.solve_ivp`::

    prey'     = alpha * prey - beta * prey * predator
    predator' = delta * prey * predator - gamma * predator

Nobody wrote its derivative with respect to the rates, and every run of the solver takes
milliseconds: the case finite differences are for. Calibrating it is a least-squares
problem, one residual per observation: :func:`gradopt.least_squares` (scipy's
trust-region reflective method) uses the Jacobian of the residuals, a Gauss-Newton model
of the misfit, where L-BFGS-B on the sum of squares sees only its gradient. A
central-difference Jacobian of the four rates costs 2 × 4 = 8 independent simulations,
the cost of a gradient, so they run at the same time on worker processes
(``workers=2``). The rates must stay positive, so the same bounds go to the solver and
to the finite differences: no simulation is ever run with a negative rate.

Scripts that start worker processes need the ``if __name__ == "__main__":`` guard (a
worker process imports the script again, and must not start workers of its own).
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from scipy.integrate import solve_ivp

from gradopt import FiniteDifference, least_squares, minimize

TRUE_RATES = np.array([1.1, 0.4, 0.4, 0.1])  # alpha, beta, gamma, delta
NAMES = ["alpha", "beta", "gamma", "delta"]
START = np.array([10.0, 5.0])  # prey, predators at t = 0
TIMES = np.linspace(0.0, 20.0, 81)
BOUNDS = [(1e-3, 5.0)] * 4
X0 = np.array([0.9, 0.3, 0.5, 0.12])


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


def residuals(rates):
    """Relative misfit of each observation: 2 * len(TIMES) residuals."""
    return ((simulate(rates) - DATA) / (1.0 + np.abs(DATA))).ravel()


def misfit(rates):
    """The sum of squares of the residuals (what L-BFGS-B minimizes)."""
    r = residuals(rates)
    return float(r @ r)


# %%
# Least squares, with the simulations of each Jacobian on two worker processes
# ----------------------------------------------------------------------------
# The residuals go to :class:`~gradopt.FiniteDifference` as they are: a function with
# 162 outputs is the same provider, asked for a Jacobian instead of a gradient. As a
# context manager it owns its pool of workers and stops it at the end of the block. The
# parallel Jacobian is bit for bit the one the serial loop computes. For comparison,
# L-BFGS-B minimizes the sum of squares with a central-difference gradient, on the same
# workers' terms.


def calibrate():
    with FiniteDifference(residuals, "central", bounds=BOUNDS, workers=2) as jacobian:
        start = time.perf_counter()
        lsq = least_squares(jacobian, X0, bounds=BOUNDS)
        t_lsq = time.perf_counter() - start
        parallel = jacobian.jacobian(X0)
    assert np.array_equal(
        parallel, FiniteDifference(residuals, "central", bounds=BOUNDS).jacobian(X0)
    )
    with FiniteDifference(misfit, "central", bounds=BOUNDS, workers=2) as gradient:
        start = time.perf_counter()
        lbfgs = minimize(gradient, X0, method="L-BFGS-B", bounds=BOUNDS)
        t_lbfgs = time.perf_counter() - start
    return (lsq, t_lsq), (lbfgs, t_lbfgs)


if __name__ == "__main__":
    (lsq, t_lsq), (lbfgs, t_lbfgs) = calibrate()
    print(f"{'rate':<8}{'true':>8}{'start':>8}{'least sq.':>11}{'L-BFGS-B':>10}")
    for name, true, a, b, c in zip(NAMES, TRUE_RATES, X0, lsq.x, lbfgs.x, strict=True):
        print(f"{name:<8}{true:>8.3f}{a:>8.3f}{b:>11.4f}{c:>10.4f}")
    print(f"\n{'':<22}{'least squares':>14}{'L-BFGS-B':>10}")
    print(f"{'sum of squares':<22}{2 * lsq.cost:>14.6g}{lbfgs.fun:>10.6g}")
    print(f"{'iterations':<22}{lsq.nit:>14}{lbfgs.nit:>10}")
    print(f"{'simulations':<22}{lsq.nfev:>14}{lbfgs.nfev:>10}")
    print(f"{'seconds (2 workers)':<22}{t_lsq:>14.2f}{t_lbfgs:>10.2f}")
    print(f"least squares: {lbfgs.nfev / lsq.nfev:.1f}x fewer simulations; {lsq.message}")
    assert np.allclose(lsq.x, TRUE_RATES, rtol=0.05), "calibration did not recover the rates"

    fig, (ax, bar) = plt.subplots(1, 2, figsize=(10, 4.2), width_ratios=[3, 1])
    for k, (name, color) in enumerate((("prey", "tab:green"), ("predators", "tab:red"))):
        ax.plot(TIMES, DATA[:, k], "o", ms=3, color=color, alpha=0.6, label=f"{name}, data")
        ax.plot(TIMES, simulate(X0)[:, k], ":", color=color, label=f"{name}, start")
        ax.plot(TIMES, simulate(lsq.x)[:, k], "-", color=color, label=f"{name}, calibrated")
    ax.set(xlabel="time", ylabel="population", title="Lotka-Volterra, calibrated to the data")
    ax.legend(fontsize="small", ncol=3)
    bar.bar(["least\nsquares", "L-BFGS-B"], [lsq.nfev, lbfgs.nfev], color=["tab:blue", "tab:gray"])
    bar.set(ylabel="simulations", title="cost of the calibration")
    fig.tight_layout()
    plt.show()

# %%
# Both reach the same rates and the same sum of squares; least squares takes a few
# iterations of a Gauss-Newton model, each paying one Jacobian (8 simulations) and one
# trial point, where L-BFGS-B builds its curvature from gradients over many more
# iterations. Every simulation of a Jacobian is independent of the others, so with
# ``workers=N`` its wall time approaches that of ``2d / N`` simulations when each one is
# long enough to pay for sending it to a worker (a few milliseconds here). The
# :doc:`parallel finite differences page </parallel>` covers threads, any
# ``concurrent.futures`` executor, a Dask cluster and timeouts; :doc:`/vector` covers
# Jacobians, sparsity and constraints.
