"""Is a mesh fit for the box method? Positive control volumes (else the lumped mass is not a
mass) and nonnegative dual-edge weights (a Delaunay mesh: else the scheme loses its
monotonicity where a weight is negative)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import ufl
from dolfinx import fem
from dolfinx.fem.petsc import assemble_matrix
from mpi4py import MPI

from femcait.discretisation.measures import CellGeometry
from femcait.geometry import Domain


@dataclass(frozen=True)
class MeshQuality:
    """Counts over the whole mesh (the same on every rank)."""

    nonpositive_boxes: int
    negative_edges: int
    weighted_edges: int
    """Edges with a nonzero weight."""
    most_negative_weight: float
    """The most negative w_E relative to the largest |w_E| (0 if none is negative)."""


def mesh_quality(domain: Domain) -> MeshQuality:
    """The boxes and dual-edge weights of the domain's P1 space, counted (collective)."""
    cell = CellGeometry(domain)
    space = fem.functionspace(domain.mesh, ("Lagrange", 1))
    u, v = ufl.TrialFunction(space), ufl.TestFunction(space)
    owned = space.dofmap.index_map.size_local
    boxes = cell.box_sums(space)[:owned]
    stiffness = assemble_matrix(
        fem.form(cell.edge_sum(lambda j, k: cell.difference(u, j, k) * cell.difference(v, j, k)))
    )
    stiffness.assemble()
    rows, columns, values = stiffness.getValuesCSR()
    start = stiffness.getOwnershipRange()[0]
    row_index = np.repeat(np.arange(len(rows) - 1), np.diff(rows)) + start
    off_diagonal = columns != row_index
    weights = -values[off_diagonal]  # w_E sits off the diagonal with a minus sign
    comm = domain.mesh.comm
    largest = comm.allreduce(float(np.abs(weights).max(initial=0.0)), op=MPI.MAX)
    tolerance = 1e-12 * largest
    negative = weights < -tolerance
    lowest = comm.allreduce(float(weights.min(initial=0.0)), op=MPI.MIN)
    return MeshQuality(
        nonpositive_boxes=comm.allreduce(int(np.sum(boxes <= 0)), op=MPI.SUM),
        negative_edges=comm.allreduce(int(np.sum(negative)), op=MPI.SUM) // 2,
        weighted_edges=comm.allreduce(int(np.sum(np.abs(weights) > tolerance)), op=MPI.SUM) // 2,
        most_negative_weight=min(lowest, 0.0) / largest if largest > 0 else 0.0,
    )
