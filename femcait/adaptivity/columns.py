"""A 2D mesh of vertical lines, each with its own depth nodes: the anisotropic adaptive mesh
of the rectangle and the disc.

The lateral nodes are a `DyadicMesh` of the lateral base layout, and on the vertical line
through each of them the depth nodes are a `DyadicMesh` of the depth base layout of its own.
A line is fine only at the depths where a profile changes along it (the window's front
on the lines under the window, the bent front on the lines under the mask edge), so a fine
row costs nodes only where the front is, not across the whole width.

The strip between two neighbouring lines is triangulated by merging their edges in order of
their midpoint depth (an edge of one line and the node of the other it faces make a
triangle): this is the Delaunay triangulation of the strip's nodes, and where both lines
have the same nodes it is the grid of rectangles split into right triangles
(`femcait.geometry.tensor`). The lines are kept balanced (`balance_steps`) so that the
triangulation is Delaunay across the lines too: every angle opposite an edge on a line is
at most 90 degrees, and the box method's edge weights stay nonnegative.

Control volumes are the products of each node's lateral box (its half cells along the
lateral axis: width, or r-moment on the disc) and its depth box (its half cells along its
line). On a grid (all lines alike) these are the circumcentric boxes; in general they give
every node the volume its 1D layout says, so the 1D transfer of `dyadic` along each line
keeps every species' inventory exactly (`column_transfer`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from femcait.adaptivity.dyadic import DyadicMesh, box_volumes, nearest
from femcait.adaptivity.marking import unbalanced

CROSS_RATIO = 2.0
"""Largest depth cell, in lateral distances to a neighbouring line, that may face a node of
that line inside it: the angle opposite the cell's edge is then at most 90 degrees, and two
of them across a line sum to at most 180 (Delaunay)."""


@dataclass(frozen=True)
class ColumnMesh:
    """Lateral nodes, and the depth nodes on the line through each of them."""

    lateral: DyadicMesh
    depths: tuple[DyadicMesh, ...]
    """The depth mesh of every line, in lateral order."""

    @classmethod
    def grid(cls, lateral: DyadicMesh, depth: DyadicMesh) -> ColumnMesh:
        """Every line with the same depth mesh."""
        return cls(lateral, (depth,) * (lateral.cells + 1))

    @property
    def lines(self) -> int:
        """Number of vertical lines."""
        return len(self.depths)

    def line_nodes(self) -> list[np.ndarray]:
        """Depth coordinates on every line."""
        return [depth.nodes() for depth in self.depths]

    def counts(self) -> np.ndarray:
        """Nodes on every line."""
        return np.array([depth.cells + 1 for depth in self.depths])

    def offsets(self) -> np.ndarray:
        """Canonical index of every line's first node (line by line, depth along each)."""
        return np.concatenate([[0], np.cumsum(self.counts())])

    @property
    def node_count(self) -> int:
        """Number of nodes."""
        return int(self.counts().sum())

    @property
    def cells(self) -> int:
        """Number of triangles: every depth cell of a line faces a node of each neighbour."""
        per_line = np.array([depth.cells for depth in self.depths])
        return int(2 * per_line.sum() - per_line[0] - per_line[-1])

    def coordinates(self) -> np.ndarray:
        """(lateral, depth) of every node, in canonical order."""
        lateral = self.lateral.nodes()
        depths = self.line_nodes()
        x = np.repeat(lateral, [len(d) for d in depths])
        return np.column_stack([x, np.concatenate(depths)])

    def triangles(self) -> np.ndarray:
        """Vertex triples (canonical indices) of the triangles, strip by strip."""
        depths, offsets = self.line_nodes(), self.offsets()
        return np.concatenate(
            [
                _strip(depths[i], depths[i + 1], offsets[i], offsets[i + 1])
                for i in range(self.lines - 1)
            ]
        )

    def volumes(self) -> np.ndarray:
        """Control volume of every node: lateral box times depth box (canonical order)."""
        lateral = box_volumes(self.lateral.nodes(), self.lateral.radial)
        return np.concatenate(
            [w * box_volumes(depth.nodes()) for w, depth in zip(lateral, self.depths, strict=True)]
        )

    def index(self, lateral: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Canonical index of the nodes at the given coordinates (each must be a node)."""
        line = nearest(self.lateral.nodes(), lateral)
        index = np.empty(len(line), dtype=np.int64)
        offsets = self.offsets()
        for i, nodes in enumerate(self.line_nodes()):
            on = line == i
            index[on] = offsets[i] + nearest(nodes, depth[on])
        return index


def split_lines(values: np.ndarray, counts: np.ndarray) -> list[np.ndarray]:
    """Canonical rows cut into the blocks of lines with ``counts`` nodes."""
    return np.split(values, np.cumsum(counts)[:-1], axis=1)


def _strip(left: np.ndarray, right: np.ndarray, left_first: int, right_first: int) -> np.ndarray:
    """Triangles of the strip between two lines with depth nodes ``left`` and ``right``: the
    edges of both in order of their midpoints (at a tie the right one first, as the grid's
    diagonals run), each with the node of the other line it faces."""
    middles = np.concatenate([0.5 * (left[:-1] + left[1:]), 0.5 * (right[:-1] + right[1:])])
    on_left = np.concatenate([np.ones(len(left) - 1, bool), np.zeros(len(right) - 1, bool)])
    order = np.lexsort((on_left, middles))
    on_left = on_left[order]
    left_edges = np.cumsum(on_left) - on_left  # edges of each line merged before this one
    right_edges = np.cumsum(~on_left) - ~on_left
    own = np.where(on_left, left_first + left_edges, right_first + right_edges)
    facing = np.where(on_left, right_first + right_edges, left_first + left_edges)
    return np.column_stack([own, own + 1, facing])


def inner_nodes(own: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """How many of the increasing ``nodes`` lie strictly inside each cell between the
    increasing nodes ``own``."""
    slack = 1e-12 * max(abs(own[-1]), 1.0)
    return np.searchsorted(nodes, own[1:] - slack, "left") - np.searchsorted(
        nodes, own[:-1] + slack, "right"
    )


def refined_to_include(mesh: DyadicMesh, nodes: np.ndarray) -> tuple[DyadicMesh, list]:
    """``mesh`` halved until it has every one of the (dyadic) ``nodes``, and the steps."""
    steps = []
    while True:
        marked = inner_nodes(mesh.nodes(), nodes) > 0
        if not marked.any():
            return mesh, steps
        mesh, step = mesh.refined(marked)
        steps.append(step)


def balance_steps(mesh: ColumnMesh) -> tuple[ColumnMesh, tuple[list, ...]]:
    """``mesh`` refined until it is balanced, and the depth steps of every line. Balanced:
    along a line, neighbouring cells differ by at most
    `femcait.adaptivity.marking.BALANCE` times; a cell faces at
    most one node of a neighbouring line inside it (its midpoint: at most one level
    between neighbouring lines), and only if the cell is at most `CROSS_RATIO` times the
    lateral distance to that line (the triangulation is then Delaunay)."""
    depths = list(mesh.depths)
    steps: list[list] = [[] for _ in depths]
    gaps = np.diff(mesh.lateral.nodes())
    nodes = [depth.nodes() for depth in depths]
    check = set(range(len(depths)))  # lines that changed, or whose neighbours did
    while check:
        marks = {}
        for i in sorted(check):
            depth = depths[i]
            marked = unbalanced(depth)
            sizes = np.diff(nodes[i])
            for j in (i - 1, i + 1):
                if 0 <= j < len(depths):
                    inner = inner_nodes(nodes[i], nodes[j])
                    too_long = sizes > CROSS_RATIO * gaps[min(i, j)] * (1 + 1e-9)
                    marked |= (inner >= 2) | ((inner == 1) & too_long)
            if marked.any():
                marks[i] = marked
        check = set()
        for i, marked in marks.items():
            depths[i], step = depths[i].refined(marked)
            nodes[i] = depths[i].nodes()
            steps[i].append(step)
            check |= {j for j in (i - 1, i, i + 1) if 0 <= j < len(depths)}
    return ColumnMesh(mesh.lateral, tuple(depths)), tuple(steps)
