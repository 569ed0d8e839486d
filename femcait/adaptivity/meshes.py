"""Adaptive meshes of the built-in domains: the 1D interval, and the 2D rectangle and disc.

An adaptive mesh knows its domain, the canonical order of its nodes (whole profiles,
`femcait.adaptivity.nodal`), how to adapt itself to the densities given in that order, and
how to carry nodal values over.

A 2D mesh is a `femcait.adaptivity.columns.ColumnMesh`: lateral nodes, and on the vertical
line through each its own depth nodes. Each line's depth nodes adapt as a 1D mesh to the
profiles along it: a depth cell is halved where a species changes too much across it. The
lateral nodes adapt as a 1D mesh to the profiles across the lines (compared at the same
depths): a lateral cell is halved where a species changes too much across it at any depth
(the mask edges, a bent front), and the new line takes the depth nodes of both its
neighbours. Fine depth cells so follow the window's front and the bent front under the mask
edge line by line, and cost nothing under the mask away from it. A transfer keeps every
species' inventory to round-off (`femcait.adaptivity.column_transfer`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from dolfinx import fem
from mpi4py import MPI

from femcait.adaptivity.column_transfer import LineSteps, lateral_step
from femcait.adaptivity.columns import ColumnMesh, balance_steps, split_lines
from femcait.adaptivity.dyadic import DyadicMesh, nearest, transfer
from femcait.adaptivity.marking import COARSEN_TRIGGER, IntervalAdapter, cell_changes
from femcait.geometry.domain import Domain
from femcait.geometry.interval import interval_domain
from femcait.geometry.tensor import triangle_mesh, window_domain


class AdaptiveInterval:
    """An adaptive 1D mesh of graded base nodes."""

    def __init__(self, base_nodes: np.ndarray, tolerance: float, min_cell: float) -> None:
        self.depth = IntervalAdapter(DyadicMesh.from_base(base_nodes), tolerance, min_cell)

    @property
    def node_count(self) -> int:
        """Nodes of the current mesh."""
        return self.depth.mesh.cells + 1

    def node_index(self, coordinates: np.ndarray) -> np.ndarray:
        """Canonical index (depth order) of the nodes at ``coordinates`` (rows: points)."""
        return nearest(self.depth.mesh.nodes(), coordinates[:, 0])

    @property
    def cells(self) -> int:
        """Cells of the current mesh."""
        return self.depth.mesh.cells

    @property
    def min_cell(self) -> float:
        """Smallest cell allowed."""
        return self.depth.min_cell

    def domain(self, comm: MPI.Comm) -> Domain:
        """The current mesh as a distributed domain."""
        return interval_domain(comm, self.depth.mesh.nodes() if comm.rank == 0 else None)

    def wanted(self, densities: np.ndarray) -> bool:
        """Whether to adapt to the densities (species rows, canonical order)."""
        return self.depth.wanted(densities)

    def adapt(self, densities: np.ndarray) -> list:
        """Adapt to the densities; the transfer steps (empty: nothing changed)."""
        return self.depth.adapt(densities)

    def transfer(self, steps: list, values: np.ndarray, conservative: bool) -> np.ndarray:
        """Nodal rows (canonical order) carried over by the ``steps`` of `adapt`."""
        return transfer(steps, values, conservative)


LATERAL_BUFFER_CELLS = 8.0
"""Margin around a refined lateral cell, in cells of its new size (32 in depth, where
fronts run fastest). The mesh adapts whenever a cell exceeds the tolerance, so a margin
only saves adaptations; laterally it costs whole columns: in the masked study's first
10 min, 8 instead of 32 gave the same results to 4 digits with 35 % fewer unknowns and
25 % less time."""


class AdaptiveColumns:
    """An adaptive 2D mesh: a `ColumnMesh` on a lateral and a depth base layout."""

    def __init__(
        self,
        lateral_base: np.ndarray,
        depth_base: np.ndarray,
        tolerance: float,
        min_cell: float,
        min_lateral_cell: float,
        window: tuple[float, float],
        axisymmetric: bool,
    ) -> None:
        """``min_lateral_cell``: the smallest lateral cell. At a mask edge the density on the
        front jumps from the beam's value to what diffused under the mask: across a lateral
        cell there it changes by the jump at any size, and halving lateral cells down to
        ``min_cell`` would only refine a singular point (whose share of any profile or
        inventory shrinks with the cell's area)."""
        lateral = DyadicMesh.from_base(lateral_base, radial=axisymmetric)
        self.lateral = IntervalAdapter(lateral, tolerance, min_lateral_cell, LATERAL_BUFFER_CELLS)
        self.mesh, _ = balance_steps(ColumnMesh.grid(lateral, DyadicMesh.from_base(depth_base)))
        self.tolerance = tolerance
        self._min_cell = min_cell
        self.window = window
        self.axisymmetric = axisymmetric

    @property
    def node_count(self) -> int:
        """Nodes of the current mesh."""
        return self.mesh.node_count

    def node_index(self, coordinates: np.ndarray) -> np.ndarray:
        """Canonical index of the nodes at ``coordinates`` (rows: points)."""
        return self.mesh.index(coordinates[:, 0], coordinates[:, 1])

    @property
    def cells(self) -> int:
        """Triangles of the current mesh."""
        return self.mesh.cells

    @property
    def min_cell(self) -> float:
        """Smallest depth cell allowed."""
        return self._min_cell

    def domain(self, comm: MPI.Comm) -> Domain:
        """The current mesh as a distributed domain, with its product boxes as volumes."""
        mesh = self.mesh
        points, cells = mesh.coordinates(), mesh.triangles()
        dmesh = triangle_mesh(comm, points, cells)
        lateral, depth = mesh.lateral.nodes(), mesh.depths[0].nodes()
        domain = window_domain(
            dmesh, (lateral[0], lateral[-1]), depth[-1], self.window, self.axisymmetric
        )
        space = fem.functionspace(dmesh, ("Lagrange", 1))
        shares = fem.Function(space, name="box_shares")
        index = self.node_index(space.tabulate_dof_coordinates())
        shares.x.array[:] = (mesh.volumes() / _cell_areas(points, cells))[index]
        return replace(domain, box_shares=shares)

    def _adapters(self) -> list[IntervalAdapter]:
        """A 1D adapter on every line's depth nodes."""
        tolerance, min_cell = self.tolerance, self._min_cell
        return [IntervalAdapter(depth, tolerance, min_cell) for depth in self.mesh.depths]

    def _across(self, densities: np.ndarray) -> np.ndarray:
        """The densities across the lines at the same depths (one row per field and depth
        of any line; linear along each line), for the lateral axis."""
        lines, nodes = split_lines(densities, self.mesh.counts()), self.mesh.line_nodes()
        depths = np.unique(np.concatenate(nodes))
        across = np.empty((densities.shape[0], len(depths), len(lines)))
        for i, (values, z) in enumerate(zip(lines, nodes, strict=True)):
            for field, row in enumerate(values):
                across[field, :, i] = np.interp(depths, z, row)
        return across.reshape(-1, len(lines))

    def wanted(self, densities: np.ndarray) -> bool:
        """Whether to adapt to the densities (species rows, canonical order)."""
        mergeable = 0
        for adapter, values in zip(
            self._adapters(), split_lines(densities, self.mesh.counts()), strict=True
        ):
            changes = cell_changes(values)
            if adapter.too_coarse(changes):
                return True
            mergeable += adapter.mergeable_count(values, changes)
        depth_cells = sum(depth.cells for depth in self.mesh.depths)
        if mergeable > COARSEN_TRIGGER * depth_cells:
            return True
        return self.lateral.wanted(self._across(densities))

    def adapt(self, densities: np.ndarray) -> list:
        """Adapt every line's depth nodes, then the lateral nodes to the densities carried
        over, then balance the lines (`balance_steps`); the transfer steps (empty: nothing
        changed)."""
        changes: list = []

        def record(change, mesh: ColumnMesh) -> None:
            nonlocal densities
            changes.append(change)
            densities = change.apply(densities, conservative=True)
            self.mesh = mesh

        adapters = self._adapters()
        steps = tuple(
            a.adapt(v)
            for a, v in zip(adapters, split_lines(densities, self.mesh.counts()), strict=True)
        )
        if any(steps):
            depths = tuple(a.mesh for a in adapters)
            record(LineSteps(steps, self.mesh.counts()), ColumnMesh(self.mesh.lateral, depths))
        for lateral, step in self.lateral.stages(self._across(densities)):
            mesh, change = lateral_step(self.mesh, lateral, step)
            record(change, mesh)
        mesh, steps = balance_steps(self.mesh)
        if any(steps):
            record(LineSteps(steps, self.mesh.counts()), mesh)
        return changes

    def transfer(self, changes: list, values: np.ndarray, conservative: bool) -> np.ndarray:
        """Nodal rows (canonical order) carried over by the changes of `adapt`."""
        for change in changes:
            values = change.apply(np.asarray(values), conservative)
        return values


def _cell_areas(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Sum of the areas of the triangles at every node."""
    a, b, c = (points[cells[:, k]] for k in range(3))
    e1, e2 = b - a, c - a
    area = 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])
    total = np.zeros(len(points))
    for k in range(3):
        np.add.at(total, cells[:, k], area)
    return total
