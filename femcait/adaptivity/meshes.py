"""Adaptive meshes of the built-in domains (so far the 1D interval).

An adaptive mesh knows its domain, the node coordinates along its axes (which fix the
canonical order of whole profiles, `femcait.adaptivity.nodal`), how to adapt itself to the
densities given in that order, and how to carry nodal values over.
"""

from __future__ import annotations

import numpy as np
from mpi4py import MPI

from femcait.adaptivity.dyadic import DyadicMesh, transfer
from femcait.adaptivity.marking import IntervalAdapter
from femcait.geometry.domain import Domain
from femcait.geometry.interval import interval_domain


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
