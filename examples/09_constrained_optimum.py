"""
A constrained problem with a known optimum
==========================================

Problem 71 of Hock and Schittkowski's collection of test problems for nonlinear
programming (1981): four variables in ``[1, 5]``, a product constraint and a sphere::

    minimize    x1 x4 (x1 + x2 + x3) + x3
    subject to  x1 x2 x3 x4 >= 25
                x1^2 + x2^2 + x3^2 + x4^2 = 40
                1 <= x1, x2, x3, x4 <= 5

from ``x0 = (1, 5, 5, 1)``; the optimum is ``f* = 17.0140173`` at
``x* = (1, 4.7429994, 3.8211503, 1.3794082)``. Both constraints come from one function
with two outputs, given to :class:`gradopt.Constraint` with a finite-difference Jacobian
(``lb == ub`` makes the second one an equality); the objective's gradient comes from
finite differences too. Every method of :func:`gradopt.minimize` that takes constraints
solves it.
"""

import numpy as np

from gradopt import Constraint, FiniteDifference, minimize

F_STAR = 17.0140173
X_STAR = np.array([1.0, 4.7429994, 3.8211503, 1.3794082])


def objective(x):
    return x[0] * x[3] * (x[0] + x[1] + x[2]) + x[2]


def constraints(x):
    """The product and the squared norm: two outputs, one provider."""
    return np.array([x[0] * x[1] * x[2] * x[3], x @ x])


# %%
# Four methods, one problem
# -------------------------
# SLSQP and trust-constr use the Jacobian of the constraints (here by central
# differences, 2 x 4 = 8 calls of ``constraints`` each); COBYLA and COBYQA only their
# values. The derivative-free methods end at the optimum but may stop just outside
# scipy's feasibility tolerance of the equality: scipy then reports a failure, and so
# does gradopt, with the point it reached.

if __name__ == "__main__":
    import warnings

    print(f"{'method':<14}{'f':>12}{'|f - f*|':>10}{'max|x - x*|':>13}{'calls':>7}  status")
    for method in ("SLSQP", "trust-constr", "COBYLA", "COBYQA"):
        g = FiniteDifference(constraints)
        both = Constraint(g, lb=[25.0, 40.0], ub=[np.inf, 40.0])
        f = FiniteDifference(objective)
        with warnings.catch_warnings():  # trust-constr's quasi-Newton update may warn
            warnings.simplefilter("ignore", UserWarning)
            res = minimize(f, [1.0, 5.0, 5.0, 1.0], method, bounds=[(1, 5)] * 4, constraints=both)
        print(
            f"{method:<14}{res.fun:>12.7f}{abs(res.fun - F_STAR):>10.1e}"
            f"{np.max(np.abs(res.x - X_STAR)):>13.1e}{f.nfev + g.nfev:>7}  {res.status.name}"
        )
        assert abs(res.fun - F_STAR) < 1e-6 and np.allclose(res.x, X_STAR, atol=1e-3)
