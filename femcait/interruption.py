"""Graceful interruption by SIGINT (Ctrl-C) or SIGTERM (a batch scheduler), in two phases.

During start-up (`install_early`, the first thing the command line does) a signal raises
KeyboardInterrupt at once: nothing has been written yet, and the command exits with 130.
PETSc would install its own handler for SIGTERM when it starts (and abort the process),
so `install_early` also tells it not to.

Once DOLFINx and PETSc start (`install`), raising from the handler could surface inside
their C++ code (an import, a callback), which aborts the process, or inside a PETSc
callback, where petsc4py turns it into a solver error; so the handler only records the
request, and the command line (before the run) and the time loop (between steps) act on it
(`check`). `deferred` records rather
than raises for the length of a block (an output folder being moved into place).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals that stop a run."""

_requested: list[int] = []


def request(signum: int, _frame=None) -> None:
    """Signal handler: remember that the run should stop."""
    _requested.append(signum)


def _stop_now(signum: int, _frame=None) -> None:
    """Signal handler during start-up: stop at once."""
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def install_early() -> None:
    """Make SIGINT and SIGTERM raise KeyboardInterrupt, and keep PETSc from replacing
    that handler when it starts (call before importing PETSc)."""
    options = os.environ.get("PETSC_OPTIONS", "")
    if "-no_signal_handler" not in options.split():
        os.environ["PETSC_OPTIONS"] = f"{options} -no_signal_handler".strip()
    for signum in SIGNALS:
        signal.signal(signum, _stop_now)


def install(signals=SIGNALS) -> None:
    """Route the given signals to `request` (from now on they stop the run between steps)."""
    _requested.clear()
    for signum in signals:
        signal.signal(signum, request)


def ignore() -> None:
    """Ignore SIGINT and SIGTERM from now on (the process is ending)."""
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Record signals instead of acting on them inside the block; the handlers before it
    return afterwards (a recorded request stays for `check`)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    for signum in SIGNALS:
        signal.signal(signum, request)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def check(comm) -> None:
    """Raise KeyboardInterrupt on every rank of ``comm`` if any rank was asked to stop.

    Collective, so that all ranks leave the time loop at the same step.
    """
    from mpi4py import MPI

    if comm.allreduce(bool(_requested), op=MPI.LOR):
        raise KeyboardInterrupt("stop requested by a signal")
