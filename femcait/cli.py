"""The ``femcait`` command line."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

from femcait import interruption
from femcait.errors import OutputError, StudyError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="femcait",
        description="Nernst-Planck-Poisson simulation of charge-attachment induced transport.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="simulate a study and write its output folder")
    run.add_argument("study", type=Path, help="study file (YAML)")
    run.add_argument("--out", type=Path, help="output folder (default: results/<study name>)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _report(summary: dict) -> str:
    def fmt(key: str, scale: float, unit: str) -> str:
        value = summary.get(key)
        if value is None or not math.isfinite(value):
            return "n/a"
        return f"{value * scale:.4g} {unit}"

    return (
        f"front depth {fmt('front_depth_m', 1e9, 'nm')}, "
        f"plateau {fmt('plateau_frac', 100, '%')} of n_bg, "
        f"charge passed {fmt('charge_C_m2', 1, 'C/m^2')}, "
        f"wall time {fmt('wall_s', 1, 's')}"
    )


def run_command(args: argparse.Namespace) -> int:
    """``femcait run``: validate the study, then simulate it."""
    from femcait.study import load_study

    study = load_study(args.study)  # raises StudyError before anything is computed
    out = args.out or Path("results") / study.name
    from femcait.output.run_folder import replaceable_problem

    problem = replaceable_problem(out)
    if problem is not None:
        raise OutputError(problem)
    import dolfinx_solver  # noqa: F401  (before dolfinx / petsc4py)
    from mpi4py import MPI

    from femcait.runner import run_study

    comm = MPI.COMM_WORLD  # the command line owns the world; the library takes it from here
    # after PETSc's start-up (it installs its own handlers), so that a batch scheduler's
    # SIGTERM unwinds like Ctrl-C and leaves no half-written output
    interruption.install()
    outcome = run_study(study, out, comm, show_progress=not args.quiet, started=args.started)
    if comm.rank == 0:
        status = "done" if outcome.ok else f"FAILED: {outcome.summary['reason']}"
        print(f"{study.name}: {status}\n  {_report(outcome.summary)}\n  output: {outcome.folder}")
        for warning in outcome.summary["warnings"]:
            print(f"  warning: {warning}")
    return 0 if outcome.ok else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    started = time.perf_counter()
    args = _parser().parse_args(argv)
    args.started = started
    try:
        return run_command(args)
    except StudyError as error:
        if _is_rank0():
            print(f"femcait: error in study file:\n{error}", file=sys.stderr)
        return 2
    except OutputError as error:
        if _is_rank0():
            print(f"femcait: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if _is_rank0():
            print("femcait: interrupted; the output folder was left as it was", file=sys.stderr)
        return 130


def _is_rank0() -> bool:
    """Whether this process is rank 0 (the launcher's rank before MPI is started)."""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized():
        return mpi.COMM_WORLD.rank == 0
    return os.environ.get("PMI_RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "0")) == "0"


if __name__ == "__main__":
    sys.exit(main())
