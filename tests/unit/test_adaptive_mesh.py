"""The dyadic 1D mesh, its transfer of nodal values and the marking (no FEM)."""

from __future__ import annotations

import numpy as np
import pytest

from femcait.adaptivity.dyadic import DyadicMesh, box_volumes, transfer
from femcait.adaptivity.marking import (
    BALANCE,
    REFINE_TARGET,
    IntervalAdapter,
    cell_changes,
)
from femcait.adaptivity.meshes import AdaptiveRectangle
from femcait.geometry.grading import graded_nodes

BASE = graded_nodes(1e4, 0.5, 2.0, 200.0, 1.08, 1.0)


def front(x: np.ndarray, depth: float, width: float = 1.0) -> np.ndarray:
    """A replacement front: native (row 0) 1 -> 0.1 in front, foreign (row 1) the rest."""
    foreign = 0.45 * (1 - np.tanh((x - depth) / width))
    return np.array([1.0 - foreign, foreign])


def inventory(x: np.ndarray, values: np.ndarray) -> np.ndarray:
    return values @ box_volumes(x)


def random_changes(seed: int, rounds: int = 12):
    """A random sequence of refinements and coarsenings of the base mesh."""
    rng = np.random.default_rng(seed)
    mesh, steps = DyadicMesh.from_base(BASE), []
    for _ in range(rounds):
        if rng.random() < 0.6 or not len(mesh.sibling_pairs()):
            mesh, step = mesh.refined(rng.random(mesh.cells) < 0.3)
        else:
            pairs = mesh.sibling_pairs()
            mesh, step = mesh.coarsened(pairs[rng.random(len(pairs)) < 0.7])
        steps.append(step)
    return mesh, steps


def test_refined_cells_are_halves_and_merge_back() -> None:
    mesh = DyadicMesh.from_base(BASE)
    marked = np.zeros(mesh.cells, dtype=bool)
    marked[[0, 3, 4, 10]] = True
    fine, _ = mesh.refined(marked)
    x, y = mesh.nodes(), fine.nodes()
    assert fine.cells == mesh.cells + 4
    assert np.all(np.diff(y) > 0)
    assert set(x) <= set(y)
    new = np.setdiff1d(y, x)
    np.testing.assert_allclose(new, 0.5 * (x[[0, 3, 4, 10]] + x[[1, 4, 5, 11]]), rtol=1e-15)
    back, _ = fine.coarsened(fine.sibling_pairs())
    np.testing.assert_array_equal(back.nodes(), x)


@pytest.mark.parametrize("seed", range(4))
def test_transfer_keeps_inventories_positivity_and_neutrality(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    x = BASE
    foreign = rng.uniform(1e-12, 0.9, len(x))
    densities = np.array([1.0 - foreign, foreign])  # neutral: the sum is the background 1
    mesh, steps = random_changes(seed)
    moved = transfer(steps, densities, conservative=True)
    y = mesh.nodes()
    assert moved.shape == (2, len(y))
    np.testing.assert_allclose(inventory(y, moved), inventory(x, densities), rtol=1e-13)
    assert moved.min() > 0
    np.testing.assert_allclose(moved.sum(axis=0), 1.0, rtol=1e-13)


def test_interpolated_fields_stay_linear() -> None:
    mesh, steps = random_changes(7)
    moved = transfer(steps, np.array([3.0 - 0.02 * BASE]), conservative=False)
    np.testing.assert_allclose(moved[0], 3.0 - 0.02 * mesh.nodes(), rtol=1e-12, atol=1e-12)


def test_coarsening_gives_a_removed_node_to_its_neighbours() -> None:
    x = np.array([0.0, 1.0, 2.0])
    mesh, _ = DyadicMesh.from_base(np.array([0.0, 2.0])).refined(np.array([True]))
    np.testing.assert_array_equal(mesh.nodes(), x)
    coarse, step = mesh.coarsened(mesh.sibling_pairs())
    values = np.array([[0.0, 1.0, 0.0]])
    moved = step.apply(values, conservative=True)
    # the middle box (1) holds 1; each end box grows from 0.5 to 1 and takes half of it
    np.testing.assert_allclose(moved, [[0.5, 0.5]])
    np.testing.assert_allclose(inventory(coarse.nodes(), moved), inventory(x, values))


def test_adapted_mesh_resolves_the_front_within_the_tolerance() -> None:
    tolerance, min_cell = 0.02, 2.0 / 2**8
    adapter = IntervalAdapter(DyadicMesh.from_base(BASE), tolerance, min_cell)
    assert adapter.wanted(front(adapter.mesh.nodes(), 30.0))
    for _ in range(3):
        adapter.adapt(front(adapter.mesh.nodes(), 30.0))
    x = adapter.mesh.nodes()
    changes = cell_changes(front(x, 30.0))
    assert changes.max() <= REFINE_TARGET * tolerance * 1.05
    assert not adapter.wanted(front(x, 30.0))
    sizes = adapter.mesh.sizes()
    assert sizes.min() >= min_cell * (1 - 1e-12)
    assert max((sizes[1:] / sizes[:-1]).max(), (sizes[:-1] / sizes[1:]).max()) <= BALANCE
    # fine cells only near the front: away from it the base mesh stays
    fine = x[:-1][sizes < 0.5]
    assert fine.min() > 20.0 and fine.max() < 40.0


def test_cells_behind_a_moving_front_merge_again() -> None:
    adapter = IntervalAdapter(DyadicMesh.from_base(BASE), 0.02, 2.0 / 2**8)
    counts = []
    for depth in np.linspace(20.0, 120.0, 41):
        x = adapter.mesh.nodes()
        if adapter.wanted(front(x, depth)):
            adapter.adapt(front(x, depth))
        counts.append(adapter.mesh.cells)
        behind = adapter.mesh.nodes()[1:] < depth - 20.0
        # the front's cells (halved up to 8 times) merged again, to at most one halving
        assert adapter.mesh.level[behind].max(initial=0) <= 1, depth
    assert max(counts) < 2 * counts[0]


def test_small_cells_stop_at_the_smallest_allowed() -> None:
    adapter = IntervalAdapter(DyadicMesh.from_base(BASE), 0.02, 0.25)
    x = adapter.mesh.nodes()
    steep = front(x, 30.0, width=0.01)
    adapter.adapt(steep)
    assert adapter.mesh.sizes().min() == pytest.approx(0.25)
    assert not adapter.wanted(front(adapter.mesh.nodes(), 30.0, width=0.01))


def grid_inventory(lateral, depth, values, radial):
    """Lumped inventories of canonical grid rows: boxes are lateral x depth boxes."""
    boxes = np.outer(box_volumes(depth), box_volumes(lateral, radial)).ravel()
    return values @ boxes


@pytest.mark.parametrize("radial", [False, True])
def test_grid_transfer_keeps_inventories_positivity_and_neutrality(radial: bool) -> None:
    """A 2D adaptive grid (lateral x depth, the lateral axis the radius of a disc if radial):
    a front that bends at a mask edge refines both axes; carrying densities over keeps the
    r-weighted or planar inventory of every species to round-off, and a neutral pair
    neutral; a linear potential stays linear."""
    lateral_base = np.linspace(0.0, 100.0, 11)
    depth_base = graded_nodes(500.0, 0.5, 4.0, 60.0, 1.08, 1.0)
    grid = AdaptiveRectangle(lateral_base, depth_base, 0.05, 0.1, 0.5, (0.0, 50.0), radial)

    def bent_front(axes, depth):
        x, z = np.meshgrid(*axes)  # row j: depth z_j
        reach = depth * np.clip(1 - (x - 50.0) / 10.0, 0, 1)  # under the mask it bends up
        foreign = 1e-12 + 0.45 * (1 - np.tanh((z - reach) / 1.0))
        return np.array([1.0 - foreign, foreign]).reshape(2, -1)

    changed = set()
    for depth in (10.0, 20.0, 35.0):
        before = grid.axes
        densities = bent_front(before, depth)
        potential = np.array([3.0 - 0.01 * np.meshgrid(*before)[1].ravel()])
        changes = grid.adapt(densities)
        changed |= {change.axis for change in changes}
        moved = grid.transfer(changes, densities, conservative=True)
        after = grid.axes
        assert moved.shape == (2, len(after[0]) * len(after[1]))
        np.testing.assert_allclose(
            grid_inventory(*after, moved, radial),
            grid_inventory(*before, densities, radial),
            rtol=1e-13,
        )
        assert moved.min() > 0
        np.testing.assert_allclose(moved.sum(axis=0), 1.0, rtol=1e-13)
        linear = grid.transfer(changes, potential, conservative=False)
        np.testing.assert_allclose(
            linear[0], 3.0 - 0.01 * np.meshgrid(*after)[1].ravel(), rtol=1e-12
        )
    assert changed == {"depth", "lateral"}
    lateral_sizes = np.diff(grid.axes[0])
    assert 0.5 <= lateral_sizes.min() < 1.0  # halved down to the smallest lateral cell
    fine_columns = grid.axes[0][:-1][lateral_sizes < 2.0]
    assert fine_columns.min() > 30.0 and fine_columns.max() < 70.0  # around the bend
    assert np.diff(grid.axes[1]).min() < 0.25  # rows resolve the 1 nm front
