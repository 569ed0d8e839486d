"""Nodal arrays of a distributed P1 space on an adaptive mesh as whole profiles in the
mesh's canonical order, on every rank, and back.

Canonical order: in 1D the depth order; in 2D line by line in lateral order, each line's
nodes in depth order (`femcait.adaptivity.columns`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from dolfinx import fem


class ProfileGather:
    """Whole profiles of a distributed P1 space, on every rank, in canonical order."""

    def __init__(
        self, space: fem.FunctionSpace, node_index: Callable[[np.ndarray], np.ndarray], size: int
    ) -> None:
        """``node_index``: the canonical index of nodes at coordinates (rows: points), of a
        mesh with ``size`` nodes."""
        self.comm = space.mesh.comm
        self.owned = space.dofmap.index_map.size_local
        self.size = size
        self.local = node_index(space.tabulate_dof_coordinates())
        """Canonical index of every local node (ghosts included)."""
        owned = self.local[: self.owned]
        self.positions = np.concatenate(self.comm.allgather(owned)) if self.comm.size > 1 else owned
        if np.unique(self.positions).size != self.size or len(self.positions) != self.size:
            raise RuntimeError("the owned nodes of the ranks are not the mesh's nodes")

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """The owned values ``rows`` (one row per field, owned nodes in the space's order)
        of every rank, in canonical order."""
        rows = np.asarray(rows)[:, : self.owned]
        if self.comm.size > 1:
            rows = np.concatenate(self.comm.allgather(rows), axis=1)
        whole = np.empty((rows.shape[0], self.size))
        whole[:, self.positions] = rows
        return whole
