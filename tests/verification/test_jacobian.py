"""Newton's Jacobian is the derivative of the residual: J d against a central finite
difference of F, for random states, on an interval, on triangles with two materials and in
axisymmetric coordinates (a wrong Jacobian still converges, slowly, and hides). And the
residual itself conserves every species to round-off on the same meshes."""

from __future__ import annotations

import dolfinx_solver  # noqa: F401  # isort: split
import numpy as np
import pytest
from dolfinx import fem
from dolfinx import mesh as dmesh
from dolfinx.fem.petsc import assemble_matrix, assemble_residual, assemble_vector
from mpi4py import MPI
from petsc4py import PETSc

from femcait.discretisation.boundary import BoundarySet
from femcait.discretisation.materials import Material, Materials
from femcait.discretisation.measures import CellGeometry
from femcait.discretisation.residual import SpeciesTerms
from femcait.geometry.domain import Domain
from femcait.geometry.interval import create_interval_mesh
from femcait.geometry.tags import tag_facets
from femcait.sed import (
    ConstantDiffusion,
    GaussianShape,
    SEDDiffusion,
    SiteEnergyDistribution,
)
from femcait.solver.problem import TransportProblem

SED_LAW = SEDDiffusion(
    SiteEnergyDistribution(GaussianShape.from_fwhm(0.25), 0.1),
    D_bulk=1.0,
    kT_eV=0.02585,
    immobile_fraction=0.1,
)
GLASS = Material("glass", 1, 1.0, 1.0, (SED_LAW, ConstantDiffusion(0.01)))
SECOND = Material("second", 2, 0.8, 1.5, (SED_LAW.scaled(0.1), ConstantDiffusion(0.002)))


def domain(kind: str) -> Domain:
    comm = MPI.COMM_WORLD
    if kind == "interval":
        mesh = create_interval_mesh(comm, np.geomspace(1.0, 41.0, 30) - 1.0)
        return Domain(mesh, tag_facets(mesh, {}), thickness=40.0)
    mesh = dmesh.create_rectangle(comm, [[0.0, 0.0], [4.0, 6.0]], [6, 9])
    if kind == "axisymmetric":
        return Domain(mesh, tag_facets(mesh, {}), 6.0, axisymmetric=True, lateral_extent=(0, 4))
    cells = np.arange(mesh.topology.index_map(2).size_local, dtype=np.int32)
    midpoints = dmesh.compute_midpoints(mesh, 2, cells)
    values = np.where(midpoints[:, 1] > 3.0, 2, 1).astype(np.int32)
    cell_tags = dmesh.meshtags(mesh, 2, cells, values)
    return Domain(
        mesh,
        tag_facets(mesh, {}),
        6.0,
        lateral_extent=(0, 4),
        cell_tags=cell_tags,
        regions={"glass": 1, "second": 2},
    )


@pytest.mark.parametrize("kind", ["interval", "two_materials", "axisymmetric"])
def test_jacobian_matches_finite_differences(kind):
    d = domain(kind)
    materials = [GLASS, SECOND] if kind == "two_materials" else [GLASS]
    species = [SpeciesTerms("Li", 1, SED_LAW), SpeciesTerms("K", 1, ConstantDiffusion(0.01))]
    problem = TransportProblem(
        Materials(d, materials), species, 0.05, lambda V: BoundarySet([], [])
    )
    rng = np.random.default_rng(7)
    for w in (problem.w, problem.w_old, problem.w_older):
        w.x.array[:] = rng.uniform(-4.0, 0.3, w.x.array.size)
        w.x.scatter_forward()
    problem.bdf.set(0.3, 0.2)
    residual, jacobian = problem._nonlinear.F, problem._nonlinear.J

    def F() -> np.ndarray:
        b = assemble_vector(residual)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        return b.array.copy()

    J = assemble_matrix(jacobian)
    J.assemble()
    direction = J.createVecRight()
    direction.array[:] = rng.standard_normal(direction.array.size)
    product = J.createVecLeft()
    J.mult(direction, product)
    x0 = problem.w.x.array.copy()
    owned = direction.array.size
    step = 1e-6
    values = []
    for sign in (1, -1):
        problem.w.x.array[:owned] = x0[:owned] + sign * step * direction.array
        problem.w.x.scatter_forward()
        values.append(F())
    problem.w.x.array[:] = x0
    difference = (values[0] - values[1]) / (2 * step)
    scale = np.abs(product.array).max()
    error = MPI.COMM_WORLD.allreduce(np.abs(difference - product.array).max(), op=MPI.MAX)
    assert error < 1e-6 * scale, (error, scale)


@pytest.mark.parametrize("kind", ["interval", "two_materials", "axisymmetric"])
def test_the_scheme_conserves_to_round_off(kind):
    """With no-flux boundaries all round, the rows of a species' equation add up to its
    storage term a Q(w) - b Q(w_old) + e Q(w_older) (Q the lumped inventory): the edge
    fluxes cancel pairwise, for any states, on distorted and r-weighted meshes and across
    materials. The Poisson rows add up to minus the net charge (Gauss's law)."""
    d = domain(kind)
    materials = [GLASS, SECOND] if kind == "two_materials" else [GLASS]
    species = [SpeciesTerms("Li", 1, SED_LAW), SpeciesTerms("K", 1, ConstantDiffusion(0.01))]
    regions = Materials(d, materials)
    problem = TransportProblem(regions, species, 0.05, lambda V: BoundarySet([], []))
    rng = np.random.default_rng(11)
    inventories = []
    for w in (problem.w_older, problem.w_old, problem.w):
        w.x.array[:] = rng.uniform(-4.0, 0.3, w.x.array.size)
        w.x.scatter_forward()
        problem.w.x.array[:] = w.x.array
        inventories.append(problem.inventories())
    problem.bdf.set(3000.0, 2000.0)  # long steps: the fluxes dominate the rows
    a, b, e = problem.bdf.values
    storage = a * inventories[2] - b * inventories[1] + e * inventories[0]
    residual = assemble_vector(problem._nonlinear.F)
    residual.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    sums = [
        MPI.COMM_WORLD.allreduce(residual.array[dofs].sum(), op=MPI.SUM) * d.lateral_measure
        for dofs in problem._owned_field_dofs
    ]
    for i in range(len(species)):
        rows = residual.array[problem._owned_field_dofs[i]]
        size = MPI.COMM_WORLD.allreduce(np.abs(rows).sum(), op=MPI.SUM) * d.lateral_measure
        assert size > 10 * abs(storage[i])  # the rows are mostly flux, which cancels
        assert abs(sums[i] - storage[i]) < 1e-13 * size, (i, sums[i], storage[i])
    charge = sum(s.charge * inventories[2][i] for i, s in enumerate(species))
    network = fem.form(CellGeometry(d).vertex_sum(lambda k: regions.background))
    background = MPI.COMM_WORLD.allreduce(fem.assemble_scalar(network), op=MPI.SUM)
    assert abs(sums[-1] - (background - charge)) < 1e-12 * charge


def held_front(d: Domain):
    """Boundary conditions holding u_Li = -0.5 and psi = 2 at the front (depth 0), with
    the held dofs of Li."""

    def factory(V):
        fdim = d.dim - 1
        front = dmesh.locate_entities_boundary(
            d.mesh, fdim, lambda x: np.isclose(x[d.depth_axis], 0.0)
        )
        li = fem.locate_dofs_topological(V.sub(0), fdim, front)
        psi = fem.locate_dofs_topological(V.sub(2), fdim, front)
        assert MPI.COMM_WORLD.allreduce(li.size) > 0
        bcs = [
            fem.dirichletbc(np.float64(-0.5), li, V.sub(0)),
            fem.dirichletbc(np.float64(2.0), psi, V.sub(2)),
        ]
        return BoundarySet(bcs, [], held_dofs={0: li})

    return factory


@pytest.mark.parametrize("kind", ["interval", "two_materials"])
def test_the_newton_residual_is_dolfinx_lifted_residual(kind):
    """femcait's SNES residual (femcait.solver.residual_assembly) lifts the boundary
    conditions only at iterates off the boundary values: it equals DOLFINx's lifted
    residual there and at iterates that carry them, and the unconstrained sums it keeps at
    the held dofs (what crossed the boundary) equal those of a full assembly; at another
    state it offers none."""
    d = domain(kind)
    materials = [GLASS, SECOND] if kind == "two_materials" else [GLASS]
    species = [SpeciesTerms("Li", 1, SED_LAW), SpeciesTerms("K", 1, ConstantDiffusion(0.01))]
    problem = TransportProblem(Materials(d, materials), species, 0.05, held_front(d))
    nonlinear, bcs = problem._nonlinear, problem.boundaries.dirichlet
    rng = np.random.default_rng(5)
    problem.bdf.set(0.3, 0.2)
    for w in (problem.w, problem.w_old, problem.w_older):
        w.x.array[:] = rng.uniform(-4.0, 0.3, w.x.array.size)
        w.x.scatter_forward()
    for carried in (False, True):
        if carried:
            for bc in bcs:
                bc.set(problem.w.x.array)
        x = problem.w.x.petsc_vec.copy()
        ours, lifted = x.duplicate(), x.duplicate()
        nonlinear.solver.computeFunction(x, ours)
        assemble_residual(None, x, lifted, problem.w, nonlinear.F, nonlinear.J, bcs)
        scale = lifted.norm()
        assert scale > 0 and (ours - lifted).norm() <= 1e-14 * scale, carried

    unconstrained = assemble_vector(nonlinear.F)
    unconstrained.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    owned = x.getLocalSize()
    li = problem.boundaries.held_dofs[0]
    expected = unconstrained.array[li[li < owned]].sum()
    sums = problem._residual.held_sums(problem.w.x.array[:owned])
    assert sums is not None and sums[1] == 0.0
    assert abs(sums[0] - expected) <= 1e-14 * np.abs(unconstrained.array).max()
    moved = problem.w.x.array[:owned].copy()
    moved[0] += 1.0
    assert problem._residual.held_sums(moved) is None


@pytest.mark.skipif(MPI.COMM_WORLD.size > 1, reason="the shared CSR Jacobian is for one rank")
@pytest.mark.parametrize("kind", ["interval", "two_materials"])
def test_the_serial_newton_jacobian_is_dolfinx_assembly(kind):
    """On one rank Newton's Jacobian is assembled into a CSR matrix that PETSc shares
    (femcait.solver.serial_jacobian): it equals DOLFINx's PETSc assembly, Dirichlet rows
    (identity) included, and changes with the state it is evaluated at."""
    d = domain(kind)
    materials = [GLASS, SECOND] if kind == "two_materials" else [GLASS]
    species = [SpeciesTerms("Li", 1, SED_LAW), SpeciesTerms("K", 1, ConstantDiffusion(0.01))]
    problem = TransportProblem(Materials(d, materials), species, 0.05, held_front(d))
    snes, jacobian = problem._nonlinear.solver, problem._nonlinear.J
    matrix = snes.getJacobian()[0]
    assert matrix.handle == problem._serial_jacobian.matrix.handle
    rng = np.random.default_rng(3)
    problem.bdf.set(0.3, 0.2)
    for _ in range(2):
        for w in (problem.w, problem.w_old, problem.w_older):
            w.x.array[:] = rng.uniform(-4.0, 0.3, w.x.array.size)
        x = problem.w.x.petsc_vec.copy()
        snes.computeJacobian(x, matrix)
        expected = assemble_matrix(jacobian, bcs=problem.boundaries.dirichlet, diag=1.0)
        expected.assemble()
        difference = matrix.copy()
        difference.axpy(-1.0, expected)
        assert difference.norm() <= 1e-14 * expected.norm()
        assert expected.norm() > 0.0


def test_immobile_levels_follow_the_regions() -> None:
    """The nodal level below which a species cannot move: f_imm times the region's n_bg,
    between the two at the nodes of a region boundary; none without an immobile fraction."""
    d = domain("two_materials")
    regions = Materials(d, [GLASS, SECOND])
    V = fem.functionspace(d.mesh, ("Lagrange", 1))
    levels = regions.immobile_levels(V)
    depth = V.tabulate_dof_coordinates()[:, 1]
    assert levels.shape == (2, len(depth))
    assert np.allclose(levels[0][depth < 2.5], 0.1)  # the cells of the row from 2.67 to
    assert np.allclose(levels[0][depth > 3.5], 0.08)  # 3.33 lie in either region
    between = levels[0][(depth > 2.5) & (depth < 3.5)]
    assert np.all((between > 0.08 - 1e-12) & (between < 0.1 + 1e-12)) and np.ptp(between) > 0
    assert np.all(levels[1] == 0.0)  # the constant law has no immobile fraction
    single = Materials(domain("interval"), [GLASS]).immobile_levels(
        fem.functionspace(domain("interval").mesh, ("Lagrange", 1))
    )
    assert np.allclose(single[0], 0.1) and np.all(single[1] == 0.0)
    mobile = Material("glass", 1, 1.0, 1.0, (ConstantDiffusion(1.0), ConstantDiffusion(0.01)))
    assert Materials(d, [mobile]).immobile_levels(V) is None
