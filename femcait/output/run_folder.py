"""A run folder that appears complete or not at all.

Everything is written into a hidden temporary sibling of the target folder; `commit`
moves it into place (replacing an older run of the same name only at that moment), so an
interrupted or failed run never leaves a half-written folder under the target name.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mpi4py import MPI

from femcait.output.atomic import temporary_sibling

RUN_MARKERS = ("summary.json", "study.json")
"""Files that identify a folder as an earlier femcait run (which a new run may replace)."""


def replaceable_problem(target: Path, markers: tuple[str, ...] = RUN_MARKERS) -> str | None:
    """Why ``target`` may not receive a run (None if it may): only an absent path, an empty
    folder or an earlier femcait folder (holding all of ``markers``) is replaced, never a
    file or a folder of other data."""
    target = Path(target)
    if not target.exists():
        return None
    if not target.is_dir():
        return f"{target} exists and is not a folder"
    if all((target / name).is_file() for name in markers):
        return None
    if not any(target.iterdir()):
        return None
    return (
        f"{target} exists and is not a femcait output folder (no {' and '.join(markers)}); "
        "choose another --out, or empty it"
    )


class RunFolder:
    """Temporary folder for a run, committed atomically to ``target``."""

    def __init__(self, target: Path, comm: MPI.Comm) -> None:
        self.target = Path(target).resolve()
        self.comm = comm
        path = None
        if comm.rank == 0:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            path = temporary_sibling(self.target, "partial")
            path.mkdir()
        self.path: Path = comm.bcast(path, root=0)

    def commit(self) -> Path:
        """Move the finished run into place; an older run there is replaced."""
        self.comm.barrier()
        if self.comm.rank == 0:
            old = None
            if self.target.exists():
                old = temporary_sibling(self.target, "old")
                self.target.rename(old)
            self.path.rename(self.target)
            if old is not None:
                shutil.rmtree(old)
        self.comm.barrier()
        return self.target

    def discard(self) -> None:
        """Remove the temporary folder (the target is left untouched); not collective."""
        if self.comm.rank == 0:
            shutil.rmtree(self.path, ignore_errors=True)
