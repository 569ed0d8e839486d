"""Figures drawn in a child process that imports matplotlib while the run computes.

Importing matplotlib took ~0.45 s of the default study's ~2.3 s end to end, and drawing
its two figures ~0.2 s. A one-rank `femcait run` (and each one-rank group of a sweep or
a fit), if it may use more than one CPU, starts this worker before it sets up the
simulation: the child imports the figure module beside the time loop (on another core)
and draws the batches of figure calls (function name and arguments, pickled through a
socket) it receives: the D(n) figure while the run computes, the profiles while the run
writes its tables. At the end of each run the run waits until the child has drawn
everything it was sent (a sync message, answered with a byte), so the folder is complete
when the run commits it; the child stays for the next case of a sweep or forward run of a
fit. If the worker cannot start or fails, the figures are drawn in the run's own process
(where a real plotting error then shows). A run that stops without figures (an
interruption, a crash) kills it.

    python -m femcait.output.figure_worker    # the child; stdin is its socket
"""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass

FIGURE_MODULE = "femcait.output.figures"
"""What the child imports while it waits (matplotlib with it)."""


@dataclass(frozen=True)
class FigureCall:
    """One figure: a plotting function by module and name
    ("femcait.output.figures:plot_profiles") and its (picklable) arguments."""

    function: str
    args: tuple

    def draw(self) -> None:
        """Draw it in this process."""
        module, name = self.function.split(":")
        getattr(importlib.import_module(module), name)(*self.args)


def draw_here(calls: list[FigureCall]) -> None:
    """Draw the figures in this process."""
    for call in calls:
        call.draw()


class FigureWorker:
    """The child process that draws the runs' figures (see the module docstring); without
    one (``child`` False, or none could start) `finish` draws them in this process.

    The batches go through a socket, not a pipe: PETSc, once initialised, turns SIGPIPE
    (a write to a child that died) into an abort of the run, and a socket can be written
    without raising that signal (MSG_NOSIGNAL)."""

    def __init__(self, child: bool = True) -> None:
        self._calls: list[FigureCall] = []
        self._child: subprocess.Popen | None = None
        if not child:
            return
        try:
            self._socket, theirs = socket.socketpair()
        except OSError:  # no socket to spare: the figures are drawn in-process
            return
        try:
            with theirs:
                self._child = subprocess.Popen(
                    [sys.executable, "-m", __name__],
                    stdin=theirs.fileno(),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
        except OSError:  # no process to spare
            self._socket.close()

    def submit(self, calls: list[FigureCall]) -> None:
        """Send the child figures to draw (it starts on them at once; the caller goes on)."""
        self._calls.extend(calls)
        self._send(calls)

    def finish(self) -> None:
        """Wait until the child has drawn every figure submitted; draw them here if it
        failed or is gone."""
        calls, self._calls = self._calls, []
        if self._send(None) and self._receive() == _DRAWN:
            return
        self.close()  # it failed: it draws no more
        draw_here(calls)

    def close(self) -> None:
        """Stop the child (idle after `finish`; a run that ends without figures stops it
        at once)."""
        child, self._child = self._child, None
        if child is not None:
            child.kill()
            child.wait()
            self._socket.close()

    def _send(self, message: list[FigureCall] | None) -> bool:
        if self._child is None:
            return False
        try:
            self._socket.sendall(pickle.dumps(message), _NO_SIGNAL)
        except OSError:  # the child is gone
            return False
        return True

    def _receive(self) -> bytes:
        try:
            return self._socket.recv(1)
        except OSError:
            return b""

    def __enter__(self) -> FigureWorker:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def figure_worker(ranks: int) -> FigureWorker:
    """The figure worker of runs on ``ranks`` ranks: with a child if they run on one rank
    and this process may run on more than one CPU (on one CPU the child would only add its
    own start-up: 2.4-2.5 s instead of ~2.3 s end to end for the default study)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return FigureWorker(child=ranks == 1 and cpus > 1)


_NO_SIGNAL = getattr(socket, "MSG_NOSIGNAL", 0)
"""send() flag: an error instead of SIGPIPE when the child is gone (Linux)."""

_DRAWN, _FAILED = b"\x01", b"\x00"
"""The child's answers to a sync message: everything since the last one drawn, or not."""


def main() -> int:
    """The child: import the figure module, then draw each batch read from the socket on
    stdin, and answer each sync message."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle: it kills us
    importlib.import_module(FIGURE_MODULE)
    channel = socket.socket(fileno=0)
    stream = channel.makefile("rb")
    failed = False
    while True:
        try:
            message = pickle.load(stream)
        except EOFError:
            return 0
        if message is None:
            channel.sendall(_FAILED if failed else _DRAWN)
            failed = False
            continue
        try:
            draw_here(message)
        except Exception:  # the run draws them again, and shows the error
            failed = True


if __name__ == "__main__":
    sys.exit(main())
