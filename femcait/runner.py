"""The main job: run one study into an output folder (the README's output contract)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from mpi4py import MPI

from femcait import __version__
from femcait.diagnostics.record import MapFrame, Snapshot, StepRecord
from femcait.errors import SolverError
from femcait.output.fields import FieldWriter
from femcait.output.figure_worker import FigureCall, FigureWorker
from femcait.output.run_folder import RunFolder
from femcait.output.tables import (
    CsvTable,
    crater_columns,
    crater_rows,
    profile_columns,
    profile_rows,
    write_json,
)
from femcait.progress import RunProgress
from femcait.simulation import IMMOBILE_UNDERSHOOT_WARNING, Simulation
from femcait.study import Study

FINE_ZONE_WARNING = 0.8
"""Warn when the front gets deeper than this fraction of the fine mesh zone."""

CROWDED_FRACTION = 2.0
"""Warn when a species gets denser than this many n_bg anywhere."""

UNRESOLVED_CHANGE = 1.5
"""Warn when a fixed mesh's largest change across a depth cell exceeds this many
mesh.adapt_tolerance: coarser than an adaptive mesh gets between two adaptations (up to
1.3 seen). The default study's front: 0.14 % short at 1.08, 0.7 % at 1.8 tolerances."""


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
    figures: FigureWorker | None = None,
) -> RunOutcome:
    """Simulate ``study`` and write its output folder ``out`` (committed atomically).

    ``started`` (a `time.perf_counter` value) is when the job began, for ``wall_s``;
    by default, the call of this function.

    A run that ends in a solver failure is still written (status "failed" with the
    reason); one interrupted by anything else (Ctrl-C, a crash) leaves ``out`` as it was.
    ``extra_json``: more JSON files (name -> content) written into the folder before it
    is committed (a sweep's case.json). ``figures``: a worker that draws the figures (by
    default they are drawn in this process).
    """
    start = time.perf_counter() if started is None else started
    simulation = Simulation(study, comm)
    folder = RunFolder(out, comm)
    try:
        return _run_into(simulation, folder, start, show_progress, extra_json or {}, figures)
    except BaseException:
        if figures is not None:
            figures.close()  # before the folder it draws into goes
        folder.discard()
        raise


def _run_into(
    simulation: Simulation,
    folder: RunFolder,
    start: float,
    show_progress: bool,
    extra_json: dict[str, dict],
    figures: FigureWorker | None,
):
    study, comm = simulation.study, simulation.comm
    rank0 = comm.rank == 0
    names = simulation.names
    columns = StepRecord.columns(names, simulation.monitor.extra_columns)
    fields = FieldWriter(
        folder.path,
        simulation.problem,
        names,
        simulation.scales.length_m,
        simulation.scales.thermal_voltage_V,
        vtx=study.output.vtx,
    )
    timeseries = CsvTable(folder.path / "timeseries.csv", columns) if rank0 else None
    snapshots: list[Snapshot] = []
    outputs: list[dict] = []
    last: list[StepRecord] = []

    def on_step(record: StepRecord) -> None:
        last[:] = [record]
        if timeseries is not None:
            timeseries.append(record.row())
        progress.update(record)

    def on_output(snapshot: Snapshot) -> None:
        fields.write(snapshot.time_s, simulation.problem)
        snapshots.append(snapshot)
        if last:
            r = last[0]
            entry = {
                "time_s": snapshot.time_s,
                "front_depth_m": r.front_depth_m,
                "plateau_frac": r.plateau_frac,
            }
            entry.update({k: v for k, v in r.extra.items() if k == "front_lateral_spread_m"})
            outputs.append(entry)

    figures = figures or FigureWorker(child=False)
    if rank0:
        figures.submit([_law_figure(folder.path, simulation)])
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
    summary = _summary(simulation, last[0] if last else None, outputs, status, reason, columns)
    if rank0:
        figures.submit(_result_figures(folder.path, simulation, snapshots, summary))
        write_json(
            folder.path / "study.json",
            {**simulation.resolved_study(), "femcait_version": __version__},
        )
        _tables(folder.path, simulation, snapshots)
        figures.finish()
        for name, content in extra_json.items():
            write_json(folder.path / name, content)
        summary["wall_s"] = time.perf_counter() - start  # everything but the final rename
        write_json(folder.path / "summary.json", summary)
    return RunOutcome(folder.commit(), summary, status == "completed")


def _summary(simulation: Simulation, record, outputs, status, reason, columns) -> dict:
    """The summary without ``wall_s``, which is taken once the other files are written."""
    stats = simulation.statistics
    fine_depth_m = simulation.mesh_settings["fine_depth"] * simulation.scales.length_m
    summary: dict = {"study": simulation.study.name, "status": status, "reason": reason}
    derived = [k for k in columns if k not in ("step", "dt_s")]
    summary.update(dict.fromkeys(derived))  # null when no step was accepted
    if record is not None:
        summary.update({k: v for k, v in record.row().items() if k in derived})
    summary.update(
        {
            "steps": stats.steps,
            "rejected_steps": stats.rejected_steps,
            "failed_solves": stats.failed_solves,
            "newton_iterations": stats.newton_iterations,
            "cells": simulation.cells,
            "max_cells": stats.max_cells,
            "mesh_adaptations": stats.adaptations,
            "largest_depth_change": stats.largest_depth_change,
            "dofs": int(simulation.problem.V.dofmap.index_map.size_global),
            "ranks": simulation.comm.size,
            "solve_wall_s": stats.wall_s,
            "outputs": outputs,
            "warnings": list(simulation.warnings),
        }
    )
    crowded = summary.get("max_frac")
    if crowded is not None and crowded > CROWDED_FRACTION:
        summary["warnings"].append(
            f"a species reached {crowded:.3g} n_bg somewhere: the model (ideal Nernst-Planck, "
            "no limit to the ions per site) is outside its range there; seen where a "
            "grounded mask meets the exposed front at a high surface potential"
        )
    undershoots = simulation.immobile_undershoots()
    summary["immobile_undershoot"] = undershoots
    for name, gap in undershoots.items():
        if gap > IMMOBILE_UNDERSHOOT_WARNING:
            summary["warnings"].append(
                f"{name} fell {gap:.1%} below its immobile level at some node (it cannot move "
                f"back from there): the time steps were too long for the drain; use "
                f"time.scheme euler (what auto chooses) or a smaller time.tolerance"
            )
    tolerance = simulation.study.mesh.adapt_tolerance
    change = stats.largest_depth_change
    if simulation.adapter is None and change > UNRESOLVED_CHANGE * tolerance:
        summary["warnings"].append(
            f"a density changed by up to {change:.2f} n_bg across one depth cell of the "
            f"fixed mesh at an output time, {change / tolerance:.1f} times the "
            f"mesh.adapt_tolerance ({tolerance:g}) an adaptive mesh keeps to: the front is "
            "under-resolved and the results mesh-dependent; set mesh.adapt: true or a "
            "smaller mesh.fine_cell"
        )
    front = summary.get("front_depth_m")
    fixed_mesh = simulation.adapter is None  # an adaptive mesh refines wherever the front is
    if (
        fixed_mesh
        and front is not None
        and front == front
        and front > FINE_ZONE_WARNING * fine_depth_m
    ):
        summary["warnings"].append(
            f"the front ({front:.3g} m) reached {FINE_ZONE_WARNING:.0%} of the fine mesh zone "
            f"({fine_depth_m:.3g} m): set mesh.fine_depth deeper"
        )
    return summary


def _tables(folder: Path, simulation: Simulation, snapshots: list[Snapshot]) -> None:
    """profiles.csv (with the lateral position of each line in 2D) and crater.csv."""
    names = simulation.names
    lateral = simulation.domain.dim == 2
    table = CsvTable(folder / "profiles.csv", profile_columns(names, lateral))
    for snapshot in snapshots:
        for profile in snapshot.profiles:
            for row in profile_rows(profile, lateral):
                table.append(row)
    table.close()
    craters = [s.crater for s in snapshots if s.crater is not None]
    if simulation.monitor.has_crater:
        table = CsvTable(folder / "crater.csv", crater_columns(names))
        for crater in craters:
            for row in crater_rows(crater):
                table.append(row)
        table.close()


def _law_figure(folder: Path, simulation: Simulation) -> FigureCall:
    """The D(n) figure: it needs no result."""
    laws = {term.name: term.diffusion for term in simulation.problem.species}
    return FigureCall(
        "femcait.output.figures:plot_diffusion",
        (folder / "diffusion.png", laws, simulation.scales.diffusivity_m2_s),
    )


def _result_figures(
    folder: Path, simulation: Simulation, snapshots: list[Snapshot], summary: dict
) -> list[FigureCall]:
    """The figures of the results: profiles, the adapted mesh, 2D maps."""
    study = simulation.study
    axis_profiles = [snapshot.profiles[0] for snapshot in snapshots if snapshot.profiles]
    front = summary.get("front_depth_m") or float("nan")
    title = f"{study.name}: depth profiles"
    if simulation.domain.dim == 2:
        title += f" at {axis_profiles[0].position_m * 1e9:.4g} nm" if axis_profiles else ""
    module = "femcait.output.figures"
    calls = [
        FigureCall(
            f"{module}:plot_profiles",
            (folder / "profiles.png", axis_profiles, study.native, study.foreign, front, title),
        )
    ]
    if simulation.adapter is not None and simulation.domain.dim == 1:
        calls.append(
            FigureCall(
                f"{module}:plot_mesh",
                (folder / "mesh.png", axis_profiles, front, f"{study.name}: adapted mesh"),
            )
        )
    maps = [snapshot.field_map for snapshot in snapshots if snapshot.field_map is not None]
    if maps:
        domain, length_m = simulation.domain, simulation.scales.length_m
        edges = domain.mask_edges
        low, high = domain.lateral_extent
        frame = MapFrame(
            (low * length_m, high * length_m),
            (edges[0] if edges else domain.beam_axis) * length_m,
        )
        calls.append(
            FigureCall(
                "femcait.output.maps:plot_field_maps",
                (folder, maps, study.native, study.foreign, frame),
            )
        )
        if simulation.adapter is not None:
            calls.append(
                FigureCall(
                    "femcait.output.maps:plot_mesh_maps",
                    (
                        folder / "mesh.png",
                        maps,
                        study.foreign,
                        frame,
                        f"{study.name}: adapted mesh",
                    ),
                )
            )
    return calls
