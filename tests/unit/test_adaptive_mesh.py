"""The dyadic 1D mesh, its transfer of nodal values and the marking, and the 2D column
mesh built of them (no FEM)."""

from __future__ import annotations

import dolfinx_solver  # noqa: F401  # isort: split
import numpy as np
import pytest

from femcait.adaptivity.columns import ColumnMesh
from femcait.adaptivity.dyadic import DyadicMesh, box_volumes, transfer
from femcait.adaptivity.marking import (
    BALANCE,
    REFINE_TARGET,
    IntervalAdapter,
    cell_changes,
)
from femcait.adaptivity.meshes import AdaptiveColumns
from femcait.geometry.grading import graded_nodes
from femcait.geometry.tensor import tensor_grid

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


def bent_front(mesh: ColumnMesh, depth: float) -> np.ndarray:
    """A 1 nm front at ``depth`` under a window (lateral < 50) that bends up to the surface
    under the mask within 10 of its edge."""
    x, z = mesh.coordinates().T
    reach = depth * np.clip(1 - (x - 50.0) / 10.0, 0, 1)
    foreign = 1e-12 + 0.45 * (1 - np.tanh((z - reach) / 1.0))
    return np.array([1.0 - foreign, foreign])


def edge_weights(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """The box method's weight cot(theta) / 2 of every edge, summed over its triangles."""
    weights: dict[tuple[int, int], float] = {}
    for k in range(3):
        a, b, m = triangles[:, k], triangles[:, (k + 1) % 3], triangles[:, (k + 2) % 3]
        u, v = points[a] - points[m], points[b] - points[m]
        cot = (u * v).sum(axis=1) / np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0])
        for edge, value in zip(np.sort(np.column_stack([a, b]), axis=1), cot, strict=True):
            weights[tuple(edge)] = weights.get(tuple(edge), 0.0) + value / 2
    return np.array(list(weights.values()))


def areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    e1 = points[triangles[:, 1]] - points[triangles[:, 0]]
    e2 = points[triangles[:, 2]] - points[triangles[:, 0]]
    return 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])


@pytest.mark.parametrize("radial", [False, True])
def test_column_transfer_keeps_inventories_positivity_and_neutrality(radial: bool) -> None:
    """A 2D adaptive mesh (the lateral axis the radius of a disc if radial): a front that
    bends at a mask edge refines depth nodes along the lines and lateral nodes at the bend;
    carrying densities over keeps the r-weighted or planar inventory of every species to
    round-off, and a neutral pair neutral; a linear potential stays linear."""
    lateral_base = np.linspace(0.0, 100.0, 11)
    depth_base = graded_nodes(500.0, 0.5, 4.0, 60.0, 1.08, 1.0)
    adaptive = AdaptiveColumns(lateral_base, depth_base, 0.05, 0.1, 0.5, (0.0, 50.0), radial)
    kinds = set()
    for depth in (10.0, 20.0, 35.0):
        before = adaptive.mesh
        densities = bent_front(before, depth)
        potential = np.array([3.0 - 0.01 * before.coordinates()[:, 1]])
        changes = adaptive.adapt(densities)
        kinds |= {type(change).__name__ for change in changes}
        moved = adaptive.transfer(changes, densities, conservative=True)
        after = adaptive.mesh
        assert moved.shape == (2, after.node_count)
        np.testing.assert_allclose(
            moved @ after.volumes(), densities @ before.volumes(), rtol=1e-13
        )
        assert moved.min() > 0
        np.testing.assert_allclose(moved.sum(axis=0), 1.0, rtol=1e-13)
        linear = adaptive.transfer(changes, potential, conservative=False)
        np.testing.assert_allclose(linear[0], 3.0 - 0.01 * after.coordinates()[:, 1], rtol=1e-12)
        assert not adaptive.wanted(bent_front(after, depth))
    assert kinds == {"LineSteps", "LateralStep"}
    mesh = adaptive.mesh
    lateral = mesh.lateral.nodes()
    sizes = np.diff(lateral)
    assert 0.5 <= sizes.min() < 1.0  # halved down to the smallest lateral cell
    fine = lateral[:-1][sizes < 2.0]
    assert fine.min() > 30.0 and fine.max() < 70.0  # around the bend
    window, masked = mesh.depths[0], mesh.depths[-1]
    assert window.sizes()[np.abs(window.nodes()[:-1] - 35.0) < 1].max() < 0.25  # the front
    # the far masked side, where the front lies at the surface, is fine only there
    assert masked.level[masked.nodes()[:-1] > 20.0].max() == 0


def test_column_mesh_is_delaunay_and_covers_the_domain() -> None:
    """After adaptations to a bent front the triangles tile the rectangle, every edge
    weight of the box method is nonnegative, and the product boxes add up to the area."""
    adaptive = AdaptiveColumns(
        np.linspace(0.0, 100.0, 11),
        graded_nodes(500.0, 0.5, 4.0, 60.0, 1.08, 1.0),
        0.05,
        0.1,
        0.5,
        (0.0, 50.0),
        False,
    )
    for depth in (10.0, 20.0, 35.0):
        adaptive.adapt(bent_front(adaptive.mesh, depth))
        mesh = adaptive.mesh
        points, triangles = mesh.coordinates(), mesh.triangles()
        assert len(triangles) == mesh.cells
        assert areas(points, triangles).min() > 0
        assert areas(points, triangles).sum() == pytest.approx(100.0 * 500.0, rel=1e-13)
        assert mesh.volumes().sum() == pytest.approx(100.0 * 500.0, rel=1e-13)
        assert edge_weights(points, triangles).min() > -1e-12
        assert len({d.cells for d in mesh.depths}) > 2  # the lines differ


def test_column_mesh_of_equal_lines_is_the_grid() -> None:
    """With the same depth nodes on every line the mesh is the tensor grid of right
    triangles, whose circumcentric boxes are the product boxes."""
    lateral, depth = np.array([0.0, 1.0, 3.0, 4.0]), np.array([0.0, 0.5, 2.0])
    mesh = ColumnMesh.grid(DyadicMesh.from_base(lateral), DyadicMesh.from_base(depth))
    points, triangles = tensor_grid(lateral, depth)
    order = np.lexsort((points[:, 1], points[:, 0]))  # the grid's nodes line by line
    np.testing.assert_array_equal(mesh.coordinates(), points[order])
    renumber = np.argsort(order)
    grid = {frozenset(t) for t in renumber[triangles].tolist()}
    assert {frozenset(t) for t in mesh.triangles().tolist()} == grid
    boxes = np.outer(box_volumes(lateral), box_volumes(depth)).ravel()
    np.testing.assert_allclose(mesh.volumes(), boxes, rtol=1e-15)
