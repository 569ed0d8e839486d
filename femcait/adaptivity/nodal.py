"""Nodal arrays of a distributed 1D P1 space as whole profiles in depth order, and back."""

from __future__ import annotations

import numpy as np
from dolfinx import fem


def gathered_profiles(space: fem.FunctionSpace, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """On every rank: the depths of all nodes (increasing) and the owned values ``rows``
    (one row per field, owned nodes in the space's order) of every rank in that order."""
    owned = space.dofmap.index_map.size_local
    depth = space.tabulate_dof_coordinates()[:owned, 0]
    parts = space.mesh.comm.allgather((depth, np.asarray(rows)[:, :owned]))
    depth = np.concatenate([part[0] for part in parts])
    values = np.concatenate([part[1] for part in parts], axis=1)
    order = np.argsort(depth, kind="stable")
    return depth[order], values[:, order]


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
