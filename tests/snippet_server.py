"""Run scripts in forked children of one warm process (see :mod:`tests.snippets`).

Reads one JSON request per line on stdin, ``{"path": ..., "timeout": ...}``; answers one
JSON line on stdout, ``{"status": exit status or "timeout", "output": stdout+stderr}``.
Each script runs in a child forked from this process (numpy, scipy, scikit-learn,
autograd and gradopt already imported): a new session, the script's directory as the
working directory, ``__name__ == "__main__"``, and a normal interpreter exit. The child's
process group is killed after it exits (workers it left) or at the timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from typing import Any

# Imported once, here, for every child (MPLBACKEND=Agg comes from the environment).
import autograd.numpy
import matplotlib.pyplot
import numpy
import scipy.integrate
import scipy.optimize
import sklearn.linear_model
import sympy

import gradopt
import gradopt.linear_model

_PRELOADED = (autograd.numpy, matplotlib.pyplot, numpy, scipy, sklearn, sympy, gradopt)


def _wait(pid: int, timeout: float) -> int | str:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            code = "timeout"
            break
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # the child (on timeout) and whatever it left
    if code == "timeout":
        os.waitpid(pid, 0)
    return code


def serve() -> dict[str, Any] | None:
    """Answer requests; return the request in a forked child (None in the server at EOF)."""
    for line in sys.stdin:
        request = json.loads(line)
        log = request["path"] + ".log"
        pid = os.fork()
        if pid == 0:
            request["log"] = log
            return request
        status = _wait(pid, float(request["timeout"]))
        with open(log, errors="replace") as f:
            output = f.read()
        sys.stdout.write(json.dumps({"status": status, "output": output}) + "\n")
        sys.stdout.flush()
    return None


def _child(request: dict[str, Any]) -> None:
    """Become the script: own session, own directory, output to the log, stdin empty."""
    import runpy

    os.setsid()
    path = request["path"]
    fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    os.chdir(os.path.dirname(path))
    sys.argv = [path]
    sys.path[0] = os.path.dirname(path)
    runpy.run_path(path, run_name="__main__")


if __name__ == "__main__":
    todo = serve()
    if todo is not None:
        _child(todo)  # an exception here is a traceback and exit status 1, as in a script
