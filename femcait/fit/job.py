"""``femcait fit``: read and check a fit file, run the fit, write its folder.

Everything a fit needs is checked before the first forward run: the fit file, every
study, every measured file, every parameter path. The folder (a marked "fit" folder)
holds ``runs/`` (each forward run a normal run folder), ``fit.json``, one
``best_fit_<experiment>.yaml`` per experiment (runnable with ``femcait run``),
``fit_points.csv`` (measured, fitted and residual per point) and ``fit_<experiment>.png``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml
from mpi4py import MPI

from femcait import __version__
from femcait.errors import OutputError
from femcait.fit.fitting import (
    ExperimentData,
    FitResult,
    ForwardModel,
    FreeParameter,
    free_parameters,
    run_fit,
    species_residuals,
    study_with,
)
from femcait.fit.measurement import read_measured
from femcait.fit.spec import FitFile, fit_from_dict
from femcait.output.atomic import replacing
from femcait.output.figure_worker import figure_worker
from femcait.output.ownership import create_marked, replace_problem
from femcait.output.tables import CsvTable, write_json
from femcait.study import load_yaml, study_from_dict

RESIDUAL_LABELS = {
    "linear": "fit - measured / n_bg",
    "log": "ln(fit / measured)",
    "poisson": "(fit - measured) / sqrt(counts)",
}
"""The residual axis of the fit figure, by residual kind (at the floor: only above it)."""


def prepare(path: Path) -> tuple[FitFile, list[ExperimentData], list[FreeParameter]]:
    """The fit file, its experiments and its free parameters, all checked; `StudyError`
    otherwise."""
    fit = fit_from_dict(load_yaml(path), str(path))
    base = path.parent
    experiments = []
    for index, spec in enumerate(fit.experiments):
        study_path = base / spec.study
        data = load_yaml(study_path)
        study = study_from_dict(data, str(study_path), study_path.parent)  # StudyError
        measured = read_measured(spec.measured, base, f"{path}: experiments.{index}.measured")
        experiments.append(
            ExperimentData(
                spec.name,
                data,
                study_path.parent,
                str(study_path),
                measured,
                study.to_resolved_dict(),
            )
        )
    parameters = free_parameters(fit, experiments, str(path))  # paths exist, are numbers
    return fit, experiments, parameters


def run_fit_job(
    fit: FitFile,
    experiments: list[ExperimentData],
    parameters: list[FreeParameter],
    out: Path,
    comm: MPI.Comm,
    log: Callable[[str], None],
    ranks_per_run: int = 1,
) -> FitResult:
    """Run the fit into ``out`` and write its report (forward runs of one Jacobian side by
    side on groups of ``ranks_per_run`` ranks)."""
    out = Path(out).absolute()
    if comm.rank == 0:
        problem = replace_problem(out, "fit")
        if problem is not None:
            raise OutputError(problem)
        create_marked(out, "fit")
    comm.barrier()
    # one-rank forward runs: a child process draws their figures beside them (figure_worker)
    with figure_worker(ranks_per_run) as figures:
        model = ForwardModel(fit, experiments, parameters, out, comm, log, ranks_per_run, figures)
        result = run_fit(model)
    if comm.rank == 0:
        _write_report(out, fit, experiments, model, result)
    return result


def _write_report(out, fit, experiments, model, result: FitResult) -> None:
    parameters = model.parameters
    report = {
        "fit": fit.name,
        "femcait_version": __version__,
        "status": result.status,
        "message": result.message,
        "parameters": {
            p.path: {
                "value": float(v),
                "stderr": float(s),
                "initial": p.initial,
                "min": p.spec.min,
                "max": p.spec.max,
                "log": p.spec.log,
            }
            for p, v, s in zip(parameters, result.values, result.stderr, strict=True)
        },
        "correlation": {
            "order": [p.path for p in parameters],
            "matrix": np.nan_to_num(result.correlation).tolist(),
        },
        "chi2": result.chi2,
        "reduced_chi2": result.reduced_chi2,
        "points": result.points,
        "residual": fit.residual,
        "resolution": dict(
            zip(
                ("sigma_m", "mixing_m", "information_m"),
                model.resolution(result.values),
                strict=True,
            )
        ),
        "signal_levels": {e.name: e.measured.signal_levels for e in experiments},
        "depth_calibration": {
            e.name: dict(
                zip(("offset_m", "scale"), model.calibration(e.name, result.values), strict=True)
            )
            for e in experiments
        },
        "iterations": result.iterations,
        "forward_runs": result.forward_runs,
        "reused_runs": result.reused_runs,
        "failed_runs": result.failures,
        "wall_s": result.wall_s,
        "note": (
            "stderr: from the Jacobian at the optimum, scaled by the residual variance "
            "chi2 / (points - parameters); linearised (for log parameters, value * ln 10 "
            "* stderr of log10)"
        ),
    }
    write_json(out / "fit.json", report)
    point_columns = ["depth_m", "measured_frac", "fitted_frac", "residual"]
    table = CsvTable(out / "fit_points.csv", ["experiment", "species", *point_columns])
    for experiment in experiments:
        best = study_with(experiment, parameters, result.values)
        with replacing(out / f"best_fit_{experiment.name}.yaml") as temporary:
            temporary.write_text(
                f"# best fit of {fit.name} (femcait {__version__}); values in SI units\n"
                + yaml.safe_dump(best, sort_keys=False)
            )
        measured = experiment.measured
        fitted = model.last_model.get(experiment.name)
        values = fitted or {name: np.full(d.size, np.nan) for name, d in measured.fractions.items()}
        residuals = species_residuals(measured, values, fit.residual)
        for name, data in measured.fractions.items():
            rows = zip(measured.depth_m, data, values[name], residuals[name], strict=True)
            for row in rows:
                point = dict(zip(point_columns, row, strict=True))
                table.append({"experiment": experiment.name, "species": name, **point})
        if fitted:
            from femcait.output.figures import plot_fit  # matplotlib: only for the report

            plot_fit(
                out / f"fit_{experiment.name}.png",
                measured.depth_m,
                measured.fractions,
                fitted,
                measured.floor,
                f"{fit.name}: {experiment.name}",
                residuals,
                RESIDUAL_LABELS[fit.residual],
            )
    table.close()
    _write_bands(out, fit, experiments, parameters, result)


def _write_bands(out, fit, experiments, parameters, result: FitResult) -> None:
    """fit_bands.csv and fit_bands_<experiment>.png: the fitted D(n) and PSED with their
    uncertainty bands, for every species whose law the fit changed."""
    from femcait.fit.bands import draws, species_bands

    table = CsvTable(
        out / "fit_bands.csv", ["experiment", "species", "curve", "x", "low", "median", "high"]
    )
    values = draws(parameters, result)
    for experiment in experiments:
        bands = species_bands(experiment, parameters, values)
        for species in bands:
            curves = [("D_m2_s", species.diffusion), ("psed_per_eV", species.psed)]
            for curve, band in curves:
                if band is None:
                    continue
                for row in zip(band.x, band.low, band.median, band.high, strict=True):
                    point = dict(zip(("x", "low", "median", "high"), row, strict=True))
                    table.append(
                        {"experiment": experiment.name, "species": species.name, "curve": curve}
                        | point
                    )
        if bands:
            from femcait.output.figures import plot_bands

            title = f"{fit.name}: {experiment.name}, fitted laws and their 16-84 % bands"
            plot_bands(out / f"fit_bands_{experiment.name}.png", bands, title)
    table.close()
