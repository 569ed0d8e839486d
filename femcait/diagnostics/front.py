"""The diffusion front in 2D: where the foreign fraction crosses 1/2 along the mesh edges."""

from __future__ import annotations

import numpy as np
from dolfinx import fem
from mpi4py import MPI

from femcait.geometry import Domain

FRONT_LEVEL = 0.5
"""The front is the iso-line of this foreign fraction."""


class FrontLine:
    """Points where the foreign fraction crosses `FRONT_LEVEL` on the local mesh edges."""

    def __init__(self, domain: Domain, space: fem.FunctionSpace) -> None:
        self.domain = domain
        self.comm = domain.mesh.comm
        cells = space.dofmap.list
        pairs = np.concatenate([cells[:, [a, b]] for a in range(3) for b in range(a + 1, 3)])
        self._edges = np.unique(np.sort(pairs, axis=1), axis=0)
        self._x = space.tabulate_dof_coordinates()[:, :2]

    def crossings(self, foreign: np.ndarray) -> np.ndarray:
        """Local crossing points (shape (k, 2)) of the nodal foreign fraction."""
        a, b = self._edges[:, 0], self._edges[:, 1]
        fa, fb = foreign[a] - FRONT_LEVEL, foreign[b] - FRONT_LEVEL
        crossing = (fa * fb < 0) | ((fa == 0) & (fb != 0))
        t = fa[crossing] / (fa[crossing] - fb[crossing])
        xa, xb = self._x[a[crossing]], self._x[b[crossing]]
        return xa + t[:, None] * (xb - xa)

    def lateral_spread(self, foreign: np.ndarray) -> float:
        """How far the front reaches laterally beyond the exposed front (0 if nowhere; NaN
        before a front exists), the largest over all ranks."""
        points = self.crossings(foreign)
        local = float(self.domain.outside_exposed(points[:, 0]).max(initial=-np.inf))
        spread = self.comm.allreduce(local, op=MPI.MAX)
        return spread if np.isfinite(spread) else float("nan")
