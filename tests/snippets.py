"""The Python code blocks of the README and the docs, and a fast way to run each as a script.

Extraction: fenced ```` ```python ```` blocks of Markdown files; ``.. code-block:: python``
(also ``code``, ``sourcecode``; ``python``, ``py``, ``python3``) and literal ``::`` blocks
of reStructuredText files (Sphinx highlights those as Python; a block of another language
is written ``.. code-block:: text``).

Skipping a block that cannot run as written (it needs the reader's own data) is
declared next to it, with the reason, on the last non-blank line before it (before the
paragraph that ends in ``::`` for a literal block)::

    .. snippet: skip (needs your data file)            (reStructuredText)
    <!-- snippet: skip (needs your data file) -->      (Markdown)

Code of gradopt itself shown on a page is not a script: include it from the source with
``.. literalinclude:: ../gradopt/<module>.py`` and ``:pyobject:`` (it is then always the
code as it is), rather than copying an excerpt into a code block.

Running: every block is one script, run in a process of its own with
``__name__ == "__main__"``, its own working directory and a timeout. Starting Python and
importing numpy, scipy, scikit-learn and gradopt takes a second or more per process, so
the processes are forked from a server (:mod:`tests.snippet_server`) that has imported
them once; each child then runs the block with :func:`runpy.run_path` and exits as a
script would (exit handlers, threads joined), and its whole process group is killed after
it, or at the timeout.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SKIP_RST = re.compile(r"^\s*\.\. snippet: skip \((?P<reason>[^)]+)\)\s*$")
_SKIP_MD = re.compile(r"^\s*<!-- snippet: skip \((?P<reason>[^)]+)\) -->\s*$")
_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\. (code-block|code|sourcecode)::\s*(?P<lang>\S*)\s*$")
_PYTHON = {"python", "py", "python3"}


@dataclass(frozen=True)
class Snippet:
    path: Path
    line: int  # 1-based line of the block's first code line
    code: str
    skip: str | None  # the declared reason, if skipped

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _before(lines: list[str], k: int) -> str:
    """The last non-blank line above line k ('' if none)."""
    j = k - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    return lines[j] if j >= 0 else ""


def _body(lines: list[str], k: int, indent: int) -> tuple[int, str]:
    """The indented block after line k (options and blank lines skipped): first line, text."""
    j = k + 1
    while j < len(lines) and (not lines[j].strip() or lines[j].strip().startswith(":")):
        if lines[j].strip() and _indent(lines[j]) <= indent:
            break
        j += 1
    start, body = j, []
    while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > indent):
        body.append(lines[j])
        j += 1
    return start + 1, textwrap.dedent("\n".join(body)).strip("\n") + "\n"


def rst_snippets(path: Path) -> list[Snippet]:
    lines = path.read_text().splitlines()
    out = []
    for k, line in enumerate(lines):
        directive = _DIRECTIVE.match(line)
        if directive:
            if directive["lang"] not in _PYTHON:
                continue
            marker = _before(lines, k)
        elif line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            paragraph = k  # the marker goes before the paragraph that introduces the block
            while paragraph > 0 and lines[paragraph - 1].strip():
                paragraph -= 1
            marker = _before(lines, paragraph)
        else:
            continue
        start, code = _body(lines, k, _indent(line))
        skip = _SKIP_RST.match(marker)
        out.append(Snippet(path, start, code, skip["reason"] if skip else None))
    return out


def md_snippets(path: Path) -> list[Snippet]:
    lines = path.read_text().splitlines()
    out, k = [], 0
    while k < len(lines):
        if lines[k].strip() in {"```python", "```py"}:
            skip = _SKIP_MD.match(_before(lines, k))
            end = next(j for j in range(k + 1, len(lines)) if lines[j].strip() == "```")
            code = "\n".join(lines[k + 1 : end]) + "\n"
            out.append(Snippet(path, k + 2, code, skip["reason"] if skip else None))
            k = end
        k += 1
    return out


def all_snippets() -> list[Snippet]:
    """The README's blocks and those of every page under docs/ (not generated ones)."""
    generated = {"_build", "_generated", "generated", "auto_examples"}
    pages = [p for p in sorted((ROOT / "docs").rglob("*")) if not generated & set(p.parts)]
    found = md_snippets(ROOT / "README.md")
    for page in pages:
        if page.suffix == ".rst":
            found += rst_snippets(page)
        elif page.suffix == ".md":
            found += md_snippets(page)
    return found


class Runner:
    """Talks to :mod:`tests.snippet_server`: one request, one forked child, one answer."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("snippet_server.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )

    def run(self, script: Path, timeout: float) -> tuple[int | str, str]:
        """Run `script` in its directory: the exit status (or "timeout") and its output."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps({"path": str(script), "timeout": timeout}) + "\n")
        self._proc.stdin.flush()
        answer = self._proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"the snippet server died (status {self._proc.poll()})")
        reply = json.loads(answer)
        return reply["status"], reply["output"]

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
