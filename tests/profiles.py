"""Hypothesis profiles for the property tests (loaded by the root ``conftest.py``).

``ci`` (the default): 100 examples per property, hypothesis' own default, so that the
whole suite stays fast. ``thorough``: 2,000 examples per property, for a run before a
release or after changing a derivative method::

    HYPOTHESIS_PROFILE=thorough python -m pytest -q -p no:cacheprovider tests/test_properties_*.py

No deadline in either: example times vary with the tree drawn and with the machine's
load, and a slow example is not a wrong one. A property that cannot afford the profile's
count (a sympy compilation per example) takes a share of it with :func:`scaled`.
"""

from __future__ import annotations

import os

from hypothesis import settings

__all__ = ["load", "scaled"]


def load() -> None:
    """Register both profiles and load the one ``HYPOTHESIS_PROFILE`` names (``ci``)."""
    settings.register_profile("ci", max_examples=100, deadline=None, print_blob=True)
    settings.register_profile("thorough", max_examples=2000, deadline=None, print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def scaled(fraction: float) -> settings:
    """Settings with `fraction` of the active profile's examples (at least 10)."""
    return settings(max_examples=max(10, round(settings().max_examples * fraction)))
