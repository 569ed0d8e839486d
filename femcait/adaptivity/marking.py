"""Where a 1D mesh needs finer or may have coarser cells, from the profiles on it.

The indicator of a cell is the largest change of any species' density (fraction of n_ref)
across it. A cell whose change exceeds the tolerance is too coarse; the mesh is then
adapted so that every change is at most `REFINE_TARGET` of the tolerance, with a margin of
`BUFFER_CELLS` fine cells around each refined cell (the front moves into it before the
next adaptation), and neighbouring cells at most `BALANCE` times each other's size. Two halves of a
cell merge again where the merged cell would change by less than `COARSEN_TARGET` of the
tolerance and is not in such a margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from femcait.adaptivity.dyadic import CoarsenStep, DyadicMesh, RefineStep, transfer

REFINE_TARGET = 0.5
"""An adapted cell changes by at most this fraction of the tolerance."""

COARSEN_TARGET = 0.25
"""Two halves merge where the merged cell changes by less than this fraction of it."""

BUFFER_CELLS = 32.0
"""Margin around a refined cell, in cells of its new size, refined alike."""

BALANCE = 2.5
"""Largest size ratio of neighbouring cells (one halving, times the base mesh's grading)."""

COARSEN_TRIGGER = 0.5
"""Adapt to coarsen alone once this fraction of the cells could merge."""


def cell_changes(fractions: np.ndarray) -> np.ndarray:
    """Largest change of any species (rows) across each cell."""
    return np.abs(np.diff(fractions, axis=1)).max(axis=0)


@dataclass
class IntervalAdapter:
    """Adapts a `DyadicMesh` to the nodal densities on it."""

    mesh: DyadicMesh
    tolerance: float
    min_cell: float
    buffer_cells: float = BUFFER_CELLS
    """Margin around a refined cell, in cells of its new size."""

    def _can_halve(self, mesh: DyadicMesh) -> np.ndarray:
        """Cells whose halves are at least `min_cell`."""
        return mesh.sizes() >= 2 * self.min_cell * (1 - 1e-9)

    def wanted(self, fractions: np.ndarray) -> bool:
        """Whether the mesh should be adapted for these densities (species rows)."""
        changes = cell_changes(fractions)
        if self.too_coarse(changes):
            return True
        return self.mergeable_count(fractions, changes) > COARSEN_TRIGGER * self.mesh.cells

    def too_coarse(self, changes: np.ndarray) -> bool:
        """Whether a cell that may be halved changes (`cell_changes`) by more than the
        tolerance."""
        return bool(np.any((changes > self.tolerance) & self._can_halve(self.mesh)))

    def mergeable_count(self, fractions: np.ndarray, changes: np.ndarray) -> int:
        """How many pairs of halves could merge again (``changes``: `cell_changes` of the
        ``fractions``)."""
        return len(self._mergeable(fractions, changes))

    def adapt(self, fractions: np.ndarray) -> list:
        """Adapt the mesh to the densities; return the steps that carry nodal values over
        (`femcait.adaptivity.dyadic.transfer`), empty if nothing changed."""
        return [step for _, step in self.stages(fractions)]

    def stages(self, fractions: np.ndarray) -> list[tuple[DyadicMesh, RefineStep | CoarsenStep]]:
        """Adapt the mesh to the densities; return every mesh made on the way with the step
        that carries nodal values onto it (the refinements, then one merge), empty if nothing
        changed."""
        mesh = self.mesh
        target = self._target_sizes(mesh, cell_changes(fractions))
        stages: list = []
        while True:
            too_big = (mesh.sizes() > target * (1 + 1e-9)) | unbalanced(mesh)
            too_big &= self._can_halve(mesh)
            if not too_big.any():
                break
            copies = np.where(too_big, 2, 1)
            target = np.repeat(target, copies)
            mesh, step = mesh.refined(too_big)
            stages.append((mesh, step))
        fractions = transfer([step for _, step in stages], fractions, conservative=True)
        pairs = self._mergeable(fractions, cell_changes(fractions), mesh, target)
        if len(pairs):
            mesh, step = mesh.coarsened(pairs)
            stages.append((mesh, step))
        self.mesh = mesh
        return stages

    def _target_sizes(self, mesh: DyadicMesh, changes: np.ndarray) -> np.ndarray:
        """The size every cell should have at most (inf where it may stay as it is)."""
        sizes = mesh.sizes()
        goal = REFINE_TARGET * self.tolerance
        need = changes > goal
        target = np.full(mesh.cells, np.inf)
        if not need.any():
            return target
        small = sizes[need] * goal / changes[need]  # the change falls with the size
        nodes = mesh.nodes()
        centres = 0.5 * (nodes[:-1] + nodes[1:])
        for centre, size in zip(centres[need], small, strict=True):
            near = np.abs(centres - centre) <= self.buffer_cells * size
            np.minimum.at(target, np.flatnonzero(near), size)
        return target

    def _mergeable(
        self,
        fractions: np.ndarray,
        changes: np.ndarray,
        mesh: DyadicMesh | None = None,
        target: np.ndarray | None = None,
    ) -> np.ndarray:
        """Left cells of the sibling pairs that may merge."""
        mesh = mesh or self.mesh
        pairs = mesh.sibling_pairs()
        if not len(pairs):
            return pairs
        merged = np.abs(fractions[:, pairs + 2] - fractions[:, pairs]).max(axis=0)
        sizes = mesh.sizes()
        merged_size = 2 * sizes[pairs]
        ok = merged < COARSEN_TARGET * self.tolerance
        if target is not None:
            ok &= merged_size <= np.minimum(target[pairs], target[pairs + 1])
        # the neighbours outside the pair only grow by merging: checked as they are
        left = np.where(pairs > 0, sizes[np.maximum(pairs - 1, 0)], np.inf)
        right = np.where(
            pairs + 2 < mesh.cells, sizes[np.minimum(pairs + 2, mesh.cells - 1)], np.inf
        )
        ok &= (merged_size <= BALANCE * left) & (merged_size <= BALANCE * right)
        return pairs[ok]


def unbalanced(mesh: DyadicMesh) -> np.ndarray:
    """Cells more than `BALANCE` times the size of a neighbour."""
    sizes = mesh.sizes()
    big = np.zeros(mesh.cells, dtype=bool)
    big[:-1] |= sizes[:-1] > BALANCE * sizes[1:]
    big[1:] |= sizes[1:] > BALANCE * sizes[:-1]
    return big
