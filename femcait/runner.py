"""The main job: run one study into an output folder (the README's output contract)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from mpi4py import MPI

from femcait import __version__
from femcait.errors import SolverError
from femcait.output.fields import FieldWriter
from femcait.output.figures import plot_diffusion, plot_profiles
from femcait.output.run_folder import RunFolder
from femcait.output.tables import CsvTable, profile_columns, profile_rows, write_json
from femcait.progress import RunProgress
from femcait.simulation import Profile, Simulation, StepRecord
from femcait.study import Study

FINE_ZONE_WARNING = 0.8
"""Warn when the front gets deeper than this fraction of the fine mesh zone."""


@dataclass
class RunOutcome:
    """What a finished run reports to the command line."""

    folder: Path
    summary: dict
    ok: bool


def run_study(
    study: Study,
    out: Path,
    comm: MPI.Comm,
    show_progress: bool = True,
    started: float | None = None,
    extra_json: dict[str, dict] | None = None,
) -> RunOutcome:
    """Simulate ``study`` and write its output folder ``out`` (committed atomically).

    ``started`` (a `time.perf_counter` value) is when the job began, for ``wall_s``;
    by default, the call of this function.

    A run that ends in a solver failure is still written (status "failed" with the
    reason); one interrupted by anything else (Ctrl-C, a crash) leaves ``out`` as it was.
    ``extra_json``: more JSON files (name -> content) written into the folder before it
    is committed (a sweep's case.json).
    """
    start = time.perf_counter() if started is None else started
    simulation = Simulation(study, comm)
    folder = RunFolder(out, comm)
    try:
        return _run_into(simulation, folder, start, show_progress, extra_json or {})
    except BaseException:
        folder.discard()
        raise


def _run_into(
    simulation: Simulation,
    folder: RunFolder,
    start: float,
    show_progress: bool,
    extra_json: dict[str, dict],
):
    study, comm = simulation.study, simulation.comm
    rank0 = comm.rank == 0
    names = simulation.names
    fields = FieldWriter(
        folder.path,
        simulation.problem,
        names,
        simulation.scales.length_m,
        simulation.scales.thermal_voltage_V,
        vtx=study.output.vtx,
    )
    timeseries = (
        CsvTable(folder.path / "timeseries.csv", StepRecord.columns(names)) if rank0 else None
    )
    profiles: list[Profile] = []
    outputs: list[dict] = []
    last: list[StepRecord] = []

    def on_step(record: StepRecord, _profile: Profile | None) -> None:
        last[:] = [record]
        if timeseries is not None:
            timeseries.append(record.row())
        progress.update(record)

    def on_output(time_s: float, profile: Profile | None) -> None:
        fields.write(time_s)
        if profile is not None:
            profiles.append(profile)
            if last:
                r = last[0]
                outputs.append(
                    {
                        "time_s": time_s,
                        "front_depth_m": r.front_depth_m,
                        "plateau_frac": r.plateau_frac,
                    }
                )

    status, reason = "completed", None
    progress = RunProgress(study.experiment.duration, enabled=rank0 and show_progress)
    with progress:
        try:
            simulation.run(on_step=on_step, on_output=on_output)
        except SolverError as error:
            status, reason = "failed", str(error)
    fields.close()
    if timeseries is not None:
        timeseries.close()
    summary = _summary(simulation, last[0] if last else None, outputs, status, reason)
    if rank0:
        write_json(
            folder.path / "study.json",
            {**simulation.resolved_study(), "femcait_version": __version__},
        )
        table = CsvTable(folder.path / "profiles.csv", profile_columns(names))
        for p in profiles:
            for row in profile_rows(p.time_s, p.depth_m, p.fractions, p.phi_V):
                table.append(row)
        table.close()
        _figures(folder.path, simulation, profiles, summary)
        for name, content in extra_json.items():
            write_json(folder.path / name, content)
        summary["wall_s"] = time.perf_counter() - start  # everything but the final rename
        write_json(folder.path / "summary.json", summary)
    return RunOutcome(folder.commit(), summary, status == "completed")


def _summary(simulation: Simulation, record, outputs, status, reason) -> dict:
    """The summary without ``wall_s``, which is taken once the other files are written."""
    stats = simulation.statistics
    fine_depth_m = simulation.mesh_settings["fine_depth"] * simulation.scales.length_m
    summary: dict = {"study": simulation.study.name, "status": status, "reason": reason}
    derived = [k for k in StepRecord.columns(simulation.names) if k not in ("step", "dt_s")]
    summary.update(dict.fromkeys(derived))  # null when no step was accepted
    if record is not None:
        summary.update({k: v for k, v in record.row().items() if k in derived})
    summary.update(
        {
            "steps": stats.steps,
            "rejected_steps": stats.rejected_steps,
            "failed_solves": stats.failed_solves,
            "newton_iterations": stats.newton_iterations,
            "cells": int(len(simulation.nodes) - 1),
            "dofs": int(simulation.problem.V.dofmap.index_map.size_global),
            "ranks": simulation.comm.size,
            "solve_wall_s": stats.wall_s,
            "outputs": outputs,
            "warnings": [],
        }
    )
    front = summary.get("front_depth_m")
    if front is not None and front == front and front > FINE_ZONE_WARNING * fine_depth_m:
        summary["warnings"].append(
            f"the front ({front:.3g} m) reached {FINE_ZONE_WARNING:.0%} of the fine mesh zone "
            f"({fine_depth_m:.3g} m): set mesh.fine_depth deeper"
        )
    return summary


def _figures(folder: Path, simulation: Simulation, profiles: list[Profile], summary: dict) -> None:
    study = simulation.study
    plot_profiles(
        folder / "profiles.png",
        profiles,
        study.native,
        study.foreign,
        summary.get("front_depth_m") or float("nan"),
        f"{study.name}: depth profiles",
    )
    laws = {term.name: term.diffusion for term in simulation.problem.species}
    plot_diffusion(folder / "diffusion.png", laws, simulation.scales.diffusivity_m2_s)
