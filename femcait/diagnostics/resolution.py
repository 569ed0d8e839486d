"""How well a mesh resolves the profiles in depth: the largest change of a density across
one depth cell, the quantity an adaptive mesh keeps below ``mesh.adapt_tolerance``.

A fixed mesh is designed before the run; this measures it afterwards, so that a run on a
fixed mesh too coarse for its front says so instead of giving a silently mesh-dependent
answer. Only cells that an adaptive mesh could halve count (at least twice the smallest
cell it may make, ``mesh.min_cell``): below that, the Debye layer is resolved by design.
"""

from __future__ import annotations

import numpy as np
from mpi4py import MPI

from femcait.solver.problem import TransportProblem

ALIGNED = 1e-9
"""An edge is a depth edge if its lateral extent is below this fraction of its length."""


class DepthResolution:
    """The depth edges of a P1 mesh longer than twice ``min_cell``, found once per mesh."""

    def __init__(self, problem: TransportProblem, min_cell: float) -> None:
        self.problem = problem
        nodes, neighbours = problem.node_graph
        first, second = nodes[nodes < neighbours], neighbours[nodes < neighbours]
        points = problem.node_space.tabulate_dof_coordinates()[:, : problem.domain.dim]
        offset = points[second] - points[first]
        length = np.linalg.norm(offset, axis=1)
        depth = np.abs(offset[:, problem.domain.depth_axis])
        lateral = np.sqrt(np.maximum(length**2 - depth**2, 0.0))
        keep = (lateral <= ALIGNED * length) & (depth >= 2 * min_cell * (1 - 1e-9))
        self._first, self._second = first[keep], second[keep]

    def largest_change(self) -> float:
        """The largest change of any species' density (n / n_bg) across one such
        depth cell, over all ranks."""
        p = self.problem
        fractions = np.exp(np.array([p.local_nodal(i) for i in range(p.n_species)]))
        local = 0.0
        if len(self._first):
            local = float(np.abs(fractions[:, self._second] - fractions[:, self._first]).max())
        return p.comm.allreduce(local, op=MPI.MAX)
