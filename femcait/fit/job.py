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
    free_parameters,
    point_residuals,
    run_fit,
    study_with,
)
from femcait.fit.measurement import read_measured
from femcait.fit.spec import FitFile, fit_from_dict
from femcait.output.atomic import replacing
from femcait.output.ownership import create_marked, replace_problem
from femcait.output.tables import CsvTable, write_json
from femcait.study import load_yaml, study_from_dict


def prepare(path: Path) -> tuple[FitFile, list[ExperimentData]]:
    """The fit file and its experiments, all checked; `StudyError` otherwise."""
    fit = fit_from_dict(load_yaml(path), str(path))
    base = path.parent
    experiments = []
    for index, spec in enumerate(fit.experiments):
        study_path = base / spec.study
        data = load_yaml(study_path)
        study_from_dict(data, str(study_path), study_path.parent)  # raises StudyError
        measured = read_measured(spec.measured, base, f"{path}: experiments.{index}.measured")
        experiments.append(
            ExperimentData(spec.name, data, study_path.parent, str(study_path), measured)
        )
    free_parameters(fit, experiments, str(path))  # every path exists and is a number
    return fit, experiments


def run_fit_job(
    fit: FitFile,
    experiments: list[ExperimentData],
    out: Path,
    comm: MPI.Comm,
    log: Callable[[str], None],
) -> FitResult:
    """Run the fit into ``out`` and write its report."""
    out = Path(out).absolute()
    if comm.rank == 0:
        problem = replace_problem(out, "fit")
        if problem is not None:
            raise OutputError(problem)
        create_marked(out, "fit")
    comm.barrier()
    parameters = free_parameters(fit, experiments)
    model = ForwardModel(fit, experiments, parameters, out, comm, log)
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
        "resolution_sigma_m": model.sigma(result.values),
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
        for name, data in measured.fractions.items():
            values = fitted[name] if fitted else np.full(data.size, np.nan)
            residual = point_residuals(values, data, measured.floor, fit.residual)
            for row in zip(measured.depth_m, data, values, residual, strict=True):
                point = dict(zip(point_columns, row, strict=True))
                table.append({"experiment": experiment.name, "species": name, **point})
        if fitted:
            _overlay(out / f"fit_{experiment.name}.png", experiment, fitted, fit.name)
    table.close()


def _overlay(path: Path, experiment: ExperimentData, fitted, title: str) -> None:
    """Measured points and the fitted profile, linear and log, with the residuals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = experiment.measured
    depth_nm = measured.depth_m * 1e9
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.9, wspace=0.22)
    for ax, scale in zip(axes, ("linear", "log"), strict=True):
        colours = ("tab:red", "tab:blue", "tab:green", "tab:purple")
        for colour, (name, data) in zip(colours, measured.fractions.items(), strict=False):
            ax.plot(depth_nm, data, ".", color=colour, alpha=0.5, label=f"{name}+ measured")
            ax.plot(depth_nm, fitted[name], "-", color=colour, label=f"{name}+ fit")
        ax.set_yscale(scale)
        ax.set_xlabel("depth / nm")
        ax.set_ylabel("n / n_bg")
        if scale == "log" and measured.floor > 0:
            ax.axhline(measured.floor, color="grey", lw=0.8, ls=":", label="floor")
            ax.set_ylim(bottom=0.3 * measured.floor)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{title}: {experiment.name}")
    fig.savefig(path, dpi=110)
    plt.close(fig)
