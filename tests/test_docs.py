"""The documentation: every code block runs as a script, every public name is in the API
reference."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import gradopt
from tests.snippets import ROOT, Runner, Snippet, all_snippets, md_snippets, rst_snippets

SNIPPETS = all_snippets()
RUN = [s for s in SNIPPETS if s.skip is None]
#: Blocks that need the reader's own data are skipped, with the reason next to them: rare.
MAX_SKIPPED = 3
TIMEOUT = 240  # seconds per block: a Dask cluster starts in seconds, slower under load


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    r = Runner()
    yield r
    r.close()


#: Optional packages a block may import, and when they are absent (an honest skip).
OPTIONAL = {"jax": "jax is not installed (the jax extra; JAX needs Python >= 3.11)"}


@pytest.mark.parametrize("snippet", RUN, ids=[s.id for s in RUN])
def test_code_block_runs_as_a_script(snippet: Snippet, runner: Runner, tmp_path: Path) -> None:
    for module, reason in OPTIONAL.items():
        uses = re.search(rf"^\s*(import|from) {module}\b", snippet.code, re.MULTILINE)
        if uses and importlib.util.find_spec(module) is None:
            pytest.skip(reason)
    script = tmp_path / "snippet.py"
    script.write_text(snippet.code)
    status, output = runner.run(script, TIMEOUT)
    assert status == 0, f"{snippet.id} exited with {status}:\n{snippet.code}\n---\n{output}"


def test_skipped_blocks_are_few_and_say_why() -> None:
    skipped = [s for s in SNIPPETS if s.skip is not None]
    assert len(skipped) <= MAX_SKIPPED, [s.id for s in skipped]
    assert all(len(s.skip or "") > 10 for s in skipped)


def test_the_blocks_are_found() -> None:
    readme = md_snippets(ROOT / "README.md")
    assert len(readme) >= 5
    parallel = rst_snippets(ROOT / "docs" / "parallel.rst")
    assert any("LocalCluster" in s.code for s in parallel)
    accuracy = rst_snippets(ROOT / "docs" / "accuracy.rst")  # literal '::' blocks
    assert any("step_error" in s.code for s in accuracy)
    assert all(s.code.strip() and not s.code.startswith(" ") for s in SNIPPETS)


def test_extraction_and_skip_markers(tmp_path: Path) -> None:
    page = tmp_path / "page.rst"
    page.write_text(
        "Title\n=====\n\nText::\n\n    a = 1\n    b = a\n\nmore\n\n"
        ".. code-block:: text\n\n   not python\n\n"
        ".. snippet: skip (needs your own data)\n\n"
        ".. code-block:: python\n   :caption: x\n\n   import numpy\n\n       indented\n\n"
        "after\n"
    )
    first, second = rst_snippets(page)
    assert (first.line, first.code, first.skip) == (6, "a = 1\nb = a\n", None)
    assert second.code == "import numpy\n\n    indented\n"
    assert second.skip == "needs your own data"
    md = tmp_path / "page.md"
    md.write_text("x\n<!-- snippet: skip (why not) -->\n```python\nprint(1)\n```\n")
    (only,) = md_snippets(md)
    assert (only.code, only.skip, only.line) == ("print(1)\n", "why not", 4)


def test_the_runner_reports_failures_and_timeouts(runner: Runner, tmp_path: Path) -> None:
    script = tmp_path / "bad.py"
    script.write_text("print('before')\nraise ValueError('planted')\n")
    status, output = runner.run(script, 60)
    assert status == 1 and "before" in output and "ValueError: planted" in output
    script.write_text("import sys\nassert __name__ == '__main__'\nsys.exit(3)\n")
    assert runner.run(script, 60)[0] == 3
    script.write_text("import time\ntime.sleep(60)\n")
    assert runner.run(script, 0.5) == ("timeout", "")


def test_a_process_pool_without_the_guard_fails_as_a_script(
    runner: Runner, tmp_path: Path
) -> None:
    """What the ``__main__`` guard is for: a spawned worker imports the script again."""
    script = tmp_path / "pool.py"
    body = (
        "import multiprocessing as mp\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "def square(v):\n    return v * v\n"
        "{guard}with ProcessPoolExecutor(1, mp_context=mp.get_context('spawn')) as pool:\n"
        "{indent}print(list(pool.map(square, [3])))\n"
    )
    script.write_text(body.format(guard="if __name__ == '__main__':\n    ", indent="        "))
    assert runner.run(script, 120) == (0, "[9]\n")
    script.write_text(body.format(guard="", indent="    "))
    status, output = runner.run(script, 120)
    assert status == 1 and "bootstrapping phase" in output


# --- the API reference ------------------------------------------------------------------

_AUTO = re.compile(r"^\s*\.\. auto(class|function|method|data|exception|attribute)::\s*(\S+)")
_AUTOMODULE = re.compile(r"^\s*\.\. automodule::\s*(\S+)")
_CURRENT = re.compile(r"^\s*\.\. currentmodule::\s*(\S+)")


def _resolve(dotted: str) -> Any:
    """The object a dotted name documents, as Sphinx finds it: attributes first
    (``gradopt.optimizers.gradient_descent`` is the function the package exports), the
    submodule of that name where the attribute path leads nowhere."""

    def walk(obj: Any, done: list[str], rest: list[str]) -> Any:
        if not rest:
            return obj
        here = [*done, rest[0]]
        if hasattr(obj, rest[0]):
            try:
                return walk(getattr(obj, rest[0]), here, rest[1:])
            except (AttributeError, ImportError):
                pass
        return walk(importlib.import_module(".".join(here)), here, rest[1:])

    first, *rest = dotted.split(".")
    return walk(importlib.import_module(first), [first], rest)


def _documented_in_api() -> set[int]:
    """ids of the objects docs/api.rst lists (autosummary entries, auto* directives,
    and the members of automodule ... :members:)."""
    lines = (ROOT / "docs" / "api.rst").read_text().splitlines()
    found: set[int] = set()
    current, in_summary = "", False
    for k, line in enumerate(lines):
        if m := _CURRENT.match(line):
            current = m[1]
        elif m := _AUTO.match(line):
            found.add(id(_resolve(m[2])))
        elif m := _AUTOMODULE.match(line):
            module = importlib.import_module(m[1])
            options = "\n".join(lines[k + 1 : k + 6])
            if ":members:" in options:
                found |= {id(getattr(module, n)) for n in module.__all__}
        elif line.strip() == ".. autosummary::":
            in_summary = True
        elif in_summary and line.strip() and not line.startswith(" "):
            in_summary = False
        elif in_summary and line.startswith("   ") and not line.strip().startswith(":"):
            found.add(id(_resolve(f"{current}.{line.strip()}")))
    return found


def _public_names() -> list[tuple[str, str]]:
    """(module, name) for every name in __all__ of gradopt and its public modules."""
    modules = ["gradopt"] + [
        m.name
        for m in pkgutil.walk_packages(gradopt.__path__, "gradopt.")
        if not any(part.startswith("_") for part in m.name.split("."))
    ]
    return [
        (module, name)
        for module in modules
        for name in getattr(importlib.import_module(module), "__all__", [])
        if not name.startswith("__")  # __version__: a string, shown in the docs' title
    ]


def test_every_public_name_is_in_the_api_reference() -> None:
    documented = _documented_in_api()
    missing = [
        f"{module}.{name}"
        for module, name in _public_names()
        if id(getattr(importlib.import_module(module), name)) not in documented
    ]
    assert not missing, f"not in docs/api.rst: {missing}"


def test_the_api_check_sees_the_modules() -> None:
    names = _public_names()
    assert ("gradopt.linear_model", "RobustRegressor") in names
    assert ("gradopt.cli", "main") in names
    assert len(names) > 40
