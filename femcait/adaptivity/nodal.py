"""Nodal arrays of a distributed P1 space on a grid (1D nodes, or the lateral x depth grid
of a rectangle) as whole profiles in the grid's canonical order, and back.

Canonical order: in 1D the depth order; in 2D depth-major, node (i lateral, j depth) at
j * (lateral nodes) + i, as `femcait.geometry.tensor.tensor_triangle_mesh` numbers them.
"""

from __future__ import annotations

import numpy as np
from dolfinx import fem


def canonical_positions(space: fem.FunctionSpace, axes: list[np.ndarray]) -> np.ndarray:
    """For every local node of the P1 ``space`` (ghosts included), its index in the
    canonical order of the grid whose node coordinates along each axis are ``axes``."""
    coordinates = space.tabulate_dof_coordinates()
    index = np.zeros(len(coordinates), dtype=np.int64)
    stride = 1
    for axis, nodes in enumerate(axes):
        index += stride * _nearest(nodes, coordinates[:, axis])
        stride *= len(nodes)
    return index


def _nearest(nodes: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Index of the node at each coordinate (each must be one of the nodes)."""
    right = np.clip(np.searchsorted(nodes, x), 1, len(nodes) - 1)
    nearer_left = x - nodes[right - 1] < nodes[right] - x
    index = np.where(nearer_left, right - 1, right)
    scale = max(abs(nodes[-1]), abs(nodes[0]), 1.0)
    if np.any(np.abs(nodes[index] - x) > 1e-12 * scale):
        raise RuntimeError("a node of the mesh is not on the grid")
    return index


class ProfileGather:
    """Whole profiles of a distributed P1 space on a grid, on every rank, in canonical
    order."""

    def __init__(self, space: fem.FunctionSpace, axes: list[np.ndarray]) -> None:
        self.comm = space.mesh.comm
        self.owned = space.dofmap.index_map.size_local
        self.size = int(np.prod([len(nodes) for nodes in axes]))
        self.local = canonical_positions(space, axes)
        """Canonical index of every local node (ghosts included)."""
        owned = self.local[: self.owned]
        self.positions = np.concatenate(self.comm.allgather(owned)) if self.comm.size > 1 else owned
        if np.unique(self.positions).size != self.size or len(self.positions) != self.size:
            raise RuntimeError("the owned nodes of the ranks are not the grid's nodes")

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """The owned values ``rows`` (one row per field, owned nodes in the space's order)
        of every rank, in canonical order."""
        rows = np.asarray(rows)[:, : self.owned]
        if self.comm.size > 1:
            rows = np.concatenate(self.comm.allgather(rows), axis=1)
        whole = np.empty((rows.shape[0], self.size))
        whole[:, self.positions] = rows
        return whole
