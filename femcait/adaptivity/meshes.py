"""Adaptive meshes of the built-in domains: the 1D interval, and the 2D rectangle and disc.

An adaptive mesh knows its domain, the node coordinates along its axes (which fix the
canonical order of whole profiles, `femcait.adaptivity.nodal`), how to adapt itself to the
densities given in that order, and how to carry nodal values over.

A 2D mesh stays the product of a lateral and a depth node layout (each rectangle split into
two right triangles, `femcait.geometry.tensor`), and each axis adapts as a 1D mesh: a depth
cell is halved where a species changes too much across it in any column, a lateral cell
where it does so in any row. Rows of fine cells follow a front that is parallel to the
surface (the window's front, the Debye layer) at the cost of one coarse lateral cell each,
columns of fine cells follow the mask edges, and where a front bends (under the mask edge)
both are fine. The boxes stay the rectangles around the nodes: every triangle keeps its
right angle, the box method its positive volumes and Delaunay weights, a laterally uniform
solution is the 1D one, and a transfer keeps every species' inventory to round-off (the 1D
transfer along each column, then along each row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mpi4py import MPI

from femcait.adaptivity.dyadic import DyadicMesh, transfer
from femcait.adaptivity.marking import IntervalAdapter
from femcait.geometry.domain import Domain
from femcait.geometry.interval import interval_domain
from femcait.geometry.tensor import windowed_domain


class AdaptiveInterval:
    """An adaptive 1D mesh of graded base nodes."""

    def __init__(self, base_nodes: np.ndarray, tolerance: float, min_cell: float) -> None:
        self.depth = IntervalAdapter(DyadicMesh.from_base(base_nodes), tolerance, min_cell)

    @property
    def axes(self) -> list[np.ndarray]:
        """Node coordinates along each axis (the canonical order's factors)."""
        return [self.depth.mesh.nodes()]

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


class AdaptiveRectangle:
    """An adaptive 2D mesh: lateral x depth nodes, each axis a `DyadicMesh` of its base."""

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
        cell there it changes by the jump at any size, and halving columns down to
        ``min_cell`` would only refine a singular point (whose share of any profile or
        inventory shrinks with the cell's area)."""
        lateral = DyadicMesh.from_base(lateral_base, radial=axisymmetric)
        self.lateral = IntervalAdapter(lateral, tolerance, min_lateral_cell, LATERAL_BUFFER_CELLS)
        self.depth = IntervalAdapter(DyadicMesh.from_base(depth_base), tolerance, min_cell)
        self.window = window
        self.axisymmetric = axisymmetric

    @property
    def axes(self) -> list[np.ndarray]:
        """Lateral and depth node coordinates."""
        return [self.lateral.mesh.nodes(), self.depth.mesh.nodes()]

    @property
    def cells(self) -> int:
        """Triangles of the current mesh."""
        return 2 * self.lateral.mesh.cells * self.depth.mesh.cells

    @property
    def min_cell(self) -> float:
        """Smallest cell allowed (along either axis)."""
        return self.depth.min_cell

    def domain(self, comm: MPI.Comm) -> Domain:
        """The current mesh as a distributed domain."""
        lateral, depth = self.axes if comm.rank == 0 else (None, None)
        return windowed_domain(comm, lateral, depth, self.window, self.axisymmetric)

    def wanted(self, densities: np.ndarray) -> bool:
        """Whether to adapt to the densities (species rows, canonical order)."""
        lateral_nodes = len(self.lateral.mesh.nodes())
        return self.depth.wanted(_columns(densities, lateral_nodes)) or self.lateral.wanted(
            _rows(densities, lateral_nodes)
        )

    def adapt(self, densities: np.ndarray) -> list[AxisSteps]:
        """Adapt the depth axis, then the lateral axis to the densities carried over to the
        new depth nodes; the transfer steps (empty: nothing changed)."""
        lateral_nodes = len(self.lateral.mesh.nodes())
        changes = [
            AxisSteps("depth", self.depth.adapt(_columns(densities, lateral_nodes)), lateral_nodes)
        ]
        densities = self.transfer(changes, densities, conservative=True)
        changes.append(
            AxisSteps("lateral", self.lateral.adapt(_rows(densities, lateral_nodes)), lateral_nodes)
        )
        return [change for change in changes if change.steps]

    def transfer(
        self, changes: list[AxisSteps], values: np.ndarray, conservative: bool
    ) -> np.ndarray:
        """Nodal rows (canonical order) carried over by the changes of `adapt`: along the
        columns for a change of the depth nodes, along the rows for the lateral nodes."""
        for change in changes:
            values = change.apply(np.asarray(values), conservative)
        return values


@dataclass(frozen=True)
class AxisSteps:
    """The steps that changed one axis of a grid with ``lateral_nodes`` nodes across."""

    axis: str
    """``depth`` or ``lateral``."""
    steps: list
    lateral_nodes: int

    def apply(self, values: np.ndarray, conservative: bool) -> np.ndarray:
        """Nodal rows (canonical order of the grid before) on the grid after."""
        fields = values.shape[0]
        if self.axis == "depth":
            columns = transfer(self.steps, _columns(values, self.lateral_nodes), conservative)
            grid = columns.reshape(fields, self.lateral_nodes, -1).transpose(0, 2, 1)
        else:
            rows = transfer(self.steps, _rows(values, self.lateral_nodes), conservative)
            grid = rows.reshape(fields, -1, rows.shape[1])
        return np.ascontiguousarray(grid).reshape(fields, -1)


def _rows(values: np.ndarray, lateral_nodes: int) -> np.ndarray:
    """Canonical grid rows (fields, depth x lateral) as one row per field and depth node."""
    return values.reshape(-1, lateral_nodes)


def _columns(values: np.ndarray, lateral_nodes: int) -> np.ndarray:
    """Canonical grid rows as one row per field and lateral node (the nodes of a column)."""
    fields = values.shape[0]
    grid = values.reshape(fields, -1, lateral_nodes)
    return grid.transpose(0, 2, 1).reshape(fields * lateral_nodes, -1)
