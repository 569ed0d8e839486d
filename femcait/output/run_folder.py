"""A run folder that appears complete or not at all.

Everything is written into a hidden temporary sibling of the target folder; `commit`
marks it as femcait's (see `femcait.output.ownership`) and moves it into place, replacing
an older folder of the same name only at that moment and only if femcait may replace it,
so an interrupted or failed run never leaves a half-written folder under the target name
and never deletes what femcait did not write.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mpi4py import MPI

from femcait import interruption
from femcait.errors import OutputError
from femcait.output.atomic import temporary_sibling
from femcait.output.ownership import Kind, mark, replace_problem


class RunFolder:
    """Temporary folder for a run (or a `femcait sed` analysis: ``kind``), committed
    atomically to ``target``."""

    def __init__(self, target: Path, comm: MPI.Comm, kind: Kind = "run") -> None:
        self.target = Path(target).absolute()
        self.comm = comm
        self.kind: Kind = kind
        path = problem = None
        if comm.rank == 0:
            try:
                self.target.parent.mkdir(parents=True, exist_ok=True)
                path = temporary_sibling(self.target, "partial")
                path.mkdir()
            except OSError as error:
                problem = f"cannot create the output folder {self.target}: {_reason(error)}"
        path, problem = comm.bcast((path, problem), root=0)
        if problem is not None:
            raise OutputError(problem)
        self.path: Path = path

    def commit(self) -> Path:
        """Move the finished run into place; an older femcait folder there is replaced.

        Raises KeyboardInterrupt if a rank was asked to stop before (a signal during the
        move lets it finish), and OutputError if the target now holds something femcait
        may not replace; the caller discards the run then.
        """
        with interruption.deferred():  # a signal from here on lets the move finish
            interruption.check(self.comm)
            problem = None
            if self.comm.rank == 0:
                problem = replace_problem(self.target, self.kind)
                if problem is None:
                    try:
                        self._move_into_place()
                    except OSError as error:
                        problem = f"cannot move the output into {self.target}: {_reason(error)}"
            problem = self.comm.bcast(problem, root=0)
        if problem is not None:
            raise OutputError(problem)
        return self.target

    def _move_into_place(self) -> None:
        mark(self.path, self.kind)
        old = None
        if self.target.exists():
            old = temporary_sibling(self.target, "old")
            self.target.rename(old)
        try:
            self.path.rename(self.target)
        except OSError:
            if old is not None:
                old.rename(self.target)
            raise
        if old is not None:
            shutil.rmtree(old)

    def discard(self) -> None:
        """Remove the temporary folder (the target is left untouched); not collective."""
        if self.comm.rank == 0:
            shutil.rmtree(self.path, ignore_errors=True)


def _reason(error: OSError) -> str:
    """The operating system's reason for a failed file operation, in words."""
    return error.strerror or str(error)
