"""
Derivative checking: finding a planted bug
==========================================

A hand-written gradient is the fastest there is, and the easiest to get subtly wrong:
a forgotten term, a factor of two, an index off by one. The optimizer will not tell
you; it just converges slowly, or to the wrong place. Check it against a reference
before trusting it.

Here is the gradient of a regularised logistic regression, written by hand, with one
mistake planted in it. :func:`gradopt.check_gradient` finds which component is wrong;
scipy's ``check_grad`` gives one number that cannot tell.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import check_grad

from gradopt import check_gradient

rng = np.random.default_rng(1)
n, d = 300, 12
A = rng.normal(size=(n, d)) * np.geomspace(1.0, 100.0, d)  # features on different scales
b = (A @ rng.normal(size=d) / 50 + 0.5 * rng.normal(size=n) > 0).astype(float)
LAMBDA = 1e-3


def loss(w):
    z = A @ w
    return np.mean(np.logaddexp(0.0, z) - b * z) + 0.5 * LAMBDA * (w @ w)


def gradient(w):
    p = 1.0 / (1.0 + np.exp(-(A @ w)))
    return A.T @ (p - b) / n + LAMBDA * w


def gradient_with_bug(w):
    g = gradient(w)
    g[0] -= LAMBDA * w[0]  # the bug: "the first weight is the intercept, no penalty"
    return g


w = rng.normal(size=d) / 100

# %%
# scipy's check_grad: one absolute number
# ---------------------------------------
# ``check_grad`` returns ``||grad(x) - forward difference||₂``. It mixes the forward
# difference's own error (about ``sqrt(eps)`` relative, times the scale of f's
# curvature) with your mistake: here the correct gradient scores about as badly as the
# wrong one, so no threshold separates them.

print(f"check_grad, correct gradient: {check_grad(loss, gradient, w):.2e}")
print(f"check_grad, planted bug:      {check_grad(loss, gradient_with_bug, w):.2e}")

# %%
# gradopt's check_gradient: per component, relative, with the reference's error taken off
# ----------------------------------------------------------------------------------------
# The reference is Richardson extrapolation, which comes with its own error estimate.
# Each component's error is what the estimate cannot explain, relative to the
# component: a correct gradient scores at rounding level, a wrong one stands out.

right = check_gradient(loss, gradient, w)
wrong = check_gradient(loss, gradient_with_bug, w)
print(right)
print(wrong)

fig, ax = plt.subplots(figsize=(8, 4))
floor = 1e-17  # errors of exactly 0 are drawn here
index = np.arange(d)
ax.semilogy(index - 0.1, np.maximum(right.errors, floor), "o", label="correct gradient")
ax.semilogy(index + 0.1, np.maximum(wrong.errors, floor), "s", label="gradient with the bug")
ax.axhline(wrong.rtol, color="k", ls="--", lw=1, label=f"rtol = {wrong.rtol:g}")
ax.set(
    xlabel="component j",
    ylabel="relative error beyond the reference's estimate",
    title="check_gradient, component by component",
    ylim=(floor / 3, 1),
)
ax.set_xticks(index)
ax.legend(fontsize="small")
fig.tight_layout()

# %%
# The report names the component (0) and the size of the mistake: exactly the ridge
# term ``LAMBDA * w[0]`` relative to that component. The same check runs from the
# command line, with the exit status a CI job can test (0 right, 1 wrong)::
#
#     gradopt check-grad mymodel:loss mymodel:gradient --x0 0.01,0.02,...
#
# where ``mymodel.py`` is your module in the current directory.

print(
    f"worst component {wrong.worst}: gradient {wrong.grad[wrong.worst]:.6e}, "
    f"reference {wrong.reference[wrong.worst]:.6e} ± {wrong.reference_error[wrong.worst]:.1e}"
)
print(f"the ridge term it lacks: {LAMBDA * w[0]:.6e}")

plt.show()
