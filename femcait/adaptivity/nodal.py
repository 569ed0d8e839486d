"""Nodal arrays of a distributed 1D P1 space as whole profiles in depth order, and back."""

from __future__ import annotations

import numpy as np
from dolfinx import fem


class ProfileGather:
    """Whole profiles of a distributed 1D P1 space, on every rank, in depth order."""

    def __init__(self, space: fem.FunctionSpace) -> None:
        self.comm = space.mesh.comm
        self.owned = space.dofmap.index_map.size_local
        depth = space.tabulate_dof_coordinates()[: self.owned, 0]
        depth = np.concatenate(self.comm.allgather(depth))
        self.order = np.argsort(depth, kind="stable")
        self.depth = depth[self.order]
        """Depths of all nodes, increasing."""

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """The owned values ``rows`` (one row per field, owned nodes in the space's order)
        of every rank, in depth order."""
        rows = np.asarray(rows)[:, : self.owned]
        if self.comm.size > 1:
            rows = np.concatenate(self.comm.allgather(rows), axis=1)
        return rows[:, self.order]


def local_positions(space: fem.FunctionSpace, nodes: np.ndarray) -> np.ndarray:
    """For every local node of ``space`` (ghosts included), its index in the increasing
    depths ``nodes`` of all nodes."""
    depth = space.tabulate_dof_coordinates()[:, 0]
    right = np.clip(np.searchsorted(nodes, depth), 1, len(nodes) - 1)
    nearer_left = depth - nodes[right - 1] < nodes[right] - depth
    index = np.where(nearer_left, right - 1, right)
    scale = max(abs(nodes[-1]), 1.0)
    if np.any(np.abs(nodes[index] - depth) > 1e-12 * scale):
        raise RuntimeError("a node of the mesh is not among the given depths")
    return index
