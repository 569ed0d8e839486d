"""Figures drawn in a child process that imports matplotlib while the run computes.

Importing matplotlib took ~0.45 s of the default study's ~2.3 s end to end. A one-rank
`femcait run` starts this worker before it sets up the simulation: the child imports the
figure module beside the time loop (on another core when there is one) and draws the
batches of figure calls (function name and arguments, pickled through its stdin) it
receives: the D(n) figure while the run computes, the profiles while it writes its
tables. The run waits for it at the end, so the folder is complete when the command
returns. If the worker cannot start or fails, the figures are drawn in the run's own
process (where a real plotting error then shows). A run that stops without figures (an
interruption) kills it.

    python -m femcait.output.figure_worker    # the child; draws the batches it reads
"""

from __future__ import annotations

import contextlib
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


class InProcessFigures:
    """Figures drawn in this process, when `finish` is called."""

    def __init__(self) -> None:
        self._calls: list[FigureCall] = []

    def submit(self, calls: list[FigureCall]) -> None:
        """Hand over figures to draw."""
        self._calls.extend(calls)

    def finish(self) -> None:
        """Draw them."""
        calls, self._calls = self._calls, []
        draw_here(calls)


class FigureWorker:
    """The child process that draws a run's figures (see the module docstring).

    The batches go through a socket, not a pipe: PETSc, once initialised, turns SIGPIPE
    (a write to a child that died) into an abort of the run, and a socket can be written
    without raising that signal (MSG_NOSIGNAL)."""

    def __init__(self) -> None:
        self._calls: list[FigureCall] = []
        self._child: subprocess.Popen | None = None
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
        if self._child is not None:
            with contextlib.suppress(OSError):  # the child died: `finish` draws them here
                self._socket.sendall(pickle.dumps(calls), _NO_SIGNAL)

    def finish(self) -> None:
        """Wait for the child to draw the submitted figures; draw them here if it failed."""
        child, self._child = self._child, None
        calls, self._calls = self._calls, []
        if child is not None:
            self._socket.close()  # the end of the child's input
            if child.wait() == 0:
                return
        draw_here(calls)

    def close(self) -> None:
        """Stop the child if it is still there (a run that ends without its figures)."""
        child, self._child = self._child, None
        if child is not None:
            child.kill()
            child.wait()
            self._socket.close()

    def __enter__(self) -> FigureWorker:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


_NO_SIGNAL = getattr(socket, "MSG_NOSIGNAL", 0)
"""send() flag: an error instead of SIGPIPE when the child is gone (Linux)."""


def main() -> int:
    """The child: import the figure module, then draw each batch read from stdin."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle: it kills us
    importlib.import_module(FIGURE_MODULE)
    while True:
        try:
            calls = pickle.load(sys.stdin.buffer)
        except EOFError:
            break
        draw_here(calls)
    os._exit(0)  # skip the interpreter's teardown of matplotlib (~0.1 s): the files are closed


if __name__ == "__main__":
    sys.exit(main())
