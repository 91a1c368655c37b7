"""Shared test configuration: the hypothesis profile (see :mod:`tests.profiles`)."""

from tests.profiles import load

load()
