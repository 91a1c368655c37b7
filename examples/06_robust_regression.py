"""
Robust losses side by side, and MM against contamination
========================================================

:class:`~gradopt.linear_model.RobustRegressor` fits a linear model with any of seven
losses ρ of the scaled residual ``u = r / σ``, by M-estimation (iteratively reweighted,
from a least-squares or Huber start) or by MM (a high-breakdown S-estimate first, then an
efficient bisquare M-step). This story shows the losses, fits the classic stack-loss
data, and then contaminates a data set more and more until every M-estimate breaks and
MM does not.
"""

import matplotlib.pyplot as plt
import numpy as np
from autograd import grad

from gradopt.linear_model import RobustRegressor, robust_loss

LOSSES = ["least-squares", "huber", "pseudo-huber", "cauchy", "welsch", "bisquare", "hampel"]

# %%
# The losses
# ----------
# ``robust_loss`` is the objective RobustRegressor minimises; for one residual ``u`` at
# scale 1 it is the loss itself (scaled like ``u²`` near zero), and the ratio of its
# slope to least squares' slope is the weight ``w(u) = ψ(u) / u`` that row gets in the
# fit. Convex losses (Huber, pseudo-Huber) never let go of a point; redescending ones
# (Cauchy, Welsch, bisquare, Hampel) give far points little or no weight.

u = np.linspace(-8, 8, 321)
one_column = np.zeros((1, 1))  # no feature: the residual is y minus the intercept


def rho(name, r):
    return robust_loss(np.array([0.0, 0.0]), one_column, np.array([r]), name, 1.0)


def slope(name, r):
    return -grad(robust_loss)(np.array([0.0, 0.0]), one_column, np.array([r]), name, 1.0)[1]


fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
for name in LOSSES:
    left.plot(u, [rho(name, r) for r in u], label=name)
    weight = [slope(name, r) / slope("least-squares", r) if r else 1.0 for r in u]
    right.plot(u, weight, label=name)
left.set(ylim=(0, 25), xlabel="u = r / σ", ylabel="loss of one residual", title="losses ρ")
right.set(ylim=(-0.05, 1.05), xlabel="u = r / σ", ylabel="ψ(u) / u", title="weights")
left.legend(fontsize="small")
for ax in (left, right):
    ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# Stack loss: which days are outliers?
# ------------------------------------
# Brownlee's 21 days of a plant oxidising ammonia (air flow, cooling water temperature,
# acid concentration; stack loss), the classic robust-regression data set.

STACKLOSS = np.array(
    [
        [80, 27, 89, 42], [80, 27, 88, 37], [75, 25, 90, 37], [62, 24, 87, 28],
        [62, 22, 87, 18], [62, 23, 87, 18], [62, 24, 93, 19], [62, 24, 93, 20],
        [58, 23, 87, 15], [58, 18, 80, 14], [58, 18, 89, 14], [58, 17, 88, 13],
        [58, 18, 82, 11], [58, 19, 93, 12], [50, 18, 89, 8], [50, 18, 86, 7],
        [50, 19, 72, 8], [50, 19, 79, 8], [50, 20, 80, 9], [56, 20, 82, 15],
        [70, 20, 91, 15],
    ],
    dtype=float,
)  # fmt: skip
X, y = STACKLOSS[:, :3], STACKLOSS[:, 3]
stack = {
    "least squares": RobustRegressor(loss="least-squares").fit(X, y),
    "Huber M (MAD scale)": RobustRegressor().fit(X, y),
    "MM (S-start, bisquare)": RobustRegressor(method="MM", random_state=0).fit(X, y),
}
mm = stack["MM (S-start, bisquare)"]
print(mm.summary())
print("days flagged as outliers by MM:", (np.flatnonzero(mm.outliers_) + 1).tolist())

fig, ax = plt.subplots(figsize=(8, 3.6))
for name, model in stack.items():
    ax.plot(np.arange(1, 22), model.weights_, "o-", ms=4, label=name)
ax.set(xlabel="day", ylabel="robustness weight", title="stack loss: the weight of each day")
ax.set_xticks(range(1, 22))
ax.legend(fontsize="small")
fig.tight_layout()

# %%
# MM against contamination
# ------------------------
# 200 rows of ``y = 1 + 2 x1 - x2 + noise``; then a growing share of them moved to one
# far leverage point ``(10, 10)`` with ``y = -50``. Least squares breaks at once. The
# M-estimates bound the influence of large *residuals*, but a leverage point pulls the
# fit towards itself until its residual is small, so they break too. MM starts from an
# S-estimate that fits the majority whatever the rest does (50% breakdown) and keeps it.

rng = np.random.default_rng(0)
truth = np.array([1.0, 2.0, -1.0])  # intercept, slopes
fractions = np.arange(0.0, 0.45, 0.05)
estimators = {
    "least squares": {"loss": "least-squares"},
    "Huber M": {},
    "bisquare M": {"loss": "bisquare"},
    "MM": {"method": "MM", "random_state": 0},
}
errors = {name: [] for name in estimators}
for fraction in fractions:
    Xc = rng.normal(size=(200, 2))
    yc = truth[0] + Xc @ truth[1:] + 0.5 * rng.normal(size=200)
    bad = rng.choice(200, size=round(fraction * 200), replace=False)
    Xc[bad] = [10.0, 10.0]
    yc[bad] = -50.0 + rng.normal(size=bad.size)
    for name, params in estimators.items():
        model = RobustRegressor(**params).fit(Xc, yc)
        found = np.r_[model.intercept_, model.coef_]
        errors[name].append(np.max(np.abs(found - truth)))

fig, ax = plt.subplots(figsize=(8, 4))
for name, err in errors.items():
    ax.semilogy(100 * fractions, err, "o-", label=name)
ax.set(
    xlabel="rows at the leverage point [%]",
    ylabel="max |coefficient error|",
    title="breakdown under contamination",
)
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()

print("max coefficient error at 40% contamination:")
for name, err in errors.items():
    print(f"  {name:<14}{err[-1]:.3f}")

plt.show()
