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


def tensor_grid(lateral: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points and triangles of the grid lateral x depth (node j * len(lateral) + i at
    (lateral[i], depth[j])): every rectangle split along its diagonal from node (i, j) to
    (i + 1, j + 1)."""
    nl, nd = len(lateral), len(depth)
    X, Y = np.meshgrid(lateral, depth)  # row j: depth[j]
    points = np.column_stack([X.ravel(), Y.ravel()])
    i, j = np.meshgrid(np.arange(nl - 1), np.arange(nd - 1))
    a = (j * nl + i).ravel()  # lower-left corner of each rectangle (in index space)
    b, c, d = a + 1, a + nl + 1, a + nl
    return points, np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])


def triangle_mesh(comm: MPI.Comm, points: np.ndarray | None, cells: np.ndarray | None):
    """A distributed triangle mesh of the ``points`` and ``cells`` given on rank 0."""
    if comm.rank != 0:
        points, cells = np.zeros((0, 2)), np.zeros((0, 3), dtype=np.int64)
    element = ufl.Mesh(basix.ufl.element("Lagrange", "triangle", 1, shape=(2,)))
    return dmesh.create_mesh(comm, np.asarray(cells, dtype=np.int64), element, points)


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
    points, cells = tensor_grid(lateral, depth) if comm.rank == 0 else (None, None)
    mesh = triangle_mesh(comm, points, cells)
    extent = (float(lateral[0]), float(lateral[-1]))
    return window_domain(mesh, extent, float(depth[-1]), window, axisymmetric)


def window_domain(
    mesh: dmesh.Mesh,
    lateral_extent: tuple[float, float],
    thickness: float,
    window: tuple[float, float],
    axisymmetric: bool,
) -> Domain:
    """The rectangle ``lateral_extent`` x (0, ``thickness``) meshed by ``mesh``, its front
    exposed over the lateral ``window``."""
    low, high = lateral_extent
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
