"""Graceful interruption: a signal handler records the request, the time loop acts on it.

Raising from the handler itself would surface inside a PETSc callback, where petsc4py turns
it into a solver error; so the handler only sets a flag that the time loop checks between
steps.
"""

from __future__ import annotations

import signal

from mpi4py import MPI

_requested: list[int] = []


def request(signum: int, _frame=None) -> None:
    """Signal handler: remember that the run should stop."""
    _requested.append(signum)


def install(signals=(signal.SIGINT, signal.SIGTERM)) -> None:
    """Route the given signals to `request` (call after PETSc has started)."""
    _requested.clear()
    for signum in signals:
        signal.signal(signum, request)


def check(comm) -> None:
    """Raise KeyboardInterrupt on every rank of ``comm`` if any rank was asked to stop.

    Collective, so that all ranks leave the time loop at the same step.
    """
    if comm.allreduce(bool(_requested), op=MPI.LOR):
        raise KeyboardInterrupt("stop requested by a signal")
