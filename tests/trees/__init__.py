"""Random smooth expression trees for property tests, with their exact derivatives.

:mod:`tests.trees.nodes` draws trees (hypothesis strategies) and realises them in each
backend's form (numpy, ``autograd.numpy``, ``jax.numpy``, a sympy expression);
:mod:`tests.trees.jets` computes their true derivatives in extended precision and bounds
the rounding error of an evaluation in float64, from which each method's tolerance follows.
"""
