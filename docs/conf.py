"""Sphinx configuration for gradopt's documentation.

Build: ``pip install ".[docs]"`` then ``python -m sphinx -W -b html docs docs/_build/html``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's gradopt

import gradopt

project = "gradopt"
author = "gradopt developers"
copyright = "gradopt developers, BSD-3-Clause"
version = release = gradopt.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]

autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's Parameters sections say it, once
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False
numpydoc_validation_checks: set[str] = set()
# Every cross-reference must resolve (builds clean today). No intersphinx (builds run
# offline): a third-party target that cannot resolve goes into nitpick_ignore.
nitpicky = True
nitpick_ignore: list[tuple[str, str]] = []
nitpick_ignore_regex = [(r"py:.*", r"scipy\..*")]

exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path: list[str] = []
