"""Process counts before and after each failure mode of ``FiniteDifference(workers=N)``.

Each scenario runs in a fresh interpreter (``python benchmarks/process_failures.py``
runs them all against the gradopt this script sits beside; ``--gradopt PATH`` against
another checkout, e.g. an older one). For each it prints the worker processes alive
at the moment of failure, what the scenario's own process saw, whether the interpreter
exited by itself within the limit, and the descendants left behind afterwards. Anything
left behind is killed by pid at the end. Needs psutil.

Scenarios: a worker hung with ``timeout=0.3``; SIGINT sent to the parent alone during
``minimize`` while both workers hang; a pool whose second process fails to start;
``close()`` from the main thread while another thread's gradient hangs on the workers;
``workers=10**6`` (``workers=64`` with ``--small``, for a checkout without a ceiling) for
a 3-coordinate central difference.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

PRELUDE = """
import os, sys, time, threading, multiprocessing
import numpy as np
from gradopt import FiniteDifference, minimize
PARENT = os.getpid()
def hang(x):
    if os.getpid() != PARENT:
        time.sleep(60)
    return float(np.sum(x**2))
def say(*args):
    print(*args, flush=True)
"""

SCENARIOS = {
    "hung worker, timeout=0.3": """
        try:
            p = FiniteDifference(hang, workers=2, timeout=0.3)
        except Exception as exc:
            say("refused:", type(exc).__name__)
            p = FiniteDifference(hang, workers=2)
        t = time.monotonic()
        try:
            p.grad(np.ones(3))
        except Exception as exc:
            say(type(exc).__name__, "after %.2f s" % (time.monotonic() - t))
        say("children now", len(multiprocessing.active_children()))
    """,
    "SIGINT to the parent during minimize": """
        def f(x):
            if os.getpid() != PARENT and os.path.exists(sys.argv[1]):
                time.sleep(60)
            return float(np.sum((x - 3) ** 2) + np.sum(x**4))
        def cb(intermediate_result):
            if intermediate_result.nit == 2:
                open(sys.argv[1], "w").close()
        try:
            minimize(FiniteDifference(f, workers=2), np.zeros(3), callback=cb)
        except KeyboardInterrupt as exc:
            last = getattr(exc, "intermediate_result", "(not kept)")
            say("KeyboardInterrupt; last iterate:", getattr(last, "nit", last))
            say("children now", len(multiprocessing.active_children()))
    """,
    "failed pool start (2nd process)": """
        from multiprocessing import process
        count = [0]
        original = process.BaseProcess.start
        def start(self):  # the second process started fails, as fork does at a limit
            count[0] += 1
            if count[0] == 2:
                raise BlockingIOError(11, "Resource temporarily unavailable")
            return original(self)
        process.BaseProcess.start = start
        try:
            FiniteDifference(lambda x: float(np.sum(x**2)), workers=2).grad(np.ones(3))
        except Exception as exc:
            say(type(exc).__name__, str(exc)[:90])
        say("children now", len(multiprocessing.active_children()))
    """,
    "close() while another thread's gradient hangs": """
        p = FiniteDifference(hang, workers=2)
        def work():
            try:
                p.grad(np.ones(3))
            except Exception as exc:
                say("thread:", type(exc).__name__)
        threading.Thread(target=work, daemon=True).start()
        time.sleep(1.0)
        say("children before close", len(multiprocessing.active_children()))
        t = time.monotonic()
        p.close()
        say("close() took %.2f s" % (time.monotonic() - t))
        time.sleep(0.2)
        say("children now", len(multiprocessing.active_children()))
    """,
    "workers=WORKERS, 3-coordinate central difference": """
        p = FiniteDifference(lambda x: float(np.sum(x**2)), workers=WORKERS)
        p.grad(np.ones(3))
        say("children during", len(multiprocessing.active_children()))
        p.close()
        say("children now", len(multiprocessing.active_children()))
    """,
}


def descendants(pid: int) -> list[psutil.Process]:
    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [k for k in kids if _alive(k)]


def _alive(p: psutil.Process) -> bool:
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def run(name: str, body: str, gradopt: str, workers: str, limit: float) -> None:
    flag = Path(f"/tmp/gradopt-process-failures-{os.getpid()}")
    flag.unlink(missing_ok=True)
    script = PRELUDE + textwrap.dedent(body).replace("WORKERS", workers)
    env = {**os.environ, "PYTHONPATH": gradopt}
    # Output to a file, not a pipe: workers left behind would hold a pipe open.
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", script, str(flag)],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd="/",  # so that `python -c` imports no gradopt from the current directory
        )
        seen, peak, elapsed = watch(proc, name, flag, limit)
        exited = proc.poll() is not None
        if not exited:
            seen |= {k.pid for k in descendants(proc.pid)}
            proc.kill()
        proc.wait()
        log.seek(0)
        out = " | ".join(line for line in log.read().splitlines() if line.strip())
    time.sleep(0.5)
    survivors = [pid for pid in seen if psutil.pid_exists(pid) and _alive(psutil.Process(pid))]
    verdict = f"exited in {elapsed:.1f} s" if exited else f"still running after {limit:.0f} s"
    print(f"| {name} | {peak} | {out[:170]} | {verdict} | {len(survivors)} |")
    for pid in survivors:  # our own leftovers, by pid
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).kill()
    flag.unlink(missing_ok=True)


def watch(
    proc: subprocess.Popen[str], name: str, flag: Path, limit: float
) -> tuple[set[int], int, float]:
    """Follow `proc` until it exits or `limit` seconds pass (counted from the SIGINT in
    that scenario): every descendant seen, the most at once, and the seconds taken."""
    seen: set[int] = set()
    peak = 0
    start = time.monotonic()
    signalled = False
    while proc.poll() is None and time.monotonic() - start < limit:
        kids = descendants(proc.pid)
        seen |= {k.pid for k in kids}
        peak = max(peak, len(kids))
        if "SIGINT" in name and flag.exists() and not signalled:
            time.sleep(0.3)  # the workers are inside f, hung
            seen |= {k.pid for k in descendants(proc.pid)}
            proc.send_signal(signal.SIGINT)  # the parent alone
            signalled = True
            start = time.monotonic()
        time.sleep(0.02)
    return seen, peak, time.monotonic() - start


def main() -> None:
    here = str(Path(__file__).resolve().parent.parent)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gradopt", default=here, help="checkout to test (default: this one)")
    parser.add_argument("--small", action="store_true", help="workers=64, not 10**6")
    parser.add_argument("--limit", type=float, default=8.0, help="seconds before giving up")
    args = parser.parse_args()
    print(f"gradopt from {args.gradopt}; load average {os.getloadavg()[0]:.2f}")
    print("| scenario | most descendants | what the script saw | exit | left behind |")
    print("|---|---|---|---|---|")
    workers = "64" if args.small else "10**6"
    for name, body in SCENARIOS.items():
        run(name.replace("WORKERS", workers), body, args.gradopt, workers, args.limit)


if __name__ == "__main__":
    main()
