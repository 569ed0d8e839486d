"""Nodal values across a change of a `ColumnMesh`, keeping every species' inventory exactly.

Every node's control volume is its lateral box times its depth box, so a change is made of
two kinds of 1D step:

- `LineSteps`: depth nodes halved or merged on some lines: the 1D transfer of
  `femcait.adaptivity.dyadic` along each line (its inventory times the line's lateral box
  is kept);
- `LateralStep`: a lateral cell halved (a new line) or two merged (a line removed): the 1D
  transfer along the lateral axis makes every new line a combination of old lines with the
  same depth nodes. Each old line is first carried to the new line's depth nodes (the union
  of its sources' nodes: refinement only, which keeps its depth inventory), then combined.
  Inventories are kept because the lateral transfer keeps them for any depth profile.

Both are linear with nonnegative weights that keep constants: densities stay positive and
neutral states neutral.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from femcait.adaptivity.columns import ColumnMesh, refined_to_include, split_lines
from femcait.adaptivity.dyadic import DyadicMesh, transfer


@dataclass(frozen=True)
class LineSteps:
    """Depth steps on every line of a mesh whose lines have ``counts`` nodes."""

    steps: tuple[list, ...]
    counts: np.ndarray

    def apply(self, values: np.ndarray, conservative: bool) -> np.ndarray:
        """Canonical rows on the mesh after."""
        lines = split_lines(values, self.counts)
        return np.concatenate(
            [transfer(s, v, conservative) for s, v in zip(self.steps, lines, strict=True)], axis=1
        )


@dataclass(frozen=True)
class LateralStep:
    """A step of the lateral axis: every new line from its source lines."""

    sources: tuple[np.ndarray, ...]
    """Old lines of every new line."""
    weights: tuple[np.ndarray, ...]
    """Their weights for densities (the conservative lateral transfer)."""
    plain_weights: tuple[np.ndarray, ...]
    """Their weights for interpolated fields."""
    carry: tuple[tuple[list, ...], ...]
    """Depth steps from each source's nodes to the new line's."""
    counts: np.ndarray
    """Nodes on the old lines."""

    def apply(self, values: np.ndarray, conservative: bool) -> np.ndarray:
        """Canonical rows on the mesh after."""
        lines = split_lines(values, self.counts)
        weights = self.weights if conservative else self.plain_weights
        new = []
        for sources, w, carry in zip(self.sources, weights, self.carry, strict=True):
            if len(sources) == 1 and not carry[0]:
                new.append(lines[sources[0]])
                continue
            parts = [
                weight * transfer(steps, lines[source], conservative)
                for source, weight, steps in zip(sources, w, carry, strict=True)
            ]
            new.append(sum(parts))
        return np.concatenate(new, axis=1)


def lateral_step(mesh: ColumnMesh, lateral: DyadicMesh, step) -> tuple[ColumnMesh, LateralStep]:
    """The mesh after the 1D ``step`` of its lateral axis (from `DyadicMesh.refined` or
    `coarsened`) that made the lateral mesh ``lateral``, and the transfer."""
    identity = np.eye(mesh.lines)
    conservative = step.apply(identity, True)
    plain = step.apply(identity, False)
    sources, weights, plain_weights, carry, depths = [], [], [], [], []
    for j in range(conservative.shape[1]):
        used = np.flatnonzero((conservative[:, j] != 0) | (plain[:, j] != 0))
        union = mesh.depths[used[0]]
        for i in used[1:]:
            union, _ = refined_to_include(union, mesh.depths[i].nodes())
        target = union.nodes()
        sources.append(used)
        weights.append(conservative[used, j])
        plain_weights.append(plain[used, j])
        carry.append(tuple(refined_to_include(mesh.depths[i], target)[1] for i in used))
        depths.append(union)
    change = LateralStep(
        tuple(sources), tuple(weights), tuple(plain_weights), tuple(carry), mesh.counts()
    )
    return ColumnMesh(lateral, tuple(depths)), change
