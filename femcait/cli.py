"""The ``femcait`` command line."""

from __future__ import annotations

import argparse
import gc
import math
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from femcait import interruption
from femcait.errors import OutputError, StudyError
from femcait.output.ownership import Kind


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
    run.add_argument("--case", help="sweep: run only this case (see `femcait cases`)")
    run.add_argument(
        "--ranks-per-case",
        type=_positive_int,
        help="sweep: MPI ranks per case (default: the file's)",
    )
    cases = commands.add_parser("cases", help="list the cases of a sweep")
    cases.add_argument("study", type=Path, help="study file with a sweep section (YAML)")
    report = commands.add_parser("report", help="results.csv and figures of a sweep folder")
    report.add_argument("out", type=Path, help="output folder of a sweep")
    sed = commands.add_parser(
        "sed", help="analyse the study's site energy distributions and D(n) (no simulation)"
    )
    sed.add_argument("study", type=Path, help="study file (YAML)")
    sed.add_argument("--out", type=Path, help="output folder (default: results/<study name>-sed)")
    fit = commands.add_parser(
        "fit", help="fit studies to measured depth profiles (parameters by key path)"
    )
    fit.add_argument("fit", type=Path, help="fit file (YAML)")
    fit.add_argument("--out", type=Path, help="output folder (default: results/<fit name>)")
    fit.add_argument(
        "--ranks-per-run",
        type=_positive_int,
        default=1,
        help="MPI ranks per forward run: the runs of one Jacobian go side by side on the "
        "groups (default 1; must divide the number of ranks)",
    )
    return parser


def _positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected an integer >= 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"got {value}, must be >= 1")
    return value


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
    """``femcait run``: validate the study (or sweep), then simulate it."""
    from femcait.study import load_yaml, study_from_dict

    data = load_yaml(args.study)  # raises StudyError before anything is computed
    if isinstance(data, dict) and "sweep" in data:
        return _run_sweep(args, data)
    if args.case is not None:
        raise StudyError(f"{args.study}: --case needs a study with a sweep section")
    study = study_from_dict(data, str(args.study), base_dir=args.study.parent)
    _start_solver()
    from mpi4py import MPI

    from femcait.output.figure_worker import figure_worker
    from femcait.petsc_options import check_petsc_options
    from femcait.preflight import check_study
    from femcait.runner import run_study
    from femcait.solver.problem import default_petsc_options

    check_study(study, str(args.study))  # scales and cost, before anything is allocated
    out = args.out or Path("results") / study.name
    _check_target(out, "run")
    comm = MPI.COMM_WORLD  # the command line owns the world; the library takes it from here
    defaults = default_petsc_options(study.geometry.dim, comm.size)
    check_petsc_options(study.solver.petsc_options, defaults, str(args.study))
    interruption.check(comm)  # a signal during the checks: stop before anything is written
    # one rank: a child process imports matplotlib beside the run and draws the figures
    with figure_worker(comm.size) as figures:
        outcome = run_study(
            study, out, comm, show_progress=not args.quiet, started=args.started, figures=figures
        )
    if comm.rank == 0:
        status = "done" if outcome.ok else f"FAILED: {outcome.summary['reason']}"
        print(f"{study.name}: {status}\n  {_report(outcome.summary)}\n  output: {outcome.folder}")
        for warning in outcome.summary["warnings"]:
            print(f"  warning: {warning}")
    return 0 if outcome.ok else 1


def _start_solver() -> None:
    """Import DOLFINx and PETSc (MPI first), and let form compilation wait for other
    processes compiling the same forms.

    From here on a signal is only recorded, and acted on between steps (or by the next
    `interruption.check`): an exception raised inside DOLFINx's or PETSc's C++ code (an
    import, a callback) would abort the process instead of unwinding it."""
    interruption.install()
    import dolfinx_solver  # noqa: F401  (before dolfinx / petsc4py)

    from femcait.jit_cache import wait_for_other_compilers

    wait_for_other_compilers()


def _check_target(out: Path, kind: Kind) -> None:
    """Refuse an output path femcait cannot write or may not replace (OutputError)."""
    from femcait.output.target import target_problem

    problem = target_problem(out, kind)
    if problem is not None:
        raise OutputError(problem)


def _run_sweep(args: argparse.Namespace, data: dict) -> int:
    """``femcait run SWEEP.yaml``: every pending case, in MPI groups."""
    from femcait.sweep import expand_sweep

    sweep = expand_sweep(data, str(args.study))
    out = args.out or Path("results") / str(data.get("name", args.study.stem))
    _check_target(out, "sweep")
    _start_solver()
    from mpi4py import MPI

    from femcait.sweep.runner import run_sweep

    comm = MPI.COMM_WORLD
    interruption.check(comm)
    rank0 = comm.rank == 0
    if rank0:
        print(f"{sweep.source}: {len(sweep.cases)} cases on {comm.size} rank(s) into {out}")
    outcome = run_sweep(
        sweep,
        args.study.parent,
        out,
        comm,
        only=args.case,
        ranks_per_case=args.ranks_per_case,
        log=lambda line: print(line, flush=True),
    )
    if rank0:
        counts: dict[str, int] = {}
        for row in outcome.rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        states = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        print(
            f"{len(outcome.ran)} case(s) run, {len(outcome.skipped)} already complete; "
            f"the sweep: {states}\n  results: {outcome.out / 'results.csv'}"
        )
    if outcome.interrupted:
        raise KeyboardInterrupt
    return 0 if outcome.ok or (args.case is not None and _case_ok(outcome, args.case)) else 1


def _case_ok(outcome, name: str) -> bool:
    return any(row["case"] == name and row["status"] == "completed" for row in outcome.rows)


def cases_command(args: argparse.Namespace) -> int:
    """``femcait cases``: the case names of a sweep, one per line, with their values."""
    from femcait.study import load_yaml
    from femcait.sweep import expand_sweep

    data = load_yaml(args.study)
    if not (isinstance(data, dict) and "sweep" in data):
        raise StudyError(f"{args.study}: no sweep section")
    sweep = expand_sweep(data, str(args.study))
    for case in sweep.cases:
        values = "  ".join(f"{path}={value}" for path, value in case.overrides.items())
        print(f"{case.name}\t{values}")
    return 0


def report_command(args: argparse.Namespace) -> int:
    """``femcait report``: rebuild results.csv from the case folders and plot it."""
    from femcait.sweep.report import write_report

    try:
        written = write_report(args.out)
    except OSError as error:
        raise OutputError(f"{args.out}: cannot write the report ({error.strerror})") from None
    for path in written:
        print(path)
    return 0


def sed_command(args: argparse.Namespace) -> int:
    """``femcait sed``: Fermi levels, D(n), PSEDs and conversions of every SED species."""
    from femcait.study import load_study

    study = load_study(args.study)
    out = args.out or Path("results") / f"{study.name}-sed"
    _check_target(out, "sed")
    from femcait.output.sed_folder import write_sed_folder

    folder, analyses = write_sed_folder(study, out)
    for analysis in analyses:
        print(_sed_line(analysis.name, analysis.summary))
    print(f"  output: {folder}")
    return 0


def _sed_line(name: str, s: dict) -> str:
    """One console line: the SED's own D(n) range (without an immobile cut, which is named
    apart; the cut leaves the largest D alone) and the PSED width."""
    reference = "" if s["law"] == "sed" else " (relative: from a D(n) table)"
    fwhm = "n/a" if s["psed_fwhm_eV"] is None else f"{1000 * s['psed_fwhm_eV']:.1f} meV"
    decades = s["sed_D_range_decades"]
    cut = s["immobile_cut_n_frac"]
    immobile = "" if cut is None else f"; immobile below n/n_bg = {cut:g} (D = 0 there)"
    return (
        f"{name}: E_F(n_bg) = {s['E_F_bulk_eV']:.4f} eV{reference}; "
        f"D over the populated part (n/n_bg 1e-6..1) {s['sed_D_min_m2_s']:.3g} .. "
        f"{s['D_max_m2_s']:.3g} m^2/s "
        f"({'n/a' if decades is None else f'{decades:.2f}'} decades){immobile}; "
        f"PSED FWHM {fwhm}"
    )


def fit_command(args: argparse.Namespace) -> int:
    """``femcait fit``: check everything, then fit the studies to the measured profiles."""
    from femcait.fit.job import prepare

    fit, experiments, parameters = prepare(args.fit)  # StudyError before any forward run
    out = args.out or Path("results") / fit.name
    _check_target(out, "fit")
    _start_solver()
    from mpi4py import MPI

    from femcait.fit.display import readable
    from femcait.fit.job import run_fit_job

    comm = MPI.COMM_WORLD
    if comm.size % args.ranks_per_run:
        _error(
            f"femcait: --ranks-per-run: got {args.ranks_per_run}, must divide the number of "
            f"MPI ranks ({comm.size})"
        )
        return 2
    interruption.check(comm)
    rank0 = comm.rank == 0

    def log(line: str) -> None:
        if rank0:
            print(line, flush=True)

    log(f"{args.fit}: {len(fit.parameters)} parameter(s), {len(experiments)} experiment(s)")
    try:
        result = run_fit_job(fit, experiments, parameters, out, comm, log, args.ranks_per_run)
    except KeyboardInterrupt:
        interruption.ignore()  # a second signal must not interrupt the message
        _error(
            f"femcait: interrupted; the completed forward runs stay in {Path(out).absolute()}"
            "/runs, and the same command resumes from them (no fit report was written)"
        )
        return 130
    for path, value, stderr in zip(fit.parameters, result.values, result.stderr, strict=True):
        log(f"  {path} = {readable(path, value, stderr)}")
    log(
        f"{fit.name}: {result.status} ({result.message}); reduced chi2 "
        f"{result.reduced_chi2:.3g}, {result.forward_runs} forward runs "
        f"({result.reused_runs} more found done), "
        f"{result.wall_s:.1f} s\n  output: {Path(out).absolute()}"
    )
    return 0 if result.status == "converged" else 1


_COMMANDS = {
    "run": run_command,
    "fit": fit_command,
    "sed": sed_command,
    "cases": cases_command,
    "report": report_command,
}


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Set to 1 unless the user set them, before NumPy or PETSc load their BLAS: femcait's
parallelism is MPI ranks. NumPy's OpenBLAS threads otherwise spun on the other core of a
2-core machine after every small product (~5 % of the CPU samples of a default run), and
would oversubscribe the cores under mpiexec."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    started = time.perf_counter()
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    interruption.install_early()  # a signal from now on: exit 130, nothing written
    try:
        args = _parser().parse_args(argv)
        args.started = started
        return _COMMANDS[args.command](args)
    except StudyError as error:
        _error(f"femcait: error in study file:\n{error}")
        return 2
    except OutputError as error:
        _error(f"femcait: {error}")
        return 2
    except BrokenPipeError:  # stdout closed early (`femcait cases X | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except TimeoutError as error:  # waiting for another process's form compilation
        _error(f"femcait: {error}")
        return 1
    except KeyboardInterrupt:
        interruption.ignore()  # a second signal must not interrupt the message
        _error("femcait: interrupted; the output folder was left as it was")
        return 130
    except Exception:
        _abort_other_ranks()
        raise


def _abort_other_ranks() -> None:
    """After an unexpected error on one MPI rank, stop them all: the others would wait
    forever in their next collective call. (One rank: the traceback is all there is.)"""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized() and mpi.COMM_WORLD.size > 1:
        traceback.print_exc()
        sys.stderr.flush()
        mpi.COMM_WORLD.Abort(1)


def _error(message: str) -> None:
    """Print a message to stderr (once, on rank 0)."""
    if _is_rank0():
        print(message, file=sys.stderr)


def _is_rank0() -> bool:
    """Whether this process is rank 0 (the launcher's rank before MPI is started)."""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized():
        return mpi.COMM_WORLD.rank == 0
    return os.environ.get("PMI_RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "0")) == "0"


def console_main() -> int:
    """The console script: `main`, then a quick exit. The objects of the imported modules
    (UFL, pydantic, PETSc wrappers) are frozen out of the garbage collector first: the
    interpreter's final collections walked them all, ~0.35 s of every run (measured on
    the 2-core benchmark machine)."""
    status = main()
    gc.freeze()
    return status


if __name__ == "__main__":
    sys.exit(console_main())
