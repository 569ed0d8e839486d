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
    sed = commands.add_parser(
        "sed", help="analyse the study's site energy distributions and D(n) (no simulation)"
    )
    sed.add_argument("study", type=Path, help="study file (YAML)")
    sed.add_argument("--out", type=Path, help="output folder (default: results/<study name>-sed)")
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


def sed_command(args: argparse.Namespace) -> int:
    """``femcait sed``: Fermi levels, D(n), PSEDs and conversions of every SED species."""
    from femcait.study import load_study

    study = load_study(args.study)
    out = args.out or Path("results") / f"{study.name}-sed"
    from femcait.output.run_folder import replaceable_problem
    from femcait.output.sed_folder import SED_MARKERS, write_sed_folder

    problem = replaceable_problem(out, SED_MARKERS)
    if problem is not None:
        raise OutputError(problem)
    folder, analyses = write_sed_folder(study, out)
    for analysis in analyses:
        print(_sed_line(analysis.name, analysis.summary))
    print(f"  output: {folder}")
    return 0


def _sed_line(name: str, s: dict) -> str:
    reference = "" if s["law"] == "sed" else " (relative: from a D(n) table)"
    fwhm = "n/a" if s["psed_fwhm_eV"] is None else f"{1000 * s['psed_fwhm_eV']:.1f} meV"
    decades = s["D_range_decades"]
    return (
        f"{name}: E_F(n_bg) = {s['E_F_bulk_eV']:.4f} eV{reference}; "
        f"D over the populated part (n/n_bg 1e-6..1) {s['D_min_m2_s']:.3g} .. "
        f"{s['D_max_m2_s']:.3g} m^2/s ({'n/a' if decades is None else f'{decades:.2f}'} decades); "
        f"PSED FWHM {fwhm}"
    )


_COMMANDS = {"run": run_command, "sed": sed_command}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    started = time.perf_counter()
    args = _parser().parse_args(argv)
    args.started = started
    try:
        return _COMMANDS[args.command](args)
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
