"""2D built-in domains on tensor-product triangle meshes: a planar rectangle with a beam
window, and an axisymmetric disc with a beam spot.

The nodes are the product of a lateral layout (fine at the mask edges) and the graded depth
layout of the 1D mesh; every rectangle of the grid is split into two right triangles. On
such a mesh the box method (`femcait.discretisation.measures`) couples no diagonal and its
control volumes are the rectangles around the nodes, so a laterally uniform solution is the
1D solution on the depth nodes.
"""

from __future__ import annotations

import basix.ufl
import numpy as np
import ufl
from dolfinx import mesh as dmesh
from mpi4py import MPI

from femcait.geometry.domain import Boundary, Domain
from femcait.geometry.tags import tag_facets


def tensor_triangle_mesh(comm: MPI.Comm, lateral: np.ndarray, depth: np.ndarray) -> dmesh.Mesh:
    """Triangles on the grid lateral x depth (node arrays given on rank 0), distributed."""
    if comm.rank == 0:
        nl, nd = len(lateral), len(depth)
        X, Y = np.meshgrid(lateral, depth)  # row j: depth[j]
        x = np.column_stack([X.ravel(), Y.ravel()])
        i, j = np.meshgrid(np.arange(nl - 1), np.arange(nd - 1))
        a = (j * nl + i).ravel()  # lower-left corner of each rectangle (in index space)
        b, c, d = a + 1, a + nl + 1, a + nl
        cells = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])
    else:
        x = np.zeros((0, 2))
        cells = np.zeros((0, 3), dtype=np.int64)
    element = ufl.Mesh(basix.ufl.element("Lagrange", "triangle", 1, shape=(2,)))
    return dmesh.create_mesh(comm, cells.astype(np.int64), element, x)


def windowed_domain(
    comm: MPI.Comm,
    lateral: np.ndarray,
    depth: np.ndarray,
    window: tuple[float, float],
    axisymmetric: bool,
) -> Domain:
    """A tensor domain whose front is exposed over the lateral ``window`` and masked
    elsewhere; the beam axis is the window's middle (planar) or r = 0 (axisymmetric)."""
    lateral = comm.bcast(np.asarray(lateral) if comm.rank == 0 else None, root=0)
    depth = comm.bcast(np.asarray(depth) if comm.rank == 0 else None, root=0)
    mesh = tensor_triangle_mesh(comm, lateral, depth)
    low, high = float(lateral[0]), float(lateral[-1])
    thickness = float(depth[-1])
    start, stop = window
    scale = max(high - low, thickness)
    tolerance = 1e-12 * scale

    def on_front(x):
        return np.isclose(x[1], 0.0, rtol=0.0, atol=tolerance)

    def exposed(x):
        return on_front(x) & (x[0] >= start - tolerance) & (x[0] <= stop + tolerance)

    tags = tag_facets(
        mesh,
        {
            Boundary.FRONT: exposed,
            Boundary.MASKED: on_front,
            Boundary.BACK: lambda x: np.isclose(x[1], thickness, rtol=1e-12, atol=tolerance),
            Boundary.SIDES: lambda x: (
                np.isclose(x[0], low, rtol=0.0, atol=tolerance)
                | np.isclose(x[0], high, rtol=1e-12, atol=tolerance)
            ),
        },
    )
    axis = 0.0 if axisymmetric else 0.5 * (start + stop)
    return Domain(
        mesh,
        tags,
        thickness=thickness,
        axisymmetric=axisymmetric,
        exposed=((start, stop),),
        beam_axis=axis,
        lateral_extent=(low, high),
    )
