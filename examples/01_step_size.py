"""
Finite differences: the error against the step h
=================================================

A finite difference replaces a derivative by a difference quotient, and its step ``h``
can be neither too big nor too small. Too big, and the quotient measures the secant,
not the tangent: the *truncation* error shrinks like ``h`` (one-sided) or ``h²``
(central). Too small, and ``f(x + h)`` and ``f(x)`` agree in most of their digits, so
their difference is mostly rounding: the *round-off* error grows like ``eps·|f| / h``.
On a log-log plot the two make a V, and its bottom is the best step.

:func:`gradopt.analysis.step_error` measures that V with gradopt's own schemes and sets
the two model lines beside it.
"""

import matplotlib.pyplot as plt
import numpy as np

from gradopt import FiniteDifference
from gradopt.analysis import step_error
from gradopt.plotting import plot_step_error

# %%
# Forward and central differences of exp at x = 10
# -------------------------------------------------
# ``exp`` is its own derivative, so the truth is known exactly. At ``x = 10`` the value
# is about 22026, large enough for round-off to show early.

x0, truth = 10.0, np.exp(10.0)
forward = step_error(np.exp, x0, truth, method="forward")
central = step_error(np.exp, x0, truth, method="central")

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
plot_step_error(forward, ax=axes[0])
plot_step_error(central, ax=axes[1])
fig.tight_layout()

# %%
# The measured best steps sit where the models cross, within a factor of a few:
# about ``sqrt(eps)`` for the forward difference and ``eps^(1/3)`` for the central one
# (times the scale of x), which is what :class:`~gradopt.FiniteDifference` uses by
# default. Left of the V, the grey band is the *plateau*: ``10 + h == 10`` in floating
# point, so the difference is exactly zero and the error is the whole derivative.

for r in (forward, central):
    print(
        f"{r.method:>8}: best h measured {r.best_step:.1e} (error {r.best_error:.1e}), "
        f"predicted {r.predicted_best_step:.1e}; plateau below h = "
        f"{r.steps[r.plateau].max():.0e}"
    )

# %%
# Every method on one picture
# ---------------------------
# The complex step ``Im f(x + i·h) / h`` subtracts nothing, so it has no round-off to
# balance: any small step is exact to rounding. Richardson extrapolation combines
# central differences at a ladder of steps below its *first* step and estimates its own
# error; it is accurate for a wide range of first steps, and its estimate (dashed)
# covers the error it makes.

methods = ["forward", "backward", "central", "complex", "richardson"]
studies = {m: step_error(np.sin, 1.0, np.cos(1.0), method=m) for m in methods}

fig, ax = plt.subplots(figsize=(8, 4.8))
for method, r in studies.items():
    errors = np.where(r.errors > 0, r.errors, np.nan)  # exact zeros cannot be drawn
    ax.loglog(r.steps, errors, lw=1.2, label=method)
estimates = studies["richardson"].error_estimates
ax.loglog(studies["richardson"].steps, estimates, "k--", lw=0.8, label="Richardson's estimate")
ax.set(
    xlabel="step h (Richardson: its first step)",
    ylabel="absolute error",
    title="d/dx sin(x) at x = 1",
    ylim=(1e-17, 1e1),
)
ax.legend(fontsize="small", ncol=2)
fig.tight_layout()

# %%
# What gradopt does by default
# ----------------------------
# The defaults are the theory's steps, so nobody has to draw this picture before taking
# a derivative; ``step=`` overrides them.

g, err = FiniteDifference(np.sin, method="richardson").grad_and_error(1.0)
print(f"richardson: error {abs(g - np.cos(1.0)):.1e}, its own estimate {err:.1e}")
for method in ("forward", "central", "complex"):
    g = FiniteDifference(np.sin, method=method).grad(1.0)
    print(f"{method:>10}: error {abs(g - np.cos(1.0)):.1e}")

plt.show()
