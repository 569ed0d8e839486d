"""The fit: free parameters, forward runs, residuals, least squares and the statistics.

Every residual evaluation runs each experiment's study (with the parameters set) as a
normal run into ``OUT/runs/<experiment>/<n>``, reads its profile at the end and maps it
onto the measured depths through the depth resolution. A completed run is found again by
the fingerprint of its study (``fit_run.json``): the optimiser is deterministic, so a fit
that was stopped and is started again replays the runs it has and resumes where it
stopped. `scipy.optimize.least_squares`
(trust region reflective, bounds) minimises the sum of squared residuals; the
uncertainties come from the Jacobian at the optimum, scaled by the residual variance.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from mpi4py import MPI

from femcait.errors import StudyError
from femcait.fit.measurement import MeasuredProfile, observed
from femcait.fit.spec import FitFile, Parameter
from femcait.output.figure_worker import FigureWorker
from femcait.output.tables import read_final_profile
from femcait.preflight import check_study
from femcait.runner import run_study
from femcait.study import study_from_dict
from femcait.study.messages import MISSING, lookup
from femcait.sweep.expansion import set_key
from femcait.sweep.runner import fingerprint

RESOLUTION_KEYS = ("resolution.sigma", "resolution.mixing", "resolution.information")
"""The parameter paths of the depth resolution (shared by the experiments)."""

DEPTH_OFFSET_KEY = "depth.offset"
DEPTH_SCALE_KEY = "depth.scale"
"""The parameter paths of the depth calibration (shared, or per experiment)."""

MEASUREMENT_KEYS = (*RESOLUTION_KEYS, DEPTH_OFFSET_KEY, DEPTH_SCALE_KEY)
"""Parameters of the measurement model, not of the studies."""

FAILED_RUN_RESIDUAL = 10.0
"""Residual of every point of an experiment whose forward run failed (a fraction of 10
n_bg, or 10 in ln; for counts 10 n_bg in units of the counting noise): far worse than any
run that completes, so the fit moves away."""

DIFF_STEP = 1e-2
"""Finite-difference step of the Jacobian in the scaled parameters (1 % of a linear
parameter's range, a factor 10^0.01 = 1.023 of a log parameter): the forward runs' own
error (adaptive steps, ~1e-4) would swamp a smaller one."""


@dataclass(frozen=True)
class FreeParameter:
    """A parameter the fit varies, scaled for the optimiser: x = log10(value / initial)
    for log parameters, (value - initial) / (max - min) otherwise."""

    path: str
    experiment: str | None
    key: str
    spec: Parameter
    initial: float

    def value(self, x: float) -> float:
        if self.spec.log:
            return self.initial * 10.0**x
        return self.initial + x * (self.spec.max - self.spec.min)

    def scaled(self, value: float) -> float:
        if self.spec.log:
            return math.log10(value / self.initial)
        return (value - self.initial) / (self.spec.max - self.spec.min)

    def value_stderr(self, value: float, x_stderr: float) -> float:
        """Standard error of the value from that of x (linearised)."""
        if self.spec.log:
            return value * math.log(10.0) * x_stderr
        return x_stderr * (self.spec.max - self.spec.min)


@dataclass
class ExperimentData:
    """An experiment ready to fit: its study (as written, and resolved: SI, defaults
    filled in) and measured profile."""

    name: str
    study: dict[str, Any]
    study_dir: Path
    source: str
    measured: MeasuredProfile
    resolved: dict[str, Any]


@dataclass
class ForwardLog:
    """What the forward runs did: runs started, runs reused from earlier, failures."""

    runs: int = 0
    reused: int = 0
    failures: list[str] = field(default_factory=list)


RUN_RECORD = "fit_run.json"
"""The file in a forward run's folder with the fingerprint of its study."""


def _earlier_runs(folder: Path) -> tuple[dict[str, Path], int]:
    """The completed forward runs in ``folder`` (one experiment's runs) by fingerprint,
    and how many run folders it holds (the next run's number follows them)."""
    found: dict[str, Path] = {}
    for record in sorted(folder.glob(f"*/{RUN_RECORD}")):
        try:
            content = json.loads(record.read_text())
            summary = json.loads((record.parent / "summary.json").read_text())
        except (OSError, ValueError):
            continue
        if summary.get("status") == "completed" and isinstance(content, dict):
            found[str(content.get("fingerprint"))] = record.parent
    return found, len(list(folder.glob("*")))


def free_parameters(
    fit: FitFile, experiments: list[ExperimentData], source: str = "fit"
) -> list[FreeParameter]:
    """The free parameters with their initial values; `StudyError` (naming ``source``, the
    fit file) for a path that no experiment's study has, or that is not a number."""
    names = {e.name: e for e in experiments}
    result = []
    for path, spec in fit.parameters.items():
        where = f"{source}: parameters.{path}"
        experiment, _, key = path.rpartition(":")
        if experiment and experiment not in names:
            raise StudyError(f"{where}: no experiment named {experiment!r} ({', '.join(names)})")
        if key in MEASUREMENT_KEYS:
            if experiment and key in RESOLUTION_KEYS:
                raise StudyError(f"{where}: the resolution is shared; write {key}")
            if key == DEPTH_SCALE_KEY and spec.min <= 0:
                raise StudyError(f"{where}.min: got {spec.min:g}, a depth scale must be > 0")
            if key in RESOLUTION_KEYS and spec.min < 0:
                raise StudyError(f"{where}.min: got {spec.min:g}, a length must be >= 0")
            fixed = {
                **dict(zip(RESOLUTION_KEYS, _resolution(fit), strict=True)),
                DEPTH_OFFSET_KEY: fit.depth.offset,
                DEPTH_SCALE_KEY: fit.depth.scale,
            }[key]
            initial = spec.initial if spec.initial is not None else fixed
        else:
            chosen = [names[experiment]] if experiment else experiments
            values = [_study_value(e, key, where) for e in chosen]
            initial = spec.initial if spec.initial is not None else values[0]
        if not spec.min <= initial <= spec.max:
            raise StudyError(
                f"{where}: the starting value {initial:g} lies outside [min, max] = "
                f"[{spec.min:g}, {spec.max:g}]; give `initial` or widen the bounds"
            )
        if spec.log and initial <= 0:
            raise StudyError(f"{where}: a log parameter needs a positive start, got {initial:g}")
        result.append(FreeParameter(path, experiment or None, key, spec, initial))
    for key in (DEPTH_OFFSET_KEY, DEPTH_SCALE_KEY):
        scopes = [p.experiment for p in result if p.key == key]
        if None in scopes and len(scopes) > 1:
            raise StudyError(
                f"{source}: parameters: {key} is both shared and per experiment; give one"
            )
    return result


def _resolution(fit: FitFile) -> tuple[float, float, float]:
    """The fit file's depth resolution: sigma, mixing, information (m)."""
    r = fit.resolution
    return r.sigma, r.mixing, r.information


def _study_value(experiment: ExperimentData, key: str, where: str) -> float:
    """The SI value at ``key`` in the experiment's resolved study."""
    value = lookup(experiment.resolved, key.split("."))
    if value is MISSING:
        raise StudyError(
            f"{where}: the study of experiment {experiment.name!r} ({experiment.source})"
            f" has no key {key!r}"
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise StudyError(
            f"{where}: {key!r} in the study of experiment {experiment.name!r} is "
            f"{value!r}, not a number"
        )
    return float(value)


def study_with(experiment: ExperimentData, parameters: list[FreeParameter], values) -> dict:
    """The experiment's study dict with the parameter values set (SI numbers)."""
    study = copy.deepcopy(experiment.study)
    for parameter, value in zip(parameters, values, strict=True):
        if parameter.key not in MEASUREMENT_KEYS and parameter.experiment in (
            None,
            experiment.name,
        ):
            set_key(study, parameter.key, float(value))
    return study


class ForwardModel:
    """Residuals of all experiments for parameter values, by forward runs.

    On several MPI ranks the ranks form groups of ``ranks_per_run``; `prefetch` runs the
    forward runs that several parameter sets need (a Jacobian's) side by side, one per
    group; a single run (a trial step) runs on the first group.
    """

    def __init__(
        self,
        fit: FitFile,
        experiments: list[ExperimentData],
        parameters: list[FreeParameter],
        out: Path,
        comm: MPI.Comm,
        log: Callable[[str], None],
        ranks_per_run: int = 1,
        figures: FigureWorker | None = None,
    ) -> None:
        """``figures``: a worker that draws the forward runs' figures (else in-process)."""
        self.fit = fit
        self._figures = figures
        self.experiments = experiments
        self.parameters = parameters
        self.out = out
        self.comm = comm
        self.log = log
        self.record = ForwardLog()
        self.last_model: dict[str, dict[str, np.ndarray]] = {}
        self.groups = max(comm.size // ranks_per_run, 1)
        self._group = comm.Split(comm.rank // ranks_per_run, comm.rank) if self.groups > 1 else comm
        self._fresh: set[tuple[str, str]] = set()  # prefetched, not yet used
        self._failed: dict[tuple[str, str], tuple[Path, str]] = {}
        found = comm.bcast(
            {e.name: _earlier_runs(out / "runs" / e.name) for e in experiments}
            if comm.rank == 0
            else None,
            root=0,
        )
        self._done = {name: done for name, (done, _) in found.items()}
        self._numbers = {name: count for name, (_, count) in found.items()}

    def _measurement(self, key: str, fixed: float, values, experiment: str | None) -> float:
        """A measurement-model value: the parameter's if it is free (for this experiment,
        or shared), else the fit file's."""
        for parameter, value in zip(self.parameters, values, strict=True):
            if parameter.key == key and parameter.experiment in (None, experiment):
                return float(value)
        return fixed

    def resolution(self, values) -> tuple[float, float, float]:
        """The depth resolution for these values: sigma, mixing, information (m)."""
        fixed = _resolution(self.fit)
        return tuple(
            self._measurement(key, value, values, None)
            for key, value in zip(RESOLUTION_KEYS, fixed, strict=True)
        )

    def calibration(self, experiment: str, values) -> tuple[float, float]:
        """The depth offset (m) and scale of an experiment's measured depths."""
        depth = self.fit.depth
        return (
            self._measurement(DEPTH_OFFSET_KEY, depth.offset, values, experiment),
            self._measurement(DEPTH_SCALE_KEY, depth.scale, values, experiment),
        )

    def residuals(self, values) -> np.ndarray:
        """Residuals of every experiment, species and measured depth (one vector)."""
        self.prefetch([values])  # on one group: a 1D run is fastest on one rank
        parts = []
        for experiment in self.experiments:
            model = self.model(experiment, values)
            parts.append(self._residual(experiment.measured, model))
        return np.concatenate(parts)

    def prefetch(self, value_sets: list) -> None:
        """Run the forward runs that these parameter sets need and that are not done,
        side by side on the MPI groups (nothing to do on one group: `model` runs them)."""
        if self.groups == 1:
            return
        jobs, taken = [], set()
        for values in value_sets:
            for experiment in self.experiments:
                study_dict = study_with(experiment, self.parameters, values)
                key = fingerprint(study_dict)
                name = experiment.name
                if key in self._done[name] or (name, key) in self._failed or (name, key) in taken:
                    continue
                taken.add((name, key))
                jobs.append((experiment, study_dict, key, self._next_folder(name), values))
        index = self.comm.rank // (self.comm.size // self.groups)
        outcomes = []
        for experiment, study_dict, key, folder, values in jobs[index :: self.groups]:
            reason = self._run(experiment, study_dict, key, folder, values, self._group)
            outcomes.append((experiment.name, key, str(folder), reason))
        for part in self.comm.allgather(outcomes if self._group.rank == 0 else []):
            for name, key, folder, reason in part:
                self.record.runs += 1
                if reason is None:
                    self._done[name][key] = Path(folder)
                    self._fresh.add((name, key))
                else:
                    self._failed[(name, key)] = (Path(folder), reason)

    def _next_folder(self, experiment: str) -> Path:
        """The folder of an experiment's next forward run (numbered on from those found)."""
        self._numbers[experiment] += 1
        return self.out / "runs" / experiment / f"{self._numbers[experiment]:04d}"

    def _run(self, experiment, study_dict, key, folder, values, comm) -> str | None:
        """One forward run into ``folder`` on ``comm``; the reason if it failed."""
        try:
            study = study_from_dict(study_dict, experiment.source, experiment.study_dir)
            check_study(study, experiment.source)  # scales and cost, as `femcait run`
            outcome = run_study(
                study,
                folder,
                comm,
                show_progress=False,
                extra_json={RUN_RECORD: {"fingerprint": key, "values": [float(v) for v in values]}},
                figures=self._figures,
            )
        except StudyError as error:
            return str(error).splitlines()[0]
        return None if outcome.ok else outcome.summary["reason"]

    def model(self, experiment: ExperimentData, values) -> dict[str, np.ndarray] | None:
        """The simulated fractions at the measured depths, or None if the run failed."""
        study_dict = study_with(experiment, self.parameters, values)
        key = fingerprint(study_dict)
        name = experiment.name
        folder = self._done[name].get(key)
        reason = None
        if (name, key) in self._failed:
            folder, reason = self._failed[(name, key)]
        elif folder is not None:
            if (name, key) in self._fresh:
                self._fresh.discard((name, key))  # counted as run by `prefetch`
            else:
                self.record.reused += 1
        else:
            self.record.runs += 1
            folder = self._next_folder(name)
            reason = self._run(experiment, study_dict, key, folder, values, self.comm)
            if reason is None:
                self._done[name][key] = folder
        if reason is not None:
            text = f"run {folder.name} of {name} failed: {reason}"
            self.record.failures.append(text)
            self.log(f"  {text}")
            return None
        profile = self.comm.bcast(
            read_final_profile(folder) if self.comm.rank == 0 else None, root=0
        )
        depth, fractions = profile
        measured = experiment.measured
        resolution = self.resolution(values)
        offset, scale = self.calibration(experiment.name, values)
        at = offset + scale * measured.depth_m  # the measured points' depths in the sample
        model = {
            name: observed(depth, fractions[name], *resolution, at) for name in measured.fractions
        }
        self.last_model[experiment.name] = model
        return model

    def _residual(self, measured: MeasuredProfile, model) -> np.ndarray:
        if model is None:  # in counting-noise units, 10 n_bg is 10 L / sqrt(L)
            counts = self.fit.residual == "poisson"
            scale = math.sqrt(max(measured.signal_levels.values())) if counts else 1.0
            return np.full(measured.points, FAILED_RUN_RESIDUAL * scale)
        return np.concatenate(list(species_residuals(measured, model, self.fit.residual).values()))


def species_residuals(
    measured: MeasuredProfile, model: dict[str, np.ndarray], kind: str
) -> dict[str, np.ndarray]:
    """`point_residuals` of every measured species against the model's values."""
    return {
        name: point_residuals(
            model[name], data, measured.floor, kind, measured.signal_levels.get(name)
        )
        for name, data in measured.fractions.items()
    }


def point_residuals(
    model: np.ndarray, data: np.ndarray, floor: float, kind: str, level: float | None = None
) -> np.ndarray:
    """Residuals per point; a measured value at or below the floor only says the true one
    is not above it, so the model is penalised there only where it rises above the floor.
    ``level``: the counts that mean n_bg (for the Poisson residual, whose noise is the
    square root of the counts, at least 1)."""
    censored = data <= floor
    tiny = max(floor, 1e-12)
    if kind == "poisson":
        noise = np.sqrt(np.maximum(data * level, 1.0))
        difference = (model - data) * level / noise
        above = (model - floor) * level / np.sqrt(max(floor * level, 1.0))
    elif kind == "log":
        difference = np.log(np.maximum(model, tiny)) - np.log(np.maximum(data, tiny))
        above = np.log(np.maximum(model, tiny)) - math.log(tiny)
    else:
        difference = model - data
        above = model - floor
    return np.where(censored, np.maximum(above, 0.0), difference)


@dataclass
class FitResult:
    """The fitted values, their uncertainties and the fit's statistics."""

    values: np.ndarray
    stderr: np.ndarray
    correlation: np.ndarray
    chi2: float
    points: int
    dof: int
    status: str
    message: str
    iterations: int
    forward_runs: int
    reused_runs: int
    wall_s: float
    failures: list[str]

    @property
    def reduced_chi2(self) -> float:
        return self.chi2 / self.dof if self.dof > 0 else float("nan")


def run_fit(model: ForwardModel) -> FitResult:
    """Least squares over the scaled parameters; statistics at the optimum."""
    from scipy.optimize import least_squares

    start = time.perf_counter()
    parameters = model.parameters
    lower = np.array([p.scaled(p.spec.min) for p in parameters])
    upper = np.array([p.scaled(p.spec.max) for p in parameters])

    def values_at(x: np.ndarray) -> list[float]:
        return [p.value(xi) for p, xi in zip(parameters, x, strict=True)]

    def residuals(x: np.ndarray) -> np.ndarray:
        return model.residuals(values_at(x))

    def jacobian(x: np.ndarray) -> np.ndarray:
        """Forward differences with steps of DIFF_STEP in the scaled parameters (backward
        at an upper bound). scipy's own steps are relative to |x|: at the start, x = 0,
        they were 1.5e-8, far below the forward runs' own error."""
        points = []
        for i in range(len(x)):
            step = DIFF_STEP if x[i] + DIFF_STEP <= upper[i] else -DIFF_STEP
            moved = x.copy()
            moved[i] += step
            points.append((moved, step))
        model.prefetch([values_at(p) for p in [x, *(moved for moved, _ in points)]])
        at = residuals(x)  # a forward run found again: its study is unchanged
        columns = [(residuals(moved) - at) / step for moved, step in points]
        return np.column_stack(columns)

    budget = model.fit.max_forward_runs
    result = least_squares(
        residuals,
        np.zeros(len(parameters)),
        jac=jacobian,
        bounds=(lower, upper),
        method="trf",
        max_nfev=max(1, budget // (len(parameters) + 1)),
        x_scale=1.0,
    )
    values = np.array([p.value(xi) for p, xi in zip(parameters, result.x, strict=True)])
    model.residuals(values)  # leave the best fit's profiles in model.last_model
    points = result.fun.size
    dof = points - len(parameters)
    chi2 = float(np.sum(result.fun**2))
    variance = chi2 / dof if dof > 0 else float("nan")
    jac = np.atleast_2d(result.jac)
    covariance = np.linalg.pinv(jac.T @ jac) * variance
    x_stderr = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = covariance / np.outer(x_stderr, x_stderr)
    stderr = np.array(
        [p.value_stderr(v, s) for p, v, s in zip(parameters, values, x_stderr, strict=True)]
    )
    status = "converged" if result.status > 0 else "stopped"
    return FitResult(
        values=values,
        stderr=stderr,
        correlation=correlation,
        chi2=chi2,
        points=points,
        dof=dof,
        status=status,
        message=str(result.message),
        iterations=int(result.nfev),
        forward_runs=model.record.runs,
        reused_runs=model.record.reused,
        wall_s=time.perf_counter() - start,
        failures=list(model.record.failures),
    )
