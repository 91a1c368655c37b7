"""Check .ci/oldest-constraints.txt against the floors pyproject.toml declares.

Every ``name>=X`` among the runtime dependencies and the ``test`` extra must be pinned
``name==X`` in the constraints file (a mismatch fails: the oldest-versions job would not
test the oldest versions); a dependency without a pin is listed (it installs at its
newest compatible version). Run with Python >= 3.11 (tomllib).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(>=\s*([0-9][^,;\s]*))?")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _same(a: str, b: str) -> bool:
    """Whether two release numbers are equal (1.25 == 1.25.0)."""
    x, y = ([int(part) for part in v.split(".")] for v in (a, b))
    width = max(len(x), len(y))
    return x + [0] * (width - len(x)) == y + [0] * (width - len(y))


def floors() -> dict[str, str | None]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
    found: dict[str, str | None] = {}
    for requirement in requirements:
        match = REQUIREMENT.match(requirement)
        if match:
            found[_normal(match.group(1))] = match.group(4)
    return found


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / ".ci" / "oldest-constraints.txt").read_text().splitlines():
        name, sep, version = line.split("#")[0].strip().partition("==")
        if sep:
            found[_normal(name)] = version.strip()
    return found


def main() -> int:
    declared, pinned = floors(), pins()
    wrong = [
        f"{name}: pyproject says >={floor}, the constraints pin =={pinned[name]}"
        for name, floor in declared.items()
        if floor is not None and name in pinned and not _same(pinned[name], floor)
    ]
    unpinned = sorted(name for name in declared if name not in pinned)
    for line in wrong:
        print(f"CI: floor and pin disagree: {line}", file=sys.stderr)
    if unpinned:
        print(
            "CI: no oldest pin for " + ", ".join(unpinned) + " (their newest compatible "
            "versions will be installed; add a pin to .ci/oldest-constraints.txt)"
        )
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
