"""The computational domain: a mesh with named boundaries and regions, and its coordinates.

All coordinates are nondimensional (in the study's length unit). Depth is the last
coordinate: x in 1D; in 2D the first coordinate is lateral (x for a planar cross-section,
the radius r for an axisymmetric one, with the axis at r = 0) and the second is the depth.
Depth 0 is the bombarded front, depth ``thickness`` the back electrode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
from dolfinx import fem
from dolfinx import mesh as dmesh


class Boundary(IntEnum):
    """Facet tags of the boundary parts."""

    FRONT = 1
    """The exposed front: the beam reaches it."""
    BACK = 2
    """The back electrode."""
    MASKED = 3
    """The masked part of the front: closed to the beam."""
    SIDES = 4
    """Lateral sides (symmetry planes) and the axis of an axisymmetric domain."""


@dataclass(frozen=True)
class Domain:
    """A mesh with tagged boundaries (`Boundary`) and regions, and its coordinate system."""

    mesh: dmesh.Mesh
    facet_tags: dmesh.MeshTags
    thickness: float
    """Depth of the back electrode."""
    axisymmetric: bool = False
    """Cylindrical (r, z) coordinates: every integral carries the weight r (times 2 pi)."""
    exposed: tuple[tuple[float, float], ...] = ()
    """Lateral intervals of the exposed front (2D; empty in 1D)."""
    beam_axis: float = 0.0
    """Lateral position of the depth profile on the beam axis (2D)."""
    cell_tags: dmesh.MeshTags | None = None
    """Region of every cell (None: one material everywhere)."""
    regions: dict[str, int] = field(default_factory=dict)
    """Region name -> cell tag."""
    lateral_extent: tuple[float, float] = (0.0, 0.0)
    """Smallest and largest lateral coordinate of the domain (2D)."""
    box_shares: fem.Function | None = None
    """Control volumes given per node (`femcait.adaptivity.columns`): a P1 function whose
    value at node k times |T| is k's part of its volume in cell T. None: the circumcentric
    boxes of `femcait.discretisation.measures`."""

    @property
    def dim(self) -> int:
        """Topological (= geometric) dimension: 1 or 2."""
        return self.mesh.topology.dim

    @property
    def depth_axis(self) -> int:
        """Index of the depth coordinate."""
        return self.dim - 1

    def depth(self, x: np.ndarray) -> np.ndarray:
        """Depths of points given as dolfinx does in callbacks: shape (3, n)."""
        return x[self.depth_axis]

    def lateral(self, x: np.ndarray) -> np.ndarray:
        """Lateral positions (x or r) of points of shape (3, n); zeros in 1D."""
        return x[0] if self.dim == 2 else np.zeros(x.shape[1])

    def outside_exposed(self, lateral: np.ndarray) -> np.ndarray:
        """Lateral distance of positions from the exposed front (0 above it)."""
        distance = np.full(np.shape(lateral), np.inf)
        for start, stop in self.exposed:
            distance = np.minimum(
                distance, np.maximum(0.0, np.maximum(start - lateral, lateral - stop))
            )
        return distance

    @property
    def lateral_measure(self) -> float:
        """The front's size per unit of 1D front area: 1 in 1D, the width (planar) or the
        integral of r dr over the radius (axisymmetric). Residuals are divided by it, so that
        Newton's absolute tolerance means the same in every geometry."""
        if self.dim == 1:
            return 1.0
        low, high = self.lateral_extent
        return (high * high - low * low) / 2 if self.axisymmetric else high - low

    @property
    def mask_edges(self) -> list[float]:
        """Lateral positions where the exposed front meets the mask."""
        low, high = self.lateral_extent
        tolerance = 1e-9 * max(high - low, 1.0)
        ends = sorted({end for interval in self.exposed for end in interval})
        return [e for e in ends if low + tolerance < e < high - tolerance]
