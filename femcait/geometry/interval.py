"""The 1D domain: an interval mesh of graded nodes, its front and back electrode tagged."""

from __future__ import annotations

import basix.ufl
import numpy as np
import ufl
from dolfinx import mesh as dmesh
from mpi4py import MPI

from femcait.geometry.domain import Boundary, Domain
from femcait.geometry.tags import tag_facets


def create_interval_mesh(comm: MPI.Comm, nodes: np.ndarray) -> dmesh.Mesh:
    """A distributed dolfinx interval mesh with the given (rank-0) node coordinates."""
    if comm.rank == 0:
        x = np.asarray(nodes, dtype=np.float64).reshape(-1, 1)
        cells = np.stack([np.arange(len(x) - 1), np.arange(1, len(x))], axis=1)
    else:
        x = np.zeros((0, 1))
        cells = np.zeros((0, 2), dtype=np.int64)
    element = ufl.Mesh(basix.ufl.element("Lagrange", "interval", 1, shape=(1,)))
    return dmesh.create_mesh(comm, cells.astype(np.int64), element, x)


def interval_domain(comm: MPI.Comm, nodes: np.ndarray) -> Domain:
    """The interval [0, nodes[-1]] with the given (rank-0) nodes: front at 0, back at the end."""
    mesh = create_interval_mesh(comm, nodes)
    length = comm.bcast(float(nodes[-1]) if comm.rank == 0 else None, root=0)
    tags = tag_facets(
        mesh,
        {
            Boundary.FRONT: lambda x: np.isclose(x[0], 0.0),
            Boundary.BACK: lambda x: np.isclose(x[0], length, rtol=1e-12, atol=1e-9 * length),
        },
    )
    return Domain(mesh, tags, thickness=length)
