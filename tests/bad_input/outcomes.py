"""What a bad input may lead to, and how a case is checked.

Every case specifies one outcome:

- :class:`Raises`: a named exception whose message contains given fragments (the
  argument's name, the value, what was expected);
- :class:`Fails`: an ``OptimizeResult`` with ``success=False``, a given status and a
  message containing given fragments;
- :class:`Returns`: the call works, and a check of what it returned holds (a list or a
  pandas Series is as good as an ndarray);
- :class:`Warns`: the call works and gives a named warning (scikit-learn's conventions);
- :class:`Exits`: a CLI run ends with an exit status and one line on stderr.

No other warning may escape (pytest turns warnings into errors), and no case may take more
than :data:`TIME_LIMIT` seconds: a hang is a failure too.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from gradopt import Status

__all__ = [
    "TIME_LIMIT",
    "Case",
    "Exits",
    "Fails",
    "Outcome",
    "Raises",
    "Returns",
    "Warns",
    "check",
]

TIME_LIMIT = 60  #: seconds a case may take (pytest-timeout)


def _fragments(says: tuple[str, ...]) -> str:
    return " … ".join(f"``{s}``" for s in says)


@dataclass(frozen=True)
class Raises:
    error: type[BaseException]
    says: tuple[str, ...]
    unchanged: bool = False  # the user's own exception: exactly this type

    def describe(self) -> str:
        if self.unchanged:
            return f"raises the user's ``{self.error.__name__}``, unchanged"
        return f"raises ``{self.error.__name__}``: … {_fragments(self.says)} …"


@dataclass(frozen=True)
class Fails:
    status: str  # a gradopt.Status name
    says: tuple[str, ...]

    def describe(self) -> str:
        return f"``success=False``, ``status={self.status}``, message: … {_fragments(self.says)} …"


@dataclass(frozen=True)
class Returns:
    what: str  # in words, for the docs
    holds: Callable[[Any], bool]

    def describe(self) -> str:
        return f"works: {self.what}"


@dataclass(frozen=True)
class Warns:
    warning: type[Warning]
    says: tuple[str, ...]

    def describe(self) -> str:
        return f"works, warns ``{self.warning.__name__}``: … {_fragments(self.says)} …"


@dataclass(frozen=True)
class Exits:
    status: int
    says: tuple[str, ...]

    def describe(self) -> str:
        return f"exit status {self.status}, one line on stderr: … {_fragments(self.says)} …"


Outcome = Raises | Fails | Returns | Warns | Exits


@dataclass(frozen=True)
class Case:
    """One cell of the matrix: an entry point called with one bad input."""

    entry: str  # the entry point, a section of the table
    input: str  # the input, a row of the table (reStructuredText)
    call: Callable[[], Any]  # for Exits: returns the CLI's exit status
    outcome: Outcome

    @property
    def id(self) -> str:
        return f"{self.entry} | {self.input}".replace("``", "")


def _contains(text: str, says: tuple[str, ...]) -> None:
    missing = [s for s in says if s not in text]
    assert not missing, f"message lacks {missing}: {text!r}"


def check(case: Case) -> None:
    """Run `case` and check its outcome."""
    outcome = case.outcome
    if isinstance(outcome, Raises):
        with pytest.raises(BaseException) as info:
            case.call()
        kind = type(info.value)
        right = kind is outcome.error if outcome.unchanged else issubclass(kind, outcome.error)
        assert right, f"expected {outcome.error.__name__}, got {kind.__name__}: {info.value}"
        _contains(str(info.value), outcome.says)
    elif isinstance(outcome, Fails):
        result = case.call()
        assert result.success is False, result
        assert result.status == Status[outcome.status].value, result
        _contains(result.message, outcome.says)
    elif isinstance(outcome, Returns):
        assert outcome.holds(case.call())
    elif isinstance(outcome, Warns):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            case.call()
        named = [w for w in seen if issubclass(w.category, outcome.warning)]
        assert named, f"no {outcome.warning.__name__}; got {[str(w.message) for w in seen]}"
        _contains(str(named[0].message), outcome.says)
    else:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = case.call()
        text = err.getvalue()
        assert status == outcome.status, f"exit status {status}; stderr: {text!r}"
        assert text.count("\n") == 1 and "Traceback" not in text, text
        _contains(text, outcome.says)
