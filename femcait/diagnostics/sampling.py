"""Values of the P1 fields at given points, by a reduction over the ranks (no gather).

A `PointSampler` is set up once per mesh: every rank finds the points inside its owned
cells (a point on a shared facet is taken by the lowest rank), keeps the cell's nodes and
the point's barycentric weights, and each evaluation is a weighted sum of nodal values
followed by one all-reduce. Lines are sampled at the depths where the line crosses mesh
edges, so that the P1 field along the line is represented exactly.
"""

from __future__ import annotations

import numpy as np
from dolfinx import fem, geometry
from mpi4py import MPI

from femcait.geometry import Domain

BARYCENTRIC_TOLERANCE = 1e-10
"""A point belongs to a cell if none of its barycentric coordinates is below -this."""


class PointSampler:
    """Interpolates nodal arrays of a P1 space at fixed points (the same list on every rank)."""

    def __init__(self, space: fem.FunctionSpace, points: np.ndarray) -> None:
        mesh = space.mesh
        self.comm = mesh.comm
        self.points = np.asarray(points, dtype=float).reshape(-1, 3)
        tdim = mesh.topology.dim
        owned_cells = np.arange(mesh.topology.index_map(tdim).size_local, dtype=np.int32)
        tree = geometry.bb_tree(mesh, tdim, entities=owned_cells, padding=1e-12)
        candidates = geometry.compute_collisions_points(tree, self.points)
        found, cells, weights = _locate(
            mesh.geometry.x[mesh.geometry.dofmaps[0][candidates.array], :tdim],
            self.points[:, :tdim],
            candidates,
        )
        rank = np.where(found, self.comm.rank, self.comm.size)
        owner = np.empty_like(rank)
        self.comm.Allreduce(rank, owner, op=MPI.MIN)
        if np.any(owner == self.comm.size):
            missing = self.points[owner == self.comm.size][0]
            raise ValueError(f"point {missing[:tdim]} lies outside the mesh")
        mine = owner == self.comm.rank
        self._index = np.flatnonzero(mine)
        self._dofs = space.dofmap.list[cells[mine]]
        self._weights = weights[mine]

    def __len__(self) -> int:
        return len(self.points)

    def sample(self, nodal: np.ndarray) -> np.ndarray:
        """Values at the points of nodal arrays (shape (k, local nodes) of the space's dofs,
        ghosts included), as an array of shape (k, points) on every rank."""
        nodal = np.atleast_2d(nodal)
        local = np.zeros((nodal.shape[0], len(self.points)))
        local[:, self._index] = np.einsum("kpj,pj->kp", nodal[:, self._dofs], self._weights)
        total = np.empty_like(local)
        self.comm.Allreduce(local, total, op=MPI.SUM)
        return total


def _locate(
    vertices: np.ndarray, points: np.ndarray, candidates
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every point, whether one of its candidate cells (``vertices``: their vertex
    coordinates, in the order of ``candidates.array``) contains it, the first such cell and
    the point's barycentric weights there (clipped to [0, 1], summing to 1). Vectorised."""
    count = len(points)
    pair_point = np.repeat(np.arange(count), np.diff(candidates.offsets))
    origin = vertices[:, 0]
    edges = np.swapaxes(vertices[:, 1:] - origin[:, None], 1, 2)  # columns: edge vectors
    local = np.linalg.solve(edges, (points[pair_point] - origin)[..., None])[..., 0]
    weight = np.concatenate([1.0 - local.sum(axis=1, keepdims=True), local], axis=1)
    inside = np.flatnonzero(weight.min(axis=1) >= -BARYCENTRIC_TOLERANCE)
    first_points, first = np.unique(pair_point[inside], return_index=True)
    pairs = inside[first]
    found = np.zeros(count, dtype=bool)
    found[first_points] = True
    cells = np.zeros(count, dtype=np.int64)
    cells[first_points] = candidates.array[pairs]
    weights = np.zeros((count, vertices.shape[1]))
    clipped = np.clip(weight[pairs], 0.0, None)
    weights[first_points] = clipped / clipped.sum(axis=1, keepdims=True)
    return found, cells, weights


def line_depths(domain: Domain, lateral: float) -> np.ndarray:
    """Depths, increasing, where the vertical line at ``lateral`` crosses mesh edges or passes
    through vertices (the whole sorted vertex set in 1D): the breakpoints of a P1 field
    along the line. The same array on every rank."""
    mesh = domain.mesh
    x = mesh.geometry.x
    if domain.dim == 1:
        local = x[:, 0]
    else:
        nodes = mesh.geometry.dofmaps[0]
        scale = max(domain.lateral_extent[1] - domain.lateral_extent[0], domain.thickness)
        on_line = np.abs(x[:, 0] - lateral) <= 1e-12 * scale
        crossings = [x[on_line, 1]]
        for a, b in ((0, 1), (1, 2), (2, 0)):
            xa, xb = x[nodes[:, a]], x[nodes[:, b]]
            da, db = xa[:, 0] - lateral, xb[:, 0] - lateral
            crossing = da * db < 0
            t = da[crossing] / (da[crossing] - db[crossing])
            crossings.append(xa[crossing, 1] + t * (xb[crossing, 1] - xa[crossing, 1]))
        local = np.concatenate(crossings)
    depths = np.concatenate(mesh.comm.allgather(local))
    return _unique_sorted(depths, domain.thickness)


def lateral_positions(domain: Domain, start: float, stop: float, limit: int = 4000) -> np.ndarray:
    """Lateral sample positions over [start, stop]: the vertices' lateral coordinates inside,
    and the ends (at most ``limit``, thinned evenly). The same array on every rank."""
    x = domain.mesh.geometry.x[:, 0]
    inside = x[(x > start) & (x < stop)]
    values = _unique_sorted(
        np.concatenate([*domain.mesh.comm.allgather(inside), [start, stop]]), stop - start
    )
    if len(values) > limit:
        values = values[np.unique(np.linspace(0, len(values) - 1, limit).round().astype(int))]
    return values


def _unique_sorted(values: np.ndarray, scale: float) -> np.ndarray:
    values = np.sort(values)
    keep = np.concatenate([[True], np.diff(values) > 1e-12 * max(scale, 1.0)])
    return values[keep]
