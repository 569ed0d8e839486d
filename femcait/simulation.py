"""A CAIT simulation: builds the discrete problem from a study and runs the time loop.

`Simulation` wires the layers (scales -> mesh -> material laws -> forms/problem ->
step control) and reports every accepted step as a `StepRecord` in SI units to whoever
listens (writers, progress bar). It writes nothing itself.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np
from mpi4py import MPI
from scipy import constants

from femcait import interruption
from femcait.boundary import BoundarySet, CAITConditions, cait_boundaries, tag_ends
from femcait.forms import SpeciesTerms
from femcait.mesh import create_interval_mesh, graded_nodes, resolved_mesh_settings
from femcait.problem import TransportProblem
from femcait.quantities import front_depth, max_charge_imbalance, plateau_level
from femcait.scales import Scales
from femcait.stepping import StepController, local_error
from femcait.study import Study
from femcait.study.schema import Stage

FOREIGN_INITIAL_FRACTION = 1e-12
"""Initial density of foreign species (the log-density needs a positive start)."""

DT_INITIAL_DIELECTRIC = 0.01
"""Automatic first step: this fraction of the dielectric relaxation time."""

DT_MIN_DIELECTRIC = 1e-6
"""Automatic minimum step: this fraction of the dielectric relaxation time."""

DT_MAX_DURATION = 0.05
"""Automatic maximum step: this fraction of the duration."""


@dataclass
class StepRecord:
    """Derived quantities after an accepted step (SI units)."""

    step: int
    stage: int
    time_s: float
    dt_s: float
    newton_iterations: int
    front_depth_m: float
    plateau_frac: float
    foreign_inventory_m2: float
    native_deficit_m2: float
    foreign_influx_m2: float
    back_current_A_m2: float
    charge_C_m2: float
    surface_potential_V: float
    max_charge_imbalance: float
    conservation_error: float
    min_frac: float
    inventories_m2: dict[str, float] = field(default_factory=dict)

    def row(self) -> dict[str, float]:
        """Flat dict for a CSV row."""
        values = {k: v for k, v in self.__dict__.items() if k != "inventories_m2"}
        values.update({f"{k}_inventory_m2": v for k, v in self.inventories_m2.items()})
        return values

    @staticmethod
    def columns(names: list[str]) -> list[str]:
        """The keys of `row` for species ``names`` (the timeseries.csv columns)."""
        own = [f.name for f in fields(StepRecord) if f.name != "inventories_m2"]
        return [*own, *(f"{n}_inventory_m2" for n in names)]


@dataclass
class RunStatistics:
    """Counters of a finished run."""

    steps: int = 0
    rejected_steps: int = 0
    failed_solves: int = 0
    newton_iterations: int = 0
    wall_s: float = 0.0


@dataclass
class Profile:
    """A depth profile gathered on rank 0 (None elsewhere): SI depth, fractions, phi."""

    time_s: float
    depth_m: np.ndarray
    fractions: dict[str, np.ndarray]
    phi_V: np.ndarray


class Simulation:
    """One CAIT experiment on a 1D graded mesh."""

    def __init__(self, study: Study, comm: MPI.Comm) -> None:
        self.study = study
        self.scales = Scales.from_study(study)
        self.mesh_settings = resolved_mesh_settings(study, self.scales)
        self.nodes = graded_nodes(**self.mesh_settings)
        self.mesh = create_interval_mesh(comm, self.nodes)
        self.comm = self.mesh.comm
        self.names = list(study.species)
        self.native = self.names.index(study.native)
        self.foreign = [self.names.index(n) for n in study.foreign]
        self.charges = np.array([study.species[n].charge for n in self.names], dtype=float)
        self.background = float(self.charges[self.native])
        species = [
            SpeciesTerms(
                n,
                study.species[n].charge,
                study.diffusion_laws[n].scaled(1.0 / self.scales.diffusivity_m2_s),
            )
            for n in self.names
        ]
        self.stage = 0
        self.conditions = self._conditions(study.experiment.stages[0])
        self._tags = tag_ends(self.mesh, self.mesh_settings["length"])
        self.problem = TransportProblem(
            self.mesh,
            species,
            self.scales.debye_squared,
            self.background,
            self._boundaries,
            petsc_options=study.solver.petsc_options,
            max_newton_iterations=study.solver.max_newton_iterations,
        )
        self.time_settings = self._resolved_time_settings()
        self.statistics = RunStatistics()

    # --- set-up ---------------------------------------------------------------------------
    def _boundaries(self, V) -> BoundarySet:
        return cait_boundaries(V, self._tags, self.conditions)

    def _conditions(self, exp: Stage) -> CAITConditions:
        s = self.scales
        beam_flux = None
        if exp.mode == "galvanostatic":
            beam_flux = exp.current_density / (constants.e * s.flux_m2_s)
        return CAITConditions(
            native=self.native,
            beam=self.names.index(exp.beam),
            n_species=len(self.names),
            length=self.mesh_settings["length"],
            front_fraction=exp.front_density / s.density_m3,
            surface_potential=(
                exp.surface_potential / s.thermal_voltage_V
                if exp.mode == "potentiostatic"
                else None
            ),
            beam_flux=beam_flux,
        )

    def _resolved_time_settings(self) -> dict[str, float]:
        """Step settings in seconds, with the automatic ones filled in."""
        ts, s = self.study.time, self.scales
        laws = [term.diffusion for term in self.problem.species]
        d_max = max(law.D_bulk for law in laws)
        dielectric_s = s.debye_squared / d_max * s.time_s
        duration = self.study.experiment.duration
        return {
            "dt_initial": ts.dt_initial or DT_INITIAL_DIELECTRIC * dielectric_s,
            "dt_min": ts.dt_min or DT_MIN_DIELECTRIC * dielectric_s,
            "dt_max": ts.dt_max or DT_MAX_DURATION * duration,
        }

    def resolved_study(self) -> dict:
        """The study as run: all parameters in SI, automatic values filled in."""
        resolved = self.study.to_resolved_dict()
        length_m = self.scales.length_m
        resolved["mesh"].update(
            first_cell=self.mesh_settings["first_cell"] * length_m,
            fine_depth=self.mesh_settings["fine_depth"] * length_m,
        )
        resolved["time"].update(self.time_settings)
        return resolved

    def initial_state(self) -> None:
        """n_native = n_bg, foreign absent, beam at its front value, phi linear (no charge)."""
        c = self.conditions
        values: list[Callable] = []
        for i in range(len(self.names)):
            start = 0.0 if i == self.native else math.log(FOREIGN_INITIAL_FRACTION)
            values.append(lambda x, v=start: np.full(x.shape[1], v))
        U = c.surface_potential or 0.0
        values.append(lambda x: U * (1.0 - x[0] / c.length))
        self.problem.set_state(values)

    # --- gathered views -----------------------------------------------------------------
    def gather_profile(self, time_s: float, fractions: np.ndarray | None = None) -> Profile | None:
        """The current profile on rank 0 (SI depth), None on other ranks.

        ``fractions``: the local nodal fractions, if the caller has them already.
        """
        p = self.problem
        fractions = p.fractions() if fractions is None else fractions
        local = np.vstack([p.coordinates, fractions, p.nodal(len(self.names))])
        parts = self.comm.gather(local, root=0)
        if self.comm.rank != 0:
            return None
        data = np.hstack(parts)
        data = data[:, np.argsort(data[0], kind="stable")]
        fractions = {n: data[1 + i] for i, n in enumerate(self.names)}
        s = self.scales
        return Profile(time_s, data[0] * s.length_m, fractions, data[-1] * s.thermal_voltage_V)

    # --- time loop ------------------------------------------------------------------------
    def run(
        self,
        on_step: Callable[[StepRecord, Profile | None], None] | None = None,
        on_output: Callable[[float, Profile | None], None] | None = None,
    ) -> StepRecord:
        """Integrate to the end of the experiment, stage after stage; return the last
        step's record."""
        start = time.perf_counter()
        experiment = self.study.experiment
        self.initial_state()
        self._influx = np.zeros(len(self.names))
        record = None
        stages = zip(experiment.stage_starts, experiment.stages, strict=True)
        for index, (stage_start, stage) in enumerate(stages):
            if index > 0:  # the next beam and drive, from the state the last stage left
                self.stage = index
                self.conditions = self._conditions(stage)
                self.problem.set_boundaries(self._boundaries)
            record = self._run_stage(stage_start, stage, on_step, on_output) or record
        self.statistics.wall_s = time.perf_counter() - start
        return record

    def _run_stage(
        self,
        stage_start_s: float,
        stage: Stage,
        on_step: Callable[[StepRecord, Profile | None], None] | None,
        on_output: Callable[[float, Profile | None], None] | None,
    ) -> StepRecord | None:
        """Integrate one stage (BDF history restarts: its first step is BDF1)."""
        s, ts = self.scales, self.study.time
        settings = {k: v / s.time_s for k, v in self.time_settings.items()}
        t = stage_start_s / s.time_s
        outputs = [(stage_start_s + o) / s.time_s for o in stage.output_times]
        t_end = (stage_start_s + stage.duration) / s.time_s
        control = StepController(
            t_end=t_end,
            output_times=outputs,
            dt_initial=settings["dt_initial"],
            dt_min=settings["dt_min"],
            dt_max=settings["dt_max"],
            tolerance=ts.tolerance,
            max_growth=ts.max_growth,
            second_order=ts.scheme == "bdf2",
            time_unit_s=s.time_s,
        )
        p = self.problem
        influx = self._influx
        last_increment = np.zeros(len(self.names))
        times, states, vectors = [t], [p.fractions()], [p.w.x.array.copy()]
        dt_previous, record = None, None
        while t < t_end * (1 - 1e-12):
            interruption.check(self.comm)
            dt = control.next_step(t)
            order = control.order(len(states) - 1)
            guess = None
            if len(vectors) >= 2:
                guess = vectors[-1] + dt / (times[-1] - times[-2]) * (vectors[-1] - vectors[-2])
            result = p.try_step(dt, dt_previous if order == 2 else None, guess)
            self.statistics.newton_iterations += result.iterations
            if not result.converged:
                self.statistics.failed_solves += 1
                self.statistics.rejected_steps += 1
                control.reject(dt, None, order, f"Newton: {result.reason}")
                continue
            solution = p.fractions()
            error = self.comm.allreduce(
                local_error(times, states, t + dt, solution, order), op=MPI.MAX
            )
            if error > control.tolerance:
                self.statistics.rejected_steps += 1
                control.reject(dt, error, order, f"local error {error:.3g}")
                continue
            a, _, g = p.bdf.values
            increment = (p.boundary_increments() + g * last_increment) / a
            influx += increment
            last_increment = increment
            p.accept()
            control.accept(error, dt, order)
            t += dt
            dt_previous = dt
            times, states = [*times[-2:], t], [*states[-2:], solution]
            vectors = [*vectors[-1:], p.w.x.array.copy()]
            self.statistics.steps += 1
            profile = self.gather_profile(t * s.time_s, solution)
            record = self._record(t, dt, result.iterations, increment, influx, profile)
            if on_step is not None:
                on_step(record, profile)
            if on_output is not None and any(abs(t - o) <= 1e-9 * o for o in outputs):
                on_output(t * s.time_s, profile)
        return record

    def _record(self, t, dt, iterations, increment, influx, profile) -> StepRecord:
        s, p = self.scales, self.problem
        inventory = p.inventories()
        change = p.inventory_changes()
        scale = max(float(np.max(np.abs(change))), 1e-300)
        conservation = float(np.max(np.abs(change - influx))) / scale
        areal = s.areal_density_m2
        native_out = -influx[self.native]  # leaves through the back electrode
        z_native = self.charges[self.native]
        psi_front = (
            self.conditions.surface_potential
            if self.conditions.potentiostatic
            else p.front_potential()
        )
        front = plateau = imbalance = float("nan")
        min_frac = float("nan")
        if profile is not None:
            depth = profile.depth_m / s.length_m
            fractions = np.array([profile.fractions[n] for n in self.names])
            foreign = fractions[self.foreign].sum(axis=0)
            out = self.study.output
            front = front_depth(depth, foreign)
            plateau = plateau_level(
                depth, fractions[self.native], out.plateau_min_depth / s.length_m, front
            )
            imbalance = max_charge_imbalance(
                depth,
                fractions,
                self.charges,
                self.background,
                out.imbalance_exclusion_depth / s.length_m,
            )
            min_frac = float(fractions.min())
        return StepRecord(
            step=self.statistics.steps,
            stage=self.stage,
            time_s=t * s.time_s,
            dt_s=dt * s.time_s,
            newton_iterations=iterations,
            front_depth_m=front * s.length_m,
            plateau_frac=plateau,
            foreign_inventory_m2=float(change[self.foreign].sum()) * areal,
            native_deficit_m2=float(-change[self.native]) * areal,
            foreign_influx_m2=float(influx[self.foreign].sum()) * areal,
            back_current_A_m2=float(-increment[self.native] / dt)
            * z_native
            * constants.e
            * s.flux_m2_s,
            charge_C_m2=float(native_out) * z_native * constants.e * areal,
            surface_potential_V=float(psi_front) * s.thermal_voltage_V,
            max_charge_imbalance=imbalance,
            conservation_error=conservation,
            min_frac=min_frac,
            inventories_m2={n: float(inventory[i]) * areal for i, n in enumerate(self.names)},
        )
