"""The box method's control volumes and dual-face weights (femcait.discretisation.measures)
on distorted triangle meshes: exact sums, the P1 stiffness form, the r-weighted versions."""

from __future__ import annotations

import basix.ufl
import dolfinx_solver  # noqa: F401  # isort: split
import numpy as np
import pytest
import ufl
from dolfinx import fem, la
from dolfinx import mesh as dmesh
from dolfinx.fem.petsc import assemble_matrix
from mpi4py import MPI

from femcait.discretisation.measures import CellGeometry
from femcait.discretisation.quality import mesh_quality
from femcait.geometry.domain import Domain
from femcait.geometry.interval import create_interval_mesh
from femcait.geometry.tags import tag_facets


def square(axisymmetric: bool, n: int = 7) -> Domain:
    """[0, 2] x [0, 1] on a crossed, smoothly distorted triangle mesh."""
    mesh = dmesh.create_rectangle(
        MPI.COMM_WORLD, [[0.0, 0.0], [2.0, 1.0]], [2 * n, n], diagonal=dmesh.DiagonalType.crossed
    )
    x = mesh.geometry.x
    x[:, 0], x[:, 1] = (
        x[:, 0] + 0.05 * np.sin(np.pi * x[:, 0]) * np.sin(2 * np.pi * x[:, 1]),
        x[:, 1] + 0.04 * np.sin(2 * np.pi * x[:, 0]) * np.sin(np.pi * x[:, 1]),
    )
    tags = tag_facets(mesh, {})
    return Domain(mesh, tags, thickness=1.0, axisymmetric=axisymmetric, lateral_extent=(0, 2))


def total(form) -> float:
    return MPI.COMM_WORLD.allreduce(fem.assemble_scalar(fem.form(form)), op=MPI.SUM)


@pytest.mark.parametrize("axisymmetric", [False, True], ids=["planar", "axisymmetric"])
def test_boxes_fill_the_domain(axisymmetric):
    """Sum of all box parts = area (planar) or the integral of r dA (axisymmetric), and
    every node's box is positive."""
    domain = square(axisymmetric)
    cell = CellGeometry(domain)
    exact = 2.0  # the area 2 x 1, and also int_0^2 r dr x 1
    assert total(cell.vertex_sum(lambda k: 1.0)) == pytest.approx(exact, rel=1e-12)
    V = fem.functionspace(domain.mesh, ("Lagrange", 1))
    v = ufl.TestFunction(V)
    boxes = fem.assemble_vector(fem.form(cell.vertex_sum(lambda k: cell.at_vertex(v, k))))
    boxes.scatter_reverse(la.InsertMode.add)
    assert boxes.array[: V.dofmap.index_map.size_local].min() > 0


@pytest.mark.parametrize("axisymmetric", [False, True], ids=["planar", "axisymmetric"])
def test_boxes_integrate_linear_functions_exactly(axisymmetric):
    """The boxes as a quadrature rule, sum_k m_k f(x_k), agree with int f dA (r dA) for a
    linear f to 1e-3 on a 48 x 24 mesh (a box's centroid is not its node)."""
    domain = square(axisymmetric, n=24)
    cell = CellGeometry(domain)
    x = ufl.SpatialCoordinate(domain.mesh)
    f = 1 + x[0] + 2 * x[1]
    weight = x[0] if axisymmetric else 1.0
    exact = total(f * weight * ufl.dx(degree=4))
    lumped = total(cell.vertex_sum(lambda k: cell.at_vertex(f, k)))
    assert lumped == pytest.approx(exact, rel=1e-3)


def test_edge_sum_is_the_p1_stiffness_form():
    """sum over edges of w_E (u_k - u_j)(v_k - v_j) equals int grad u . grad v exactly."""
    domain = square(False)
    cell = CellGeometry(domain)
    V = fem.functionspace(domain.mesh, ("Lagrange", 1))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    A = assemble_matrix(fem.form(ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx))
    B = assemble_matrix(fem.form(cell.edge_sum(_product(cell, u, v))))
    A.assemble()
    B.assemble()
    A.axpy(-1.0, B)
    assert A.norm() < 1e-12 * B.norm()


def test_axisymmetric_edge_sum_is_second_order_consistent():
    """With r weights, the edge sum of a smooth u against smooth v converges to
    int r grad u . grad v at rate 2."""
    errors = []
    for n in (8, 16, 32):
        domain = square(True, n)
        cell = CellGeometry(domain)
        V = fem.functionspace(domain.mesh, ("Lagrange", 1))
        u, v = fem.Function(V), fem.Function(V)
        u.interpolate(lambda x: np.cos(x[0] ** 2) * np.sin(2 * x[1]))
        v.interpolate(lambda x: x[1] ** 2 + np.cos(x[0]))
        r = ufl.SpatialCoordinate(domain.mesh)[0]
        exact = total(r * ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx(degree=4))
        edges = total(cell.edge_sum(_product(cell, u, v)))
        errors.append(abs(edges - exact))
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(rates > 1.8), (errors, rates)


def _product(cell: CellGeometry, u, v):
    return lambda j, k: cell.difference(u, j, k) * cell.difference(v, j, k)


def test_interval_boxes_and_edges():
    mesh = create_interval_mesh(MPI.COMM_WORLD, np.array([0.0, 0.5, 2.0, 2.25]))
    domain = Domain(mesh, tag_facets(mesh, {}), thickness=2.25)
    cell = CellGeometry(domain)
    assert total(cell.vertex_sum(lambda k: 1.0)) == pytest.approx(2.25, rel=1e-14)
    x = ufl.SpatialCoordinate(mesh)[0]
    # (x_k - x_j)^2 / h summed over the cells: the total length
    assert total(cell.edge_sum(lambda j, k: cell.difference(x, j, k) ** 2)) == pytest.approx(2.25)


def test_mesh_quality_finds_what_breaks_the_box_method():
    """A Delaunay mesh (right triangles: the diagonals' weights vanish) passes; a kite of
    two flat triangles (157 degrees opposite their shared edge) has one negative edge
    weight and two nodes with a negative box."""
    comm = MPI.COMM_SELF
    grid = dmesh.create_rectangle(comm, [[0.0, 0.0], [2.0, 1.0]], [8, 4])
    fine = mesh_quality(Domain(grid, tag_facets(grid, {}), thickness=1.0))
    assert (fine.nonpositive_boxes, fine.negative_edges) == (0, 0)
    assert fine.weighted_edges == 9 * 4 + 8 * 5  # the axis-parallel edges
    x = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 0.2], [1.0, -0.2]])
    cells = np.array([[0, 1, 2], [0, 1, 3]], dtype=np.int64)
    element = ufl.Mesh(basix.ufl.element("Lagrange", "triangle", 1, shape=(2,)))
    kite = dmesh.create_mesh(comm, cells, element, x)
    quality = mesh_quality(Domain(kite, tag_facets(kite, {}), thickness=0.4))
    assert quality.negative_edges == 1
    assert quality.nonpositive_boxes == 2
    assert quality.most_negative_weight == pytest.approx(-2.4 / 2.5)  # w_AB / w_AC: cot sums
