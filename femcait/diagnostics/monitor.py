"""Derived quantities of the running simulation, by reductions over the ranks.

Per accepted step: the profile on the beam axis (front depth, plateau), nodal extremes
(charge imbalance, smallest fraction), inventories, boundary fluxes and their balance, and
in 2D the front's lateral spread beyond the exposed front. At output times: profiles along
the requested lines, the crater average and (rank 0) a map of the fields near the front.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from mpi4py import MPI

from femcait import constants
from femcait.diagnostics.front import FrontLine
from femcait.diagnostics.profile import front_depth, plateau_level
from femcait.diagnostics.record import CraterProfile, FieldMap, Profile, Snapshot, StepRecord
from femcait.diagnostics.sampling import PointSampler, lateral_positions, line_depths
from femcait.geometry import Domain
from femcait.scales import Scales
from femcait.solver.problem import TransportProblem


@dataclass(frozen=True)
class SpeciesRoles:
    """Names, charges and roles of the species, in the order of the mixed space."""

    names: list[str]
    charges: np.ndarray
    native: int
    foreign: list[int]


@dataclass(frozen=True)
class OutputRequest:
    """What the study asks to sample (nondimensional lengths)."""

    profile_lines: list[float]
    crater: tuple[float, float] | None
    map_depth: float
    plateau_min_depth: float
    imbalance_exclusion_depth: float


def _line_points(lateral: float, depths: np.ndarray, dim: int) -> np.ndarray:
    points = np.zeros((len(depths), 3))
    points[:, dim - 1] = depths
    if dim == 2:
        points[:, 0] = lateral
    return points


class Monitor:
    """Computes `StepRecord`s and `Snapshot`s of a `TransportProblem`."""

    def __init__(
        self,
        problem: TransportProblem,
        scales: Scales,
        roles: SpeciesRoles,
        request: OutputRequest,
        background: np.ndarray,
    ) -> None:
        self.problem = problem
        self.domain: Domain = problem.domain
        self.scales = scales
        self.roles = roles
        self.request = request
        self.comm = problem.comm
        self.space = problem.node_space
        self._owned = self.space.dofmap.index_map.size_local
        self._background = background
        coordinates = self.space.tabulate_dof_coordinates()
        self._depth = coordinates[:, self.domain.depth_axis]
        self._axis = self._line_sampler(self.domain.beam_axis)
        self._lines = [(lateral, self._line_sampler(lateral)) for lateral in request.profile_lines]
        self._crater = self._crater_sampler() if request.crater is not None else None
        self._front_line = FrontLine(self.domain, self.space) if self.domain.dim == 2 else None

    # --- set-up -----------------------------------------------------------------------------
    def _line_sampler(self, lateral: float) -> PointSampler:
        depths = line_depths(self.domain, lateral)
        return PointSampler(self.space, _line_points(lateral, depths, self.domain.dim))

    def _crater_sampler(self) -> tuple[np.ndarray, np.ndarray, PointSampler]:
        start, stop = self.request.crater
        depths = self._axis.points[:, self.domain.depth_axis]
        lateral = lateral_positions(self.domain, start, stop)
        grid = np.zeros((len(depths) * len(lateral), 3))
        grid[:, 0] = np.tile(lateral, len(depths))
        grid[:, 1] = np.repeat(depths, len(lateral))
        return depths, lateral, PointSampler(self.space, grid)

    @property
    def has_crater(self) -> bool:
        """Whether snapshots carry a crater average."""
        return self._crater is not None

    @property
    def exposed_measure(self) -> float:
        """Size of the exposed front (nondimensional): 1 in 1D, its width (planar) or the
        integral of r dr over it (axisymmetric)."""
        if self.domain.dim == 1:
            return 1.0
        if self.domain.axisymmetric:
            return sum((b * b - a * a) / 2 for a, b in self.domain.exposed)
        return sum(b - a for a, b in self.domain.exposed)

    @property
    def extra_columns(self) -> list[str]:
        """Columns beyond the 1D ones: the 2D quantities."""
        if self.domain.dim == 1:
            return []
        total = "ions" if self.domain.axisymmetric else "per_m"
        charge = "C" if self.domain.axisymmetric else "C_per_m"
        return [
            "front_lateral_spread_m",
            f"foreign_inventory_{total}",
            f"charge_{charge}",
        ]

    def _total_factor(self) -> float:
        """SI totals of nondimensional integrals: ions per metre out of plane (planar) or
        ions (axisymmetric)."""
        s = self.scales
        if self.domain.axisymmetric:
            return 2 * math.pi * s.areal_density_m2 * s.length_m**2
        return s.areal_density_m2 * s.length_m

    # --- per step ----------------------------------------------------------------------------
    def local_nodal(self) -> np.ndarray:
        """Local nodal values (ghosts included) of every field, shape (N + 1, nodes)."""
        return np.array([self.problem.local_nodal(i) for i in range(self.roles.charges.size + 1)])

    def axis_profile(self, nodal: np.ndarray | None = None) -> np.ndarray:
        """Fractions of every species and psi on the beam axis (rows), at its sample depths."""
        nodal = self.local_nodal() if nodal is None else nodal
        n = self.roles.charges.size
        values = np.vstack([np.exp(nodal[:n]), nodal[n:]])
        return self._axis.sample(values)

    def record(
        self,
        step: int,
        stage: int,
        t: float,
        dt: float,
        iterations: int,
        increment: np.ndarray,
        influx: np.ndarray,
        surface_potential: float,
    ) -> StepRecord:
        """The derived quantities of the current state (``increment``: what crossed the
        boundaries in this step, ``influx``: since the start, per species, nondimensional)."""
        s, p, roles = self.scales, self.problem, self.roles
        nodal = self.local_nodal()
        n = roles.charges.size
        fractions = np.exp(nodal[:n])
        axis = self._axis.sample(fractions)
        depth = self._axis.points[:, self.domain.depth_axis]
        foreign = axis[roles.foreign].sum(axis=0)
        front = front_depth(depth, foreign)
        plateau = plateau_level(depth, axis[roles.native], self.request.plateau_min_depth, front)
        owned = fractions[:, : self._owned]
        deep = self._depth[: self._owned] >= self.request.imbalance_exclusion_depth
        net = roles.charges @ owned - self._background[: self._owned]
        extremes = np.array(
            [
                np.max(np.abs(net[deep]), initial=0.0),
                -owned.min(initial=np.inf),
                owned.max(initial=-np.inf),
            ]
        )
        self.comm.Allreduce(MPI.IN_PLACE, extremes, op=MPI.MAX)  # one reduction, no pickling
        imbalance, min_frac, max_frac = float(extremes[0]), -float(extremes[1]), float(extremes[2])
        inventory = p.inventories(owned)  # the owned nodes come first, in the same order
        change = p.inventory_changes(owned)
        scale = max(float(np.max(np.abs(change))), 1e-300)
        conservation = float(np.max(np.abs(change - influx))) / scale
        per_area = s.areal_density_m2 / self.exposed_measure
        z_native = roles.charges[roles.native]
        native_out = -influx[roles.native]  # leaves through the back electrode
        record = StepRecord(
            step=step,
            stage=stage,
            time_s=t * s.time_s,
            dt_s=dt * s.time_s,
            newton_iterations=iterations,
            cells=int(self.domain.mesh.topology.index_map(self.domain.dim).size_global),
            front_depth_m=front * s.length_m,
            plateau_frac=plateau,
            foreign_inventory_m2=float(change[roles.foreign].sum()) * per_area,
            native_deficit_m2=float(-change[roles.native]) * per_area,
            foreign_influx_m2=float(influx[roles.foreign].sum()) * per_area,
            back_current_A_m2=float(-increment[roles.native] / dt)
            * z_native
            * constants.e
            * per_area
            / s.time_s,
            charge_C_m2=float(native_out) * z_native * constants.e * per_area,
            surface_potential_V=float(surface_potential) * s.thermal_voltage_V,
            max_charge_imbalance=imbalance,
            conservation_error=conservation,
            min_frac=min_frac,
            max_frac=max_frac,
            inventories_m2={
                name: float(inventory[i]) * per_area for i, name in enumerate(roles.names)
            },
        )
        if self.domain.dim == 2:
            total = self._total_factor()
            spread, inventory_key, charge_key = self.extra_columns
            record.extra = {
                spread: self._front_line.lateral_spread(fractions[roles.foreign].sum(axis=0))
                * s.length_m,
                inventory_key: float(change[roles.foreign].sum()) * total,
                charge_key: float(native_out) * z_native * constants.e * total,
            }
        return record

    # --- at output times ----------------------------------------------------------------------
    def snapshot(self, time_s: float) -> Snapshot:
        """Profiles, crater average and field map of the current state."""
        s, roles = self.scales, self.roles
        nodal = self.local_nodal()
        n = roles.charges.size
        values = np.vstack([np.exp(nodal[:n]), nodal[n:]])
        profiles = [
            self._profile(time_s, lateral, sampler, values) for lateral, sampler in self._lines
        ]
        crater = None
        if self._crater is not None:
            depths, lateral, sampler = self._crater
            grid = sampler.sample(values[:n]).reshape(n, len(depths), len(lateral))
            average = _lateral_average(grid, lateral, self.domain.axisymmetric)
            crater = CraterProfile(
                time_s,
                depths * s.length_m,
                {name: average[i] for i, name in enumerate(roles.names)},
            )
        field_map = self._field_map(time_s, values) if self.domain.dim == 2 else None
        return Snapshot(time_s, profiles, crater, field_map)

    def _profile(self, time_s, lateral, sampler, values) -> Profile:
        s, names = self.scales, self.roles.names
        sampled = sampler.sample(values)
        return Profile(
            time_s,
            lateral * s.length_m if self.domain.dim == 2 else 0.0,
            sampler.points[:, self.domain.depth_axis] * s.length_m,
            {name: sampled[i] for i, name in enumerate(names)},
            sampled[-1] * s.thermal_voltage_V,
        )

    def _field_map(self, time_s: float, values: np.ndarray) -> FieldMap | None:
        """The owned triangles shallower than the map depth, gathered on rank 0."""
        cells = self.space.dofmap.list
        owned_cells = cells[: self.domain.mesh.topology.index_map(2).size_local]
        near = self._depth[owned_cells].min(axis=1) <= self.request.map_depth
        local_cells = owned_cells[near]
        coordinates = self.space.tabulate_dof_coordinates()[:, :2]
        parts = self.comm.gather(
            (coordinates[local_cells].reshape(-1, 2), values[:, local_cells.ravel()]), root=0
        )
        if self.comm.rank != 0:
            return None
        points = np.concatenate([part[0] for part in parts])
        data = np.concatenate([part[1] for part in parts], axis=1)
        unique, first, inverse = np.unique(
            points.round(12), axis=0, return_index=True, return_inverse=True
        )
        s, names = self.scales, self.roles.names
        return FieldMap(
            time_s,
            unique * s.length_m,
            inverse.reshape(-1, 3),
            {name: data[i, first] for i, name in enumerate(names)},
            data[-1, first] * s.thermal_voltage_V,
        )


def _lateral_average(grid: np.ndarray, lateral: np.ndarray, axisymmetric: bool) -> np.ndarray:
    """Average over the last axis of values linear between the ``lateral`` positions (exact
    trapezoid; with the weight r in axisymmetric domains)."""
    a, b = lateral[:-1], lateral[1:]
    left, right = grid[..., :-1], grid[..., 1:]
    if axisymmetric:
        integral = ((b - a) / 6 * (left * (2 * a + b) + right * (a + 2 * b))).sum(axis=-1)
        return integral / ((lateral[-1] ** 2 - lateral[0] ** 2) / 2)
    integral = ((b - a) / 2 * (left + right)).sum(axis=-1)
    return integral / (lateral[-1] - lateral[0])
