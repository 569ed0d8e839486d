"""A 1D mesh made by halving the cells of a base mesh, and the transfer of nodal values
between two such meshes that keeps every species' inventory exactly.

Every cell is cell ``k`` of the ``2**level`` equal parts of base cell ``base``. Refining
halves a cell; coarsening merges two halves of one cell again (siblings). Nodal values go
along with the mesh:

- densities (``conservative=True``) keep the lumped inventory sum_j |B_j| n_j, where
  |B_j| is the box of node j (half of each cell beside it). A new midpoint takes the mean of
  its cell's end values: the cell's content h (n_a + n_b) / 2 splits into two equal halves,
  so nothing changes. A removed midpoint's box content goes to its two neighbours, in
  proportion to the box volume each of them gains. Both keep densities positive and
  neutral states neutral (they are linear with nonnegative weights, and keep constants);
- other fields (the potential) are interpolated: a new midpoint takes the mean, a removed
  one is dropped.

On a radial axis (the r of an axisymmetric domain) a box's volume is its r-moment, the
integral of r dr. The new midpoint then takes the mean weighted by what each end's box
gives up to it (the parts of the halves next to the midpoint), so the inventory stays
exact there too; on a planar axis both parts are equal and this is the plain mean.

The mesh lives on every rank as a whole (an axis has at most some thousand nodes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DyadicMesh:
    """Leaf cells of halved base cells, ordered by position."""

    base_nodes: np.ndarray
    """Coordinates of the base mesh, increasing."""
    base: np.ndarray
    """Base cell of every leaf cell."""
    level: np.ndarray
    """Times the base cell was halved to make the leaf cell."""
    index: np.ndarray
    """Position of the leaf among the 2**level parts of its base cell."""
    radial: bool = False
    """Boxes are measured by their r-moment (the radius of an axisymmetric domain)."""

    @classmethod
    def from_base(cls, base_nodes: np.ndarray, radial: bool = False) -> DyadicMesh:
        """The base mesh itself (every cell at level 0)."""
        cells = len(base_nodes) - 1
        zeros = np.zeros(cells, dtype=np.int64)
        nodes = np.asarray(base_nodes, dtype=float)
        return cls(nodes, np.arange(cells), zeros, zeros.copy(), radial)

    @property
    def cells(self) -> int:
        """Number of leaf cells."""
        return len(self.base)

    def nodes(self) -> np.ndarray:
        """Node coordinates, increasing (cells + 1 of them)."""
        left = self.base_nodes[self.base]
        width = self.base_nodes[self.base + 1] - left
        starts = left + width * self.index / 2.0**self.level
        return np.append(starts, self.base_nodes[-1])

    def sizes(self) -> np.ndarray:
        """Cell widths."""
        width = self.base_nodes[self.base + 1] - self.base_nodes[self.base]
        return width / 2.0**self.level

    def refined(self, marked: np.ndarray) -> tuple[DyadicMesh, RefineStep]:
        """This mesh with the ``marked`` cells halved, and the step that carries nodal values
        over."""
        marked = np.asarray(marked, dtype=bool)
        copies = np.where(marked, 2, 1)
        base = np.repeat(self.base, copies)
        level = np.repeat(self.level + marked, copies)
        first = np.repeat(np.where(marked, 2 * self.index, self.index), copies)
        second = np.concatenate([[0], np.cumsum(copies)[:-1]])[marked] + 1
        index = first.copy()
        index[second] += 1
        mesh = DyadicMesh(self.base_nodes, base, level, index, self.radial)
        return mesh, RefineStep(np.flatnonzero(marked), self.nodes(), self.radial)

    def sibling_pairs(self) -> np.ndarray:
        """Left cells of adjacent pairs that are the two halves of one cell."""
        left = np.arange(self.cells - 1)
        right = left + 1
        same = (
            (self.base[left] == self.base[right])
            & (self.level[left] == self.level[right])
            & (self.level[left] > 0)
            & (self.index[left] % 2 == 0)
            & (self.index[right] == self.index[left] + 1)
        )
        return left[same]

    def coarsened(self, pairs: np.ndarray) -> tuple[DyadicMesh, CoarsenStep]:
        """This mesh with the sibling pairs starting at cells ``pairs`` merged (each from
        `sibling_pairs`), and the step that carries nodal values over."""
        pairs = np.asarray(pairs, dtype=np.int64)
        keep = np.ones(self.cells, dtype=bool)
        keep[pairs + 1] = False
        level = self.level.copy()
        index = self.index.copy()
        level[pairs] -= 1
        index[pairs] //= 2
        mesh = DyadicMesh(self.base_nodes, self.base[keep], level[keep], index[keep], self.radial)
        return mesh, CoarsenStep(pairs + 1, self.nodes(), self.radial)


def measure(start: np.ndarray, stop: np.ndarray, radial: bool) -> np.ndarray:
    """Volume of the intervals [start, stop]: their length, or their r-moment if radial."""
    return (stop * stop - start * start) / 2 if radial else stop - start


def box_volumes(nodes: np.ndarray, radial: bool = False) -> np.ndarray:
    """Box volume of every node of a 1D mesh: half of each cell beside it."""
    middles = 0.5 * (nodes[:-1] + nodes[1:])
    boxes = np.zeros(len(nodes))
    boxes[:-1] += measure(nodes[:-1], middles, radial)
    boxes[1:] += measure(middles, nodes[1:], radial)
    return boxes


@dataclass(frozen=True)
class RefineStep:
    """Nodal values across a refinement of the ``cells`` of the mesh with ``nodes``: each
    new midpoint takes the mean of its cell's ends, weighted by the box parts they give up."""

    cells: np.ndarray
    nodes: np.ndarray
    radial: bool = False

    def apply(self, values: np.ndarray, conservative: bool) -> np.ndarray:
        """Values (rows of nodal arrays) on the refined mesh (both kinds of field alike)."""
        weight = self._left_weights() if self.radial else 0.5
        mean = weight * values[:, self.cells] + (1 - weight) * values[:, self.cells + 1]
        return np.insert(values, self.cells + 1, mean, axis=1)

    def _left_weights(self) -> np.ndarray:
        """Share of each new midpoint's box that its cell's left end gives up."""
        left, right = self.nodes[self.cells], self.nodes[self.cells + 1]
        middle = 0.5 * (left + right)
        from_left = measure(0.75 * left + 0.25 * right, middle, self.radial)
        from_right = measure(middle, 0.25 * left + 0.75 * right, self.radial)
        return from_left / (from_left + from_right)


@dataclass(frozen=True)
class CoarsenStep:
    """Nodal values across a coarsening: the ``removed`` nodes of the mesh with ``nodes``."""

    removed: np.ndarray
    nodes: np.ndarray
    radial: bool = False

    def apply(self, values: np.ndarray, conservative: bool) -> np.ndarray:
        """Values (rows of nodal arrays) on the coarsened mesh."""
        if not conservative:
            return np.delete(values, self.removed, axis=1)
        nodes, r = self.nodes, self.removed
        old_boxes = box_volumes(nodes, self.radial)
        share = values[:, r] * old_boxes[r]
        # the part of the removed node's box beside each neighbour goes to it
        left_gain = measure(0.5 * (nodes[r - 1] + nodes[r]), nodes[r], self.radial)
        right_gain = measure(nodes[r], 0.5 * (nodes[r] + nodes[r + 1]), self.radial)
        receivers = np.concatenate([r - 1, r + 1])
        content = np.zeros((values.shape[0], len(self.nodes)))
        np.add.at(content, (slice(None), r - 1), share * (left_gain / old_boxes[r]))
        np.add.at(content, (slice(None), r + 1), share * (right_gain / old_boxes[r]))
        new_boxes = old_boxes.copy()
        np.add.at(new_boxes, r - 1, left_gain)
        np.add.at(new_boxes, r + 1, right_gain)
        result = values.copy()  # nodes away from a removed one keep their values exactly
        result[:, receivers] = (
            values[:, receivers] * old_boxes[receivers] + content[:, receivers]
        ) / new_boxes[receivers]
        return np.delete(result, r, axis=1)


def transfer(steps, values: np.ndarray, conservative: bool) -> np.ndarray:
    """Nodal values (rows) carried through a sequence of refine and coarsen steps."""
    for step in steps:
        values = step.apply(values, conservative)
    return values


def nearest(nodes: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Index of the node at each coordinate (each must be one of the increasing ``nodes``)."""
    right = np.clip(np.searchsorted(nodes, x), 1, len(nodes) - 1)
    nearer_left = x - nodes[right - 1] < nodes[right] - x
    index = np.where(nearer_left, right - 1, right)
    scale = max(abs(nodes[-1]), abs(nodes[0]), 1.0)
    if np.any(np.abs(nodes[index] - x) > 1e-12 * scale):
        raise RuntimeError("a node of the mesh is not on the grid")
    return index
