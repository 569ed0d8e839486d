"""A CAIT simulation: builds the discrete problem from a study and runs the time loop.

`Simulation` wires the layers (scales -> geometry -> materials -> discrete problem ->
diagnostics -> step control) and reports every accepted step as a `StepRecord` and every
output time as a `Snapshot`, in SI units, to whoever listens (writers, progress bar). It
writes nothing itself. 1D and 2D studies differ only in their domain.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from dolfinx import fem
from mpi4py import MPI

from femcait import constants, interruption
from femcait.adaptivity.meshes import AdaptiveColumns, AdaptiveInterval
from femcait.adaptivity.nodal import ProfileGather
from femcait.diagnostics.monitor import Monitor, OutputRequest, SpeciesRoles
from femcait.diagnostics.record import Snapshot, StepRecord
from femcait.diagnostics.resolution import DepthResolution
from femcait.discretisation.boundary import BoundarySet, CAITConditions, cait_boundaries
from femcait.discretisation.materials import Material, Materials
from femcait.discretisation.quality import mesh_quality
from femcait.discretisation.residual import SpeciesTerms
from femcait.errors import SolverError, StudyError
from femcait.geometry import Domain, build_domain
from femcait.geometry.build import lateral_layout
from femcait.geometry.grading import graded_nodes
from femcait.geometry.settings import resolved_mesh_settings
from femcait.scales import Scales
from femcait.solver.problem import TransportProblem
from femcait.solver.stepping import StepController, local_error
from femcait.study import Study
from femcait.study.geometry import DiscGeometry, MeshFileGeometry, RectangleGeometry
from femcait.study.schema import Stage

FOREIGN_INITIAL_FRACTION = 1e-12
"""Initial density of foreign species (the log-density needs a positive start)."""

DT_INITIAL_DIELECTRIC = 1e-4
"""Automatic first step: this fraction of the dielectric relaxation time. (A hundredth
failed three times at 5 V in the default study, 410 residuals and 45 Jacobians before the
first step; from here the steps grow by max_growth in a few steps.)"""

DT_MIN_DIELECTRIC = 1e-6
"""Automatic minimum step: this fraction of the dielectric relaxation time."""

DT_MAX_DURATION = 0.05
"""Automatic maximum step: this fraction of the duration."""

MAX_INITIAL_ADAPTATIONS = 20
"""Adaptations of the mesh to the initial state, at most."""

IMMOBILE_UNDERSHOOT_WARNING = 0.01
"""A run warns if a species fell below its immobile level by more than this fraction of the
level at some node (it cannot come back: D vanishes there)."""


@dataclass
class RunStatistics:
    """Counters of a finished run."""

    steps: int = 0
    rejected_steps: int = 0
    failed_solves: int = 0
    newton_iterations: int = 0
    adaptations: int = 0
    max_cells: int = 0
    largest_depth_change: float = 0.0
    """The largest change of a density across one depth cell at an output time."""
    wall_s: float = 0.0


def study_materials(study: Study, scales: Scales, domain: Domain) -> list[Material]:
    """The materials of the domain's regions (the glass alone without regions), with
    densities relative to the glass's n_bg and D relative to the native bulk D."""
    names = list(study.species)
    to_reference = 1.0 / scales.diffusivity_m2_s
    if not domain.regions:
        laws = [study.diffusion_laws[n].scaled(to_reference) for n in names]
        return [Material("glass", None, 1.0, 1.0, laws)]
    glass = study.glass
    materials = []
    for name, tag in domain.regions.items():
        region = study.regions[name]
        n_bg = region.n_bg if region.n_bg is not None else glass.n_bg
        eps_r = region.eps_r if region.eps_r is not None else glass.eps_r
        laws = [study.region_laws[name][n].scaled(to_reference) for n in names]
        materials.append(Material(name, tag, n_bg / glass.n_bg, eps_r / glass.eps_r, laws))
    return materials


class Simulation:
    """One CAIT experiment on the study's domain (1D or 2D)."""

    def __init__(self, study: Study, comm: MPI.Comm) -> None:
        self.study = study
        self.scales = Scales.from_study(study)
        self.mesh_settings = resolved_mesh_settings(study, self.scales)
        self.adapter = self._adapter()
        if self.adapter is None:
            domain = build_domain(study, self.scales, self.mesh_settings, comm)
        else:
            domain = self.adapter.domain(comm)
        self.comm = domain.mesh.comm
        self.names = list(study.species)
        charges = np.array([study.species[n].charge for n in self.names], dtype=float)
        self.roles = SpeciesRoles(
            self.names,
            charges,
            self.names.index(study.native),
            [self.names.index(n) for n in study.foreign],
        )
        self.stage = 0
        self.conditions = self._conditions(study.experiment.stages[0])
        self._build(domain)
        if self.adapter is not None:
            self._adapt_to_initial_state()
        self.warnings = self._mesh_warnings()
        self.time_settings = self._resolved_time_settings()
        self.scheme = self._resolved_scheme()
        self.statistics = RunStatistics()

    def _build(self, domain: Domain, template: TransportProblem | None = None) -> None:
        """Materials, discrete problem and monitor on ``domain`` (again after each change of
        mesh, with the forms of the ``template`` problem on the previous mesh)."""
        study = self.study
        self.domain = domain
        native_charge = float(self.roles.charges[self.roles.native])
        self.materials = Materials(
            domain, study_materials(study, self.scales, domain), native_charge
        )
        species = [
            SpeciesTerms(n, study.species[n].charge, self.materials.materials[0].laws[i])
            for i, n in enumerate(self.names)
        ]
        self._native_back: fem.Function | float = 0.0
        self.problem = TransportProblem(
            self.materials,
            species,
            self.scales.debye_squared,
            self._boundaries,
            petsc_options=study.solver.petsc_options,
            max_newton_iterations=study.solver.max_newton_iterations,
            template=template,
        )
        if template is not None:
            template.close()
        space = self.problem.node_space
        self.background = self.materials.nodal_background(space)
        if not self.materials.single:  # the native density held at the back is the region's
            self._native_back = fem.Function(space)
            self._native_back.x.array[:] = np.log(self.background / native_charge)
            self.problem.set_boundaries(self._boundaries)
        self._immobile_levels = self.materials.immobile_levels(space)
        if self.adapter is not None:
            self._profiles = ProfileGather(space, self.adapter.node_index, self.adapter.node_count)
        self._resolution = None
        if not isinstance(study.geometry, MeshFileGeometry):  # no depth edges to speak of
            self._resolution = DepthResolution(self.problem, self._min_cell())
        self.monitor = Monitor(
            self.problem, self.scales, self.roles, self._output_request(), self.background
        )

    def _adapter(self) -> AdaptiveInterval | AdaptiveColumns | None:
        """The adaptive mesh of a study with ``mesh.adapt``, on the graded mesh as its
        coarsest mesh (None: a fixed mesh)."""
        study, m = self.study, self.study.mesh
        if not m.adapt:
            return None
        min_cell = self._min_cell()
        depth = graded_nodes(**self.mesh_settings)
        geometry = study.geometry
        if not isinstance(geometry, RectangleGeometry | DiscGeometry):
            return AdaptiveInterval(depth, m.adapt_tolerance, min_cell)
        window = tuple(value / self.scales.length_m for value in geometry.window)
        return AdaptiveColumns(
            lateral_layout(study, self.scales),
            depth,
            m.adapt_tolerance,
            min_cell,
            m.lateral_cell / self.scales.length_m,
            window,
            axisymmetric=isinstance(geometry, DiscGeometry),
        )

    def _min_cell(self) -> float:
        """The smallest depth cell an adaptive mesh may make: ``mesh.min_cell``, by default
        the graded mesh's first cell (it resolves the Debye length)."""
        m = self.study.mesh
        if m.min_cell is not None:
            return m.min_cell / self.scales.length_m
        return self.mesh_settings["first_cell"]

    # --- set-up ---------------------------------------------------------------------------
    def _mesh_warnings(self) -> list[str]:
        """Check a mesh file for the box method: a node without a positive control volume
        is an error, negative dual-edge weights (not Delaunay) a warning. The built-in
        meshes are fit by construction."""
        geometry = self.study.geometry
        if not isinstance(geometry, MeshFileGeometry):
            return []
        quality = mesh_quality(self.domain)
        if quality.nonpositive_boxes:
            raise StudyError(
                f"geometry.file: {geometry.file}: {quality.nonpositive_boxes} node(s) have no "
                "positive control volume (obtuse triangles at the boundary); remesh with "
                "Delaunay triangles"
            )
        if not quality.negative_edges:
            return []
        return [
            f"{geometry.file}: {quality.negative_edges} of {quality.weighted_edges} edges have "
            f"a negative weight (down to {quality.most_negative_weight:.2g} of the largest): "
            "not a Delaunay mesh there, and the scheme is not monotone at those edges"
        ]

    def _boundaries(self, V) -> BoundarySet:
        return cait_boundaries(V, self.domain, self.conditions, self._native_back)

    def _conditions(self, stage: Stage) -> CAITConditions:
        s = self.scales
        beam_flux = None
        if stage.mode == "galvanostatic":
            beam_charge = abs(self.study.species[stage.beam].charge)
            beam_flux = stage.current_density / (beam_charge * constants.e * s.flux_m2_s)
        return CAITConditions(
            native=self.roles.native,
            beam=self.names.index(stage.beam),
            n_species=len(self.names),
            front_fraction=stage.front_density / s.density_m3,
            surface_potential=(
                stage.surface_potential / s.thermal_voltage_V
                if stage.mode == "potentiostatic"
                else None
            ),
            beam_flux=beam_flux,
            grounded_mask=getattr(self.study.geometry, "mask", "floating") == "grounded",
        )

    def _output_request(self) -> OutputRequest:
        out, unit = self.study.output, self.scales.length_m
        if self.domain.dim == 1:
            lines = [0.0]
        elif out.profile_lines is not None:
            lines = [position / unit for position in out.profile_lines]
        else:
            lines = [self.domain.beam_axis]
        crater = None
        if out.crater is not None and self.domain.dim == 2:
            crater = (out.crater[0] / unit, out.crater[1] / unit)
        return OutputRequest(
            profile_lines=lines,
            crater=crater,
            map_depth=self.mesh_settings["fine_depth"],
            plateau_min_depth=out.plateau_min_depth / unit,
            imbalance_exclusion_depth=out.imbalance_exclusion_depth / unit,
        )

    def _resolved_time_settings(self) -> dict[str, float]:
        """Step settings in seconds, with the automatic ones filled in."""
        ts, s = self.study.time, self.scales
        d_max = max(law.D_bulk for m in self.materials.materials for law in m.laws)
        dielectric_s = s.debye_squared / d_max * s.time_s
        duration = self.study.experiment.duration
        return {
            "dt_initial": ts.dt_initial or DT_INITIAL_DIELECTRIC * dielectric_s,
            "dt_min": ts.dt_min or DT_MIN_DIELECTRIC * dielectric_s,
            "dt_max": ts.dt_max or DT_MAX_DURATION * duration,
        }

    def _resolved_scheme(self) -> str:
        """The study's time scheme, ``auto`` resolved: backward Euler if a diffusion law of
        the materials has an immobile fraction, BDF2 otherwise."""
        if self.study.time.scheme != "auto":
            return self.study.time.scheme
        return "bdf2" if self._immobile_levels is None else "euler"

    def resolved_study(self) -> dict:
        """The study as run: all parameters in SI, automatic values filled in."""
        resolved = self.study.to_resolved_dict()
        length_m = self.scales.length_m
        resolved["mesh"].update(
            first_cell=self.mesh_settings["first_cell"] * length_m,
            fine_depth=self.mesh_settings["fine_depth"] * length_m,
        )
        if self.adapter is not None:
            resolved["mesh"]["min_cell"] = self.adapter.min_cell * length_m
        resolved["time"].update(self.time_settings, scheme=self.scheme)
        return resolved

    @property
    def cells(self) -> int:
        """Number of cells of the mesh."""
        index_map = self.domain.mesh.topology.index_map(self.domain.dim)
        return int(index_map.size_global)

    def initial_state(self) -> None:
        """Native ions at their background density, foreign absent, the beam species at its
        front value, phi linear in depth (no charge)."""
        c, domain = self.conditions, self.domain
        native_charge = float(self.roles.charges[self.roles.native])
        values: list[Callable | np.ndarray] = []
        for i in range(len(self.names)):
            if i == self.roles.native:
                values.append(np.log(self.background / native_charge))
            else:
                start = math.log(FOREIGN_INITIAL_FRACTION)
                values.append(lambda x, v=start: np.full(x.shape[1], v))
        U = c.surface_potential or 0.0
        values.append(lambda x: U * (1.0 - domain.depth(x) / domain.thickness))
        self.problem.set_state(values)

    def immobile_undershoots(self) -> dict[str, float]:
        """Per species with an immobile fraction, how far its density lies below that level at
        the worst node, as a fraction of the level, counting only nodes that started at or
        above it: time steps too long for a node that drains fast carry it past the level
        (BDF2 does), and it cannot come back."""
        if self._immobile_levels is None:
            return {}
        owned = self.problem.node_space.dofmap.index_map.size_local
        levels = self._immobile_levels[:, :owned]
        gaps = np.zeros_like(levels)
        np.divide(levels - self.problem.fractions(), levels, out=gaps, where=levels > 0)
        gaps[self.problem.initial_fractions < levels] = 0.0
        worst = self.comm.allreduce(gaps.max(axis=1, initial=0.0), op=MPI.MAX)
        has_level = self.comm.allreduce(levels.max(axis=1, initial=0.0), op=MPI.MAX) > 0
        return {name: float(worst[i]) for i, name in enumerate(self.names) if has_level[i]}

    # --- adaptive mesh ----------------------------------------------------------------------
    def _adapt_to_initial_state(self) -> None:
        """Adapt the mesh to the initial state (the beam species' front value against its
        absence below) until it fits, setting the state anew on each mesh."""
        self.initial_state()
        for _ in range(MAX_INITIAL_ADAPTATIONS):
            fractions = self._profiles(self.problem.fractions())
            if not self.adapter.wanted(fractions) or not self._adapted(fractions):
                return
            self._build(self.adapter.domain(self.comm), self.problem)
            self.initial_state()

    def _adapted(self, fractions: np.ndarray) -> list:
        """Adapt the mesh to the densities (whole profiles); the transfer steps."""
        steps = self.adapter.adapt(fractions)
        limit = self.study.limits.max_cells
        if self.adapter.cells > limit:
            raise SolverError(
                f"the adapted mesh needs {self.adapter.cells} cells, more than "
                f"limits.max_cells ({limit:g}); raise it, or set mesh.adapt_tolerance or "
                "mesh.min_cell larger"
            )
        return steps

    def _adapt_mesh(self, states: list[np.ndarray]) -> bool:
        """Adapt the mesh to the newest state if the adapter asks for it, and carry the time
        history over (the two latest levels and the ``states`` of the error estimate, in
        place): densities so that inventories are kept, the potential interpolated. The BDF
        history goes on across the change (the transfer's change of a profile is at most
        the adaptation tolerance, the size of a time step's error)."""
        p, n = self.problem, len(self.names)
        gather = self._profiles
        newest = gather(states[-1])
        if not self.adapter.wanted(newest):
            return False
        steps = self._adapted(newest)
        if not steps:
            return False
        history = np.vstack([*states, p.fractions(p.w_older), p.initial_fractions])
        densities = self.adapter.transfer(steps, gather(history), conservative=True)
        psi = np.array([p.nodal(n, p.w_old), p.nodal(n, p.w_older)])
        psi = self.adapter.transfer(steps, gather(psi), conservative=False)
        self._build(self.adapter.domain(self.comm), self.problem)
        p, local = self.problem, self._profiles.local
        owned = local[: p.node_space.dofmap.index_map.size_local]
        rows = densities.reshape(-1, n, densities.shape[1])
        states[:] = [rows[k][:, owned] for k in range(len(states))]
        newest = np.vstack([np.log(rows[len(states) - 1]), psi[:1]])[:, local]
        previous = np.vstack([np.log(rows[-2]), psi[1:]])[:, local]
        p.set_history(newest, previous, rows[-1][:, owned])
        self.statistics.adaptations += 1
        self.statistics.max_cells = max(self.statistics.max_cells, self.cells)
        return True

    def _measure_resolution(self) -> None:
        if self._resolution is not None:
            change = self._resolution.largest_change()
            stats = self.statistics
            stats.largest_depth_change = max(stats.largest_depth_change, change)

    # --- time loop ------------------------------------------------------------------------
    def run(
        self,
        on_step: Callable[[StepRecord], None] | None = None,
        on_output: Callable[[Snapshot], None] | None = None,
    ) -> StepRecord:
        """Integrate to the end of the experiment, stage after stage; return the last
        step's record."""
        start = time.perf_counter()
        experiment = self.study.experiment
        self.initial_state()
        self.statistics.max_cells = self.cells
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
        on_step: Callable[[StepRecord], None] | None,
        on_output: Callable[[Snapshot], None] | None,
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
            second_order=self.scheme == "bdf2",
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
            a, _, e = p.bdf.values
            increment = (p.boundary_increments() + e * last_increment) / a
            influx += increment
            last_increment = increment
            p.accept()
            control.accept(error, dt, order)
            t += dt
            dt_previous = dt
            times, states = [*times[-2:], t], [*states[-2:], solution]
            vectors = [*vectors[-1:], p.w.x.array.copy()]
            self.statistics.steps += 1
            surface = (
                self.conditions.surface_potential
                if self.conditions.potentiostatic
                else p.front_potential()
            )
            record = self.monitor.record(
                self.statistics.steps,
                self.stage,
                t,
                dt,
                result.iterations,
                increment,
                influx,
                surface,
            )
            if on_step is not None:
                on_step(record)
            at_output = any(abs(t - o) <= 1e-9 * o for o in outputs)
            if at_output or t >= t_end * (1 - 1e-12):
                self._measure_resolution()
            if on_output is not None and at_output:
                on_output(self.monitor.snapshot(t * s.time_s))
            if self.adapter is not None and self._adapt_mesh(states):
                p = self.problem
                vectors = [p.w_older.x.array.copy(), p.w_old.x.array.copy()][-len(vectors) :]
        return record
