"""Sphinx configuration for gradopt's documentation.

Build (Python >= 3.11, for JAX): ``pip install ".[docs]"`` then
``python -m sphinx -W -b html docs docs/_build/html`` (about a minute: the gallery's
examples run at build time). ``-D plot_gallery=0`` skips running them.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # the checkout's gradopt
sys.path.insert(0, str(DOCS / "_ext"))  # the docs' own extensions
os.environ.setdefault("MPLBACKEND", "Agg")
# The gallery runs every example in this one process: once the JAX story has run, JAX
# warns at each fork (the calibration story's worker pool), which the reader running
# that story on its own never sees.
warnings.filterwarnings("ignore", r"os\.fork\(\) was called", RuntimeWarning)

# Two gallery stories (the cost of a gradient, JAX against autograd) run JAX, which the
# docs extra installs on Python >= 3.11 only: say so rather than fail inside a story.
if importlib.util.find_spec("jax") is None:
    raise RuntimeError(
        "the docs build runs the gallery, whose JAX stories need jax: build on Python >= 3.11 "
        'after pip install ".[docs]"'
    )

import gradopt  # noqa: E402

project = "gradopt"
author = "gradopt developers"
copyright = "gradopt developers, BSD-3-Clause"
version = release = gradopt.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",  # CHANGELOG.md, included as it is
    "sphinx_gallery.gen_gallery",
    "gradopt_docs",  # generated pages: benchmark figures, CLI help, the demo's output
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

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
myst_heading_anchors = 3

# The gallery: examples/NN_*.py, each a short story, run at build time (a few seconds
# each). Other scripts in examples/ are not part of it until they take that form.
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/\d\d_",
    "ignore_pattern": r"/(?!\d\d_)[^/]*\.py$",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "reset_modules": ("matplotlib",),
    "min_reported_time": 1,
    "image_srcset": [],
}

html_theme = "pydata_sphinx_theme"
html_title = f"gradopt {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"getting_started": [], "changelog": []}
