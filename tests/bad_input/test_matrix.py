"""Every case of the bad-input matrix, one test each (the table of docs/bad_input.rst)."""

from __future__ import annotations

import importlib.util

import pytest

from tests.bad_input import cases_cli
from tests.bad_input.outcomes import TIME_LIMIT, Case, check
from tests.bad_input.table import TABLE, all_cases, render

CASES = all_cases()


@pytest.fixture(scope="module", autouse=True)
def csv_files(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The data files of the CLI cases, in a temporary directory."""
    folder = tmp_path_factory.mktemp("csv")
    for name, text in cases_cli.CSV_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    cases_cli.DATA[:] = [folder]


@pytest.mark.timeout(TIME_LIMIT)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    check(case)


@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="the table has the Jax rows: needs jax"
)
def test_the_docs_table_is_these_cases() -> None:
    assert TABLE.read_text(encoding="utf-8") == render(CASES), (
        f"{TABLE} is out of date: run python -m tests.bad_input.table"
    )


def test_every_case_is_named_once() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
