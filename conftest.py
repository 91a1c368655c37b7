"""Test configuration for the whole run (tests/ and the doctests of gradopt/)."""

import importlib.util

from tests.profiles import load

load()  # the hypothesis profile (see tests/profiles.py)

# The `jax` extra installs only on Python >= 3.11 (CI's oldest job runs 3.10 without it):
# a module written with jax is then not even imported by --doctest-modules.
collect_ignore = (
    []
    if importlib.util.find_spec("jax")
    else ["gradopt/gradients/jax.py", "tests/forms/jax_forms.py"]
)
