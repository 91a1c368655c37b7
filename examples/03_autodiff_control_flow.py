"""
Automatic differentiation through loops, branches and matrix products
=====================================================================

Automatic differentiation does not need a formula: it differentiates the *program*.
:class:`~gradopt.Autograd` runs your function once, records every arithmetic operation on
the way, and walks that record backwards. Python loops are unrolled as they run, an
``if`` contributes the branch actually taken, and matrix products are differentiated as
matrix products. The only rule: write f with ``autograd.numpy`` and build new arrays
instead of assigning into them.
"""

from functools import partial

import autograd.numpy as anp
import matplotlib.pyplot as plt
import numpy as np

from gradopt import Autograd, FiniteDifference

# %%
# A loop: a simulated projectile with drag
# ----------------------------------------
# 100 explicit Euler steps of a projectile with quadratic air drag; the parameters are
# the launch angle and speed, f is the squared miss distance from a target at 60 m.
# Autograd differentiates through all of them in one backward pass.

TARGET, DT, STEPS = 60.0, 0.04, 100


def miss(params, interpolate=True):
    angle, speed = params[0], params[1]
    pos = anp.array([0.0, 0.0])
    vel = speed * anp.array([anp.cos(angle), anp.sin(angle)])
    landed = pos[0]
    for _ in range(STEPS):  # a Python loop: unrolled as it runs
        acc = anp.array([0.0, -9.81]) - 0.02 * anp.sqrt(vel @ vel) * vel  # matrix product
        new = pos + DT * (vel + DT * acc)
        vel = vel + DT * acc
        if new[1] < 0.0:  # a branch on a value: the trace follows the one taken
            if interpolate:  # where the last step crossed the ground
                landed = pos[0] + (new[0] - pos[0]) * pos[1] / (pos[1] - new[1])
            break
        pos = new
        landed = pos[0]
    return (landed - TARGET) ** 2


x = np.array([0.6, 30.0])
ad = Autograd(miss)
fd = FiniteDifference(miss, method="central")
value, g_ad = ad.value_and_grad(x)
_, g_fd = fd.value_and_grad(x)
print(f"miss at angle 0.6 rad, speed 30 m/s: {value:.3f} m²")
print(f"autograd: {g_ad}  ({ad.nfev} traced call of f)")
print(f"central:  {g_fd}  ({fd.nfev} calls of f)")

# %%
# The two agree to the digits a central difference has (about ``eps^(2/3)``). The
# branch matters in a way no differentiation tool can see: had we taken the landing
# point as the last step above ground (``interpolate=False``), f would jump each time a
# change of speed moves the landing across a step. Every derivative, automatic or by
# difference, is the slope of the piece it stands on and says nothing about the jumps;
# interpolating where the last step crossed the ground makes f smooth, and its
# derivative the slope of the whole curve.

speeds = np.linspace(29.0, 31.0, 21)
curves = {}
for interpolate in (False, True):
    f = partial(miss, interpolate=interpolate)
    rows = [Autograd(f).value_and_grad(np.array([0.6, s])) for s in speeds]
    curves[interpolate] = (np.array([v for v, _ in rows]), np.array([g[1] for _, g in rows]))
d_fd = [FiniteDifference(miss).grad(np.array([0.6, s]))[1] for s in speeds]

fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
for interpolate, style in ((False, "--"), (True, "-")):
    label = "landing interpolated" if interpolate else "landing at the last step"
    values, slopes = curves[interpolate]
    top.plot(speeds, values, style, color="k", label=label)
    bottom.plot(speeds, slopes, style, color="tab:blue", label=f"autograd, {label}")
bottom.plot(speeds, d_fd, "o", ms=3, color="tab:orange", label="central, interpolated")
top.set(ylabel="f = miss² [m²]", title="angle 0.6 rad: f and df/dspeed along the speed")
bottom.set(xlabel="launch speed [m/s]", ylabel="df/dspeed")
top.legend(fontsize="small")
bottom.legend(fontsize="small")
fig.tight_layout()

# %%
# Matrix products: a small neural network
# ---------------------------------------
# A two-layer network ``tanh(X W1) W2``, its squared error on 200 samples, as a function
# of all 2·16 + 16 = 48 weights packed in one vector. One traced call gives all 48
# partial derivatives; a central difference needs 96 calls.

rng = np.random.default_rng(0)
X = rng.normal(size=(200, 2))
y = np.sin(2 * X[:, 0]) * np.cos(X[:, 1])


def network_loss(w):
    W1 = anp.reshape(w[:32], (2, 16))
    W2 = w[32:]
    hidden = anp.tanh(X @ W1)
    return anp.mean((hidden @ W2 - y) ** 2)


w0 = 0.5 * rng.normal(size=48)
g_ad = Autograd(network_loss).grad(w0)
richardson = FiniteDifference(network_loss, method="richardson")
g_ri, err = richardson.grad_and_error(w0)
print(f"network: max |autograd - richardson| = {np.max(np.abs(g_ad - g_ri)):.1e}, ")
print(f"         richardson's own error estimate up to {err.max():.1e}, {richardson.nfev} calls")

# %%
# Autograd's Hessian-vector products come from the same trace (forward over reverse),
# which Newton-type optimizers use (``minimize(..., method="Newton-CG")``):

v = rng.normal(size=48)
hv = Autograd(network_loss).hessp(w0, v)
grad = Autograd(network_loss).grad
h = 1e-5
difference = (grad(w0 + h * v) - grad(w0 - h * v)) / (2 * h)  # H v, by a central difference
print(f"H v from hessp against a difference of gradients: {np.max(np.abs(hv - difference)):.1e}")

plt.show()
