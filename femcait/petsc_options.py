"""Checking a study's PETSc options before the run (`solver.petsc_options`).

PETSc ignores an option nobody asks for, so a misspelt key (`snes_rtoll`) or one that
does not apply (`ksp_rtol` with `ksp_type: preonly`) would silently leave the solver as
it was. Before the run, the options (over femcait's defaults) configure a throwaway SNES
that solves a 2 x 2 linear system, the way the run's solver is configured and used (its
KSP, PC, line search and factorisation read their options then); PETSc's options database
then tells which keys were read. A key nobody read, or a value PETSc rejects, is a
`StudyError` naming the key.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import itertools
import os
import sys
from collections.abc import Iterator, Mapping

from petsc4py import PETSc

from femcait.errors import StudyError
from femcait.study.units import format_value

OptionValue = str | int | float | bool

_PREFIX = "femcait_check_{}_"
_counter = itertools.count()


def check_petsc_options(
    options: Mapping[str, OptionValue], defaults: Mapping[str, OptionValue], source: str = ""
) -> None:
    """Raise `StudyError` (one line per key) if PETSc does not use a key of ``options`` or
    rejects its value, with ``defaults`` (femcait's options) set underneath."""
    if not options:
        return
    where = f"{source}: " if source else ""
    merged = {**_normalised(defaults), **_normalised(options)}
    error, unused = _probe(merged)
    if error is not None:  # blame the keys that PETSc rejects on their own, else all
        base = _normalised(defaults)
        culprits = [key for key in options if _probe({**base, _name(key): options[key]})[0]]
        keys = culprits or list(options)
        raise StudyError(
            "\n".join(
                f"{where}solver.petsc_options.{key}: PETSc rejected "
                f"{format_value(options[key])} ({_petsc_error(error)})"
                for key in keys
            )
        )
    bad = [key for key in options if _name(key) in unused]
    if bad:
        raise StudyError(
            "\n".join(
                f"{where}solver.petsc_options.{key}: not an option the solver uses (a typo, "
                "or one for another snes/ksp/pc type); see the PETSc manual pages of "
                "SNES, KSP and PC"
                for key in bad
            )
        )


def _name(key: str) -> str:
    """The option name without a leading dash (PETSc accepts both spellings)."""
    return key.lstrip("-")


def _normalised(options: Mapping[str, OptionValue]) -> dict[str, OptionValue]:
    return {_name(key): value for key, value in options.items()}


_ERRORS = {
    56: "not supported",
    62: "invalid argument",
    63: "argument out of range",
    86: "unknown type",
    92: "no solver package for this factorisation",
}
"""PETSc's names of the error codes a bad option value gives (petscerror.h)."""


def _petsc_error(error: PETSc.Error) -> str:
    name = _ERRORS.get(error.ierr)
    return f"PETSc error {error.ierr}" + (f": {name}" if name else "")


def _probe(options: dict[str, OptionValue]) -> tuple[PETSc.Error | None, set[str]]:
    """Configure and run a throwaway SNES with ``options``: PETSc's error, if any, and the
    option names nobody read. Leaves PETSc's options database as it was."""
    prefix = _PREFIX.format(next(_counter))
    database = PETSc.Options()
    A = PETSc.Mat().createAIJ([2, 2], nnz=1, comm=PETSc.COMM_SELF)
    A.setValue(0, 0, 2.0)
    A.setValue(1, 1, 2.0)
    A.assemble()
    b = A.createVecLeft()
    b.set(1.0)
    x, residual = b.duplicate(), b.duplicate()
    x.set(0.0)

    def function(_snes, x, f):
        A.mult(x, f)
        f.axpy(-1.0, b)

    snes = PETSc.SNES().create(PETSc.COMM_SELF)
    error = None
    try:
        snes.setOptionsPrefix(prefix)
        snes.setFunction(function, residual)
        snes.setJacobian(lambda *_: None, A)
        for name, value in options.items():
            database[prefix + name] = value
        with _quiet():  # a monitor or view option prints; not for this probe
            try:
                snes.setFromOptions()
                snes.solve(None, x)
            except PETSc.Error as exc:
                error = exc
        unused = {name for name in options if not database.used(prefix + name)}
    finally:
        for name in options:
            database.delValue(prefix + name)
        for obj in (snes, A, b, x, residual):
            obj.destroy()
    return error, unused


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Discard what is printed meanwhile: petsc4py prints through Python's sys.stdout, C
    code to file descriptor 1."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        _libc.fflush(None)  # what C buffered goes to /dev/null too
        os.dup2(saved, 1)
        os.close(saved)


_libc = ctypes.CDLL(None)
