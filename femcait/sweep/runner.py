"""Running a sweep: cases in MPI groups, dynamically, into OUT/cases/<case>/, resumable.

The world communicator is split into groups of ``ranks_per_case`` ranks. Each group's
leader claims the next pending case by creating a claim file (atomic ``O_EXCL``; works on
a shared file system and across job-array tasks); the group runs it with its own
communicator. A case folder is written atomically by `run_study`, with a case.json that
records the case's study fingerprint, so a rerun of the same sweep into the same folder
skips complete cases and reruns failed, interrupted or changed ones. results.csv is rebuilt
from the case folders at the end (also after an interruption).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from mpi4py import MPI

from femcait import __version__
from femcait.errors import OutputError, StudyError
from femcait.output.figure_worker import FigureWorker, figure_worker
from femcait.output.ownership import create_marked, replace_problem
from femcait.output.run_folder import RunFolder
from femcait.output.tables import write_json
from femcait.petsc_options import check_petsc_options
from femcait.preflight import check_study
from femcait.runner import run_study
from femcait.solver.problem import default_petsc_options
from femcait.study import Study, study_from_dict
from femcait.sweep.expansion import Case, Sweep
from femcait.sweep.results import case_summary, write_results

SWEEP_MARKER = "sweep.json"
"""The description of a sweep's cases in its output folder."""


@dataclass
class SweepOutcome:
    """What a sweep run reports to the command line (meaningful on world rank 0)."""

    out: Path
    rows: list[dict]
    ran: list[str]
    skipped: list[str]
    interrupted: bool

    @property
    def ok(self) -> bool:
        """Whether every case of the sweep is complete."""
        return all(row["status"] == "completed" for row in self.rows)


def fingerprint(study: dict) -> str:
    """A stable hash of a case's study dict (resume reruns a case whose study changed)."""
    return hashlib.sha256(json.dumps(study, sort_keys=True, default=str).encode()).hexdigest()


def validate_cases(sweep: Sweep, base_dir: Path, ranks_per_case: int) -> dict[str, Study | str]:
    """Each case's validated Study (its scales, cost and PETSc options for a run on
    ``ranks_per_case`` ranks checked too), or its error message; StudyError if none is
    valid."""
    studies: dict[str, Study | str] = {}
    for case in sweep.cases:
        try:
            study = study_from_dict(case.study, sweep.source, base_dir)
            check_study(study, sweep.source)
            defaults = default_petsc_options(study.geometry.dim, ranks_per_case)
            check_petsc_options(study.solver.petsc_options, defaults, sweep.source)
            studies[case.name] = study
        except StudyError as error:
            studies[case.name] = str(error)
    if all(isinstance(s, str) for s in studies.values()):
        first = next(iter(studies.values()))
        raise StudyError(f"every case of the sweep is invalid; the first:\n{first}")
    return studies


def _case_table(sweep: Sweep) -> list[dict]:
    return [
        {"name": c.name, "overrides": c.overrides, "fingerprint": fingerprint(c.study)}
        for c in sweep.cases
    ]


def _prepare(out: Path, sweep: Sweep) -> None:
    """Create OUT as a marked sweep folder (or reuse an earlier sweep's there), check that
    every case folder in it may be replaced, and write sweep.json."""
    create_marked(out, "sweep")
    problems = [replace_problem(out, "sweep")]
    problems += [replace_problem(out / "cases" / case.name, "run") for case in sweep.cases]
    problems = [problem for problem in problems if problem is not None]
    if problems:
        more = f" (and {len(problems) - 1} more case folders)" if len(problems) > 1 else ""
        raise OutputError(problems[0] + more)
    (out / "cases").mkdir(exist_ok=True)
    description = {
        "femcait_version": __version__,
        "source": sweep.source,
        "combine": sweep.combine,
        "parameters": sweep.parameters,
        "cases": _case_table(sweep),
    }
    write_json(out / SWEEP_MARKER, description)  # atomically


def is_complete(out: Path, case: Case) -> bool:
    """Whether the case folder holds a completed run of this very case."""
    folder = out / "cases" / case.name
    summary = case_summary(folder)
    try:
        record = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, unreadable, not UTF-8 or not JSON
        return False
    return (
        summary is not None
        and summary.get("status") == "completed"
        and isinstance(record, dict)
        and record.get("fingerprint") == fingerprint(case.study)
    )


def _failed_case(folder: Path, comm: MPI.Comm, case: Case, study_name: str, reason: str):
    """A case folder for a case that could not run (status failed, with the reason)."""
    run = RunFolder(folder, comm)
    try:
        if comm.rank == 0:
            summary = {"study": study_name, "status": "failed", "reason": reason}
            write_json(run.path / "summary.json", summary)
            write_json(run.path / "study.json", {"case": case.name, **case.study})
            write_json(run.path / "case.json", _case_record(case))
        run.commit()
    except BaseException:
        run.discard()
        raise


def _case_record(case: Case) -> dict:
    return {"case": case.name, "overrides": case.overrides, "fingerprint": fingerprint(case.study)}


def _claim(claims: Path, name: str) -> bool:
    try:
        os.close(os.open(claims / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


def run_sweep(
    sweep: Sweep,
    base_dir: Path,
    out: Path,
    comm: MPI.Comm,
    only: str | None = None,
    ranks_per_case: int | None = None,
    log=print,
) -> SweepOutcome:
    """Run the sweep's pending cases (or only the case ``only``) into ``out``."""
    cases = [sweep.case(only)] if only is not None else sweep.cases
    per_case = ranks_per_case or sweep.ranks_per_case
    if comm.size % per_case:
        raise StudyError(
            f"{sweep.source}: sweep.ranks_per_case: got {per_case}, must divide the number "
            f"of MPI ranks ({comm.size})"
        )
    studies = validate_cases(sweep, base_dir, per_case)
    out = Path(out).absolute()
    problem = None
    if comm.rank == 0:
        try:
            _prepare(out, sweep)
        except OutputError as error:
            problem = error
        except OSError as error:
            problem = OutputError(f"cannot create the sweep folder {out}: {error.strerror}")
    problem = comm.bcast(problem, root=0)
    if problem is not None:
        raise problem
    done = comm.bcast([c.name for c in cases if is_complete(out, c)] if comm.rank == 0 else None)
    pending = [c for c in cases if c.name not in done]
    claims = out / f".claims-{comm.bcast(uuid.uuid4().hex[:12] if comm.rank == 0 else None)}"
    if comm.rank == 0:
        claims.mkdir()
    comm.barrier()
    group = comm.Split(comm.rank // per_case, comm.rank)
    ran: list[str] = []
    interrupted = False
    # one-rank groups: a child process draws the figures beside the cases (figure_worker)
    figures = figure_worker(group.size)
    try:
        for case in pending:
            claimed = group.bcast(_claim(claims, case.name) if group.rank == 0 else None)
            if not claimed:
                continue
            study = studies[case.name]
            folder = out / "cases" / case.name
            started = time.perf_counter()
            if isinstance(study, str):
                _failed_case(folder, group, case, sweep.source, study)
                status = "failed (invalid)"
            else:
                status = _run_case(study, folder, group, case, figures)
            ran.append(case.name)
            if group.rank == 0:
                log(f"  {case.name}: {status} ({time.perf_counter() - started:.1f} s)")
    except KeyboardInterrupt:
        interrupted = True
    finally:
        figures.close()
    interrupted = comm.allreduce(interrupted, op=MPI.LOR)
    ran = list(itertools.chain.from_iterable(comm.allgather(ran if group.rank == 0 else [])))
    group.Free()
    rows: list[dict] = []
    if comm.rank == 0:
        shutil.rmtree(claims, ignore_errors=True)
        rows = write_results(out, _case_table(sweep), sweep.parameters)
    return SweepOutcome(out, comm.bcast(rows), ran, done, interrupted)


def _run_case(
    study: Study, folder: Path, group: MPI.Comm, case: Case, figures: FigureWorker
) -> str:
    """Run one case; any failure but an interruption is recorded in its folder."""
    try:
        outcome = run_study(
            study,
            folder,
            group,
            show_progress=False,
            extra_json={"case.json": _case_record(case)},
            figures=figures,
        )
        return "completed" if outcome.ok else f"failed: {outcome.summary['reason']}"
    except KeyboardInterrupt:
        raise
    except Exception as error:  # a crash of this case must not stop the others
        reason = f"{type(error).__name__}: {error}"
        _failed_case(folder, group, case, study.name, reason)
        return f"failed: {reason}"
