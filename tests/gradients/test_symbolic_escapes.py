"""Strings that try to run code through ``Symbolic``: each is refused and nothing runs.

Every attempt tries a side effect that would betray it (creating the file PATH, or setting
an attribute on ``builtins`` or on ``gradopt``) and is checked for InvalidInputError naming
the construct, the absence of the side effect, and a time bound. The controls at the end
show that the payloads are live: run by Python or by sympy's own parser, they do create the
file.
"""

from __future__ import annotations

import builtins
import time
from pathlib import Path

import pytest
import sympy as sp

import gradopt
from gradopt import Symbolic
from gradopt.exceptions import InvalidInputError

_TOUCH = '\\x5f\\x5fimport\\x5f\\x5f("pathlib").Path("PATH").touch()'  # '__import__(...)'

# name: (attempt, a fragment of the refusal). PATH is replaced by the file to create.
ATTEMPTS = {
    "__import__ call": ('__import__("pathlib").Path("PATH").touch()', "attribute access '.touch'"),
    "open()": ('open("PATH", "w")', "undefined function 'open'"),
    "eval of a string": ('eval(\'open("PATH", "w")\')', "undefined function 'eval'"),
    "exec of a string": ('exec(\'open("PATH", "w")\')', "undefined function 'exec'"),
    "compile and eval": (
        "eval(compile('open(\"PATH\", \"w\")', '', 'eval'))",
        "undefined function 'eval'",
    ),
    "getattr on __builtins__": (
        'getattr(__builtins__, "open")("PATH", "w")',
        "calling 'getattr(__builtins__, \"open\")' is not allowed",
    ),
    "globals() subscript": ('globals()["__builtins__"]["open"]("PATH", "w")', "calling"),
    "vars() subscript": ('vars()["open"]("PATH", "w")', "calling"),
    "lambda called": ('(lambda: open("PATH", "w"))()', "calling 'lambda: open"),
    "subclasses chain": (
        '[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "catch_warnings"]'
        '[0]()._module.__builtins__["open"]("PATH", "w")',
        "calling",
    ),
    "sympify of concatenated dunders": (
        "sympify('_' + '_import_' + '_(\"pathlib\").Path(\"PATH\").touch()')",
        "undefined function 'sympify'",
    ),
    "parse_expr of concatenated dunders": (
        "parse_expr('_' + '_import_' + '_(\"pathlib\").Path(\"PATH\").touch()')",
        "undefined function 'parse_expr'",
    ),
    "S of concatenated dunders": (
        "S('_' + '_import_' + '_(\"pathlib\").Path(\"PATH\").touch()')",
        "undefined function 'S'",
    ),
    "lambdify of concatenated dunders": (
        "lambdify(x, '_' + '_import_' + '_(\"pathlib\").Path(\"PATH\").touch()')(1)",
        "calling 'lambdify",
    ),
    "chr() built dunders": (
        "sympify(chr(95)*2 + 'import' + chr(95)*2 + '(\"pathlib\").Path(\"PATH\").touch()')",
        "undefined function 'sympify'",
    ),
    "\\x5f escapes in a string literal": (f"sympify('{_TOUCH}')", "undefined function"),
    "\\u005f escapes in a string literal": (
        'sympify(\'\\u005f\\u005fimport\\u005f\\u005f("pathlib").Path("PATH").touch()\')',
        "undefined function 'sympify'",
    ),
    "bytes literal decoded": (f"sympify(b'{_TOUCH}'.decode())", "undefined function"),
    "undefined function re-parsing a string": (f"f('{_TOUCH}')", "undefined function 'f'"),
    "Function() re-parsing a string": (f"Function('g')('{_TOUCH}')", "calling 'Function"),
    "Symbol() named by a payload": (f"Symbol('{_TOUCH}')", "undefined function 'Symbol'"),
    "allowed function given a string": (f"sin('{_TOUCH}')", "string literal"),
    "string literal alone": (f"'{_TOUCH}'", "string literal '__import__"),
    "f-string": ('f\'{open("PATH", "w")}\'', "f-string"),
    "walrus": ('(y := open("PATH", "w"))', "assignment expression"),
    "list comprehension": ('[open("PATH", "w") for _ in (1,)]', "list comprehension"),
    "generator unpacked into Max": (
        'Max(x, *(open("PATH", "w") for _ in (1,)))',
        "argument unpacking",
    ),
    "call inside an allowed function": ('sin(open("PATH", "w"))', "undefined function 'open'"),
    "keyword argument": ('Max(x, evaluate=open("PATH", "w"))', "keyword argument 'evaluate='"),
    "** unpacking": ('Max(x, **{"evaluate": open("PATH", "w")})', "argument unpacking '**'"),
    "call in a Piecewise condition": (
        'Piecewise((x, open("PATH", "w") > 0), (0, True))',
        "undefined function 'open'",
    ),
    "conditional expression": ('x if open("PATH", "w") else x', "conditional expression"),
    "attribute of an allowed function": (
        'sin.__globals__["__builtins__"]["open"]("PATH", "w")',
        "calling",
    ),
    "attribute chain from a variable": ("x.__class__.__mro__", "attribute access '.__mro__'"),
    "fullwidth letters (NFKC) for open": ('ｏｐｅｎ("PATH", "w")', "undefined function 'open'"),
    "statement after ;": ('x; open("PATH", "w")', "SyntaxError"),
    "statement after a newline": ('x\nopen("PATH", "w")', "SyntaxError"),
    "setattr on builtins": (
        'setattr(__import__("builtins"), "GRADOPT_PWNED", 1)',
        "undefined function 'setattr'",
    ),
    "sympify running setattr on builtins": (
        'sympify(\'setattr(\\x5f\\x5fimport\\x5f\\x5f("builtins"), "GRADOPT_PWNED", 1)\')',
        "undefined function 'sympify'",
    ),
    "sympify running setattr on gradopt": (
        'sympify(\'setattr(\\x5f\\x5fimport\\x5f\\x5f("gradopt"), "GRADOPT_PWNED", 1)\')',
        "undefined function 'sympify'",
    ),
    "huge power tower": ("x + 9**9**9**9", "the exponent in '9**9**9'"),
    "factorial of 10**7": ("factorial(10**7)", "undefined function 'factorial'"),
    "huge power of a root": ("x*sqrt(2)**(10**6)", "the exponent in 'sqrt(2)**(10**6)'"),
    "huge exponent": ("x**(10**10**10)", "the exponent in '10**10**10'"),
    "exact number too large": ("x*3**4000", "number too large to compute"),
    "deep nesting": ("sin(" * 200 + "x" + ")" * 200, "nested"),
}


def _betrayed(path: Path) -> bool:
    return path.exists() or hasattr(builtins, "GRADOPT_PWNED") or hasattr(gradopt, "GRADOPT_PWNED")


@pytest.mark.parametrize("name", list(ATTEMPTS))
def test_escape_attempt_is_refused_and_nothing_runs(name: str, tmp_path: Path) -> None:
    attempt, fragment = ATTEMPTS[name]
    path = tmp_path / "pwned"
    start = time.perf_counter()
    with pytest.raises(InvalidInputError, match="cannot parse the expression") as info:
        Symbolic(attempt.replace("PATH", str(path)), ["x"])
    elapsed = time.perf_counter() - start
    assert fragment in str(info.value)
    assert not _betrayed(path)
    assert elapsed < 1.0  # about a millisecond; the bound leaves room for a busy machine


def test_a_name_alone_is_a_symbol_not_a_lookup(tmp_path: Path) -> None:
    # __import__ or open without a call are just unknown names: free symbols, named.
    with pytest.raises(InvalidInputError, match="not variables: __import__, open"):
        Symbolic("x + __import__ + open", ["x"])


def test_the_corpus_is_live(tmp_path: Path) -> None:
    """Controls: the payloads do their harm when Python or sympy's parser runs them."""
    path = tmp_path / "pwned"
    eval(ATTEMPTS["open()"][0].replace("PATH", str(path))).close()
    assert _betrayed(path)
    path.unlink()
    payload = "_" + "_import_" + '_("pathlib").Path("PATH").touch()'
    sp.sympify(payload.replace("PATH", str(path)))  # sympy's parser evaluates Python
    assert _betrayed(path)
