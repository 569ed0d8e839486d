"""Method of manufactured solutions for the coupled NPP system with an SED-based D(n).

The production residual (femcait.discretisation via femcait.solver.problem) is solved with
source terms that make a chosen smooth solution exact; the L2 errors of the densities and
the potential must fall at the expected rate of the scheme, 2, fitted over four meshes: on
intervals, on distorted (non-orthogonal) triangle meshes, and on triangles in axisymmetric
(r, z) coordinates with the axis a natural boundary.
"""

from __future__ import annotations

import dolfinx_solver  # noqa: F401  # isort: split
import numpy as np
import pytest
import ufl
from dolfinx import fem
from dolfinx import mesh as dmesh
from mpi4py import MPI

from femcait.discretisation.boundary import BoundarySet
from femcait.discretisation.materials import Material, Materials
from femcait.discretisation.residual import SpeciesTerms
from femcait.geometry.domain import Domain
from femcait.geometry.interval import create_interval_mesh
from femcait.geometry.tags import tag_facets
from femcait.sed import (
    UFL_OPS,
    ConstantDiffusion,
    GaussianShape,
    SEDDiffusion,
    SiteEnergyDistribution,
)
from femcait.solver.problem import TransportProblem

DEBYE_SQUARED = 0.05
BACKGROUND = 1.0
CHARGES = (1, -1)
LAWS = (
    SEDDiffusion(
        SiteEnergyDistribution(GaussianShape.from_fwhm(0.12), 0.1), D_bulk=1.0, kT_eV=0.02585
    ),
    ConstantDiffusion(0.3),
)
SIZES = {
    "interval": [16, 32, 64, 128],
    "triangles": [6, 12, 24, 48],
    "axisymmetric": [6, 12, 24, 48],
}


def exact(x, mod):
    """Exact (c_1, c_2, psi) at points x (a tuple of coordinates; depth last), written once
    for NumPy (mod=np) and UFL (mod=ufl). In 2D the lateral dependence is through x^2, so
    that the radial derivative vanishes on the axis."""
    z = x[-1]
    s = x[0] ** 2 if len(x) == 2 else 0.0
    c1 = 0.55 + 0.35 * mod.cos(np.pi * z) * (1 - 0.3 * s)
    c2 = 0.25 + 0.15 * mod.sin(1.5 * np.pi * z + s)
    psi = 3.0 * z * z - 2.0 * z + 0.5 * mod.sin(2.0 * np.pi * z) + s
    return c1, c2, psi


def sources(domain: Domain, space) -> list[fem.Function]:
    """Volume sources that make `exact` a stationary solution of the residual, as nodal
    values in ``space`` (P1; divided by r in axisymmetric coordinates, where the residual
    integrates them over the r-weighted control volumes)."""
    X = ufl.SpatialCoordinate(domain.mesh)
    x = tuple(X[i] for i in range(domain.dim))
    c1, c2, psi = exact(x, ufl)

    def divergence(F):
        """div F, or (1/r) d(r F_r)/dr + dF_z/dz = div F + F_r / r (F_r / r -> dF_r/dr on
        the axis, where F_r vanishes)."""
        if not domain.axisymmetric:
            return ufl.div(F)
        on_axis = ufl.lt(X[0], 1e-12)
        return ufl.div(F) + ufl.conditional(on_axis, F[0].dx(0), F[0] / X[0])

    out = []
    for c, z, law in zip((c1, c2), CHARGES, LAWS, strict=True):
        mu = ufl.ln(c) + z * psi
        out.append(-divergence(law(c, UFL_OPS) * c * ufl.grad(mu)))
    charge = CHARGES[0] * c1 + CHARGES[1] * c2 - BACKGROUND
    out.append(-DEBYE_SQUARED * divergence(ufl.grad(psi)) - charge)
    nodal = []
    for expression in out:
        f = fem.Function(space)
        f.interpolate(fem.Expression(expression, space.element.interpolation_points))
        nodal.append(f)
    return nodal


def make_domain(kind: str, n: int) -> Domain:
    """The unit interval, or the unit square on a distorted triangle mesh."""
    comm = MPI.COMM_WORLD
    if kind == "interval":
        mesh = create_interval_mesh(comm, np.linspace(0.0, 1.0, n + 1))
        tags = tag_facets(mesh, {1: lambda x: np.isclose(x[0], 0.0) | np.isclose(x[0], 1.0)})
        return Domain(mesh, tags, thickness=1.0)
    mesh = dmesh.create_unit_square(
        comm, n, n, diagonal=dmesh.DiagonalType.crossed, ghost_mode=dmesh.GhostMode.shared_facet
    )
    x = mesh.geometry.x  # a smooth distortion: non-orthogonal, the same at every level
    x[:, 0], x[:, 1] = (
        x[:, 0] + 0.06 * np.sin(np.pi * x[:, 0]) * np.sin(2 * np.pi * x[:, 1]),
        x[:, 1] + 0.05 * np.sin(2 * np.pi * x[:, 0]) * np.sin(np.pi * x[:, 1]),
    )
    axisymmetric = kind == "axisymmetric"

    def held(x):  # every side but the axis r = 0, which stays a natural boundary
        sides = np.isclose(x[1], 0.0) | np.isclose(x[1], 1.0) | np.isclose(x[0], 1.0)
        return sides if axisymmetric else sides | np.isclose(x[0], 0.0)

    tags = tag_facets(mesh, {1: held})
    return Domain(mesh, tags, thickness=1.0, axisymmetric=axisymmetric, lateral_extent=(0.0, 1.0))


def dirichlet(domain: Domain):
    """Exact values of every field on the tagged boundary."""

    def factory(V) -> BoundarySet:
        bcs = []
        facets = domain.facet_tags.find(1)
        for i in range(3):
            Vi, _ = V.sub(i).collapse()
            g = fem.Function(Vi)
            g.interpolate(lambda x, i=i: _log_or_value(exact(x[: domain.dim], np), i))
            dofs = fem.locate_dofs_topological((V.sub(i), Vi), domain.dim - 1, facets)
            bcs.append(fem.dirichletbc(g, dofs, V.sub(i)))
        return BoundarySet(bcs, [])

    return factory


def _log_or_value(values, i):
    return np.log(values[i]) if i < 2 else values[i]


def l2_errors(kind: str, n: int) -> np.ndarray:
    """L2 errors of c_1, c_2 and psi (r-weighted in axisymmetric coordinates)."""
    domain = make_domain(kind, n)
    species = [
        SpeciesTerms(f"s{i}", z, law) for i, (z, law) in enumerate(zip(CHARGES, LAWS, strict=True))
    ]
    materials = Materials(domain, [Material("test", None, BACKGROUND, 1.0, LAWS)])
    problem = TransportProblem(
        materials,
        species,
        DEBYE_SQUARED,
        dirichlet(domain),
        petsc_options={"snes_atol": 1e-7, "snes_rtol": 1e-13},
        sources=sources(domain, fem.functionspace(domain.mesh, ("Lagrange", 1))),
    )
    problem.set_state(
        [lambda x, i=i: _log_or_value(exact(x[: domain.dim], np), i) for i in range(3)]
    )
    # One implicit step with a huge dt makes the storage term negligible, so the discrete
    # stationary problem (what the MMS checks) is solved; residual entries scale with dt.
    result = problem.try_step(1e6, None, None)
    assert result.converged, result.reason
    X = ufl.SpatialCoordinate(domain.mesh)
    weight = X[0] if domain.axisymmetric else 1.0
    dx = ufl.Measure("dx", domain=domain.mesh, metadata={"quadrature_degree": 8})
    fields = ufl.split(problem.w)
    computed = (ufl.exp(fields[0]), ufl.exp(fields[1]), fields[2])
    reference = exact(tuple(X[i] for i in range(domain.dim)), ufl)
    errors = []
    for approx, ref in zip(computed, reference, strict=True):
        local = fem.assemble_scalar(fem.form((approx - ref) ** 2 * weight * dx))
        errors.append(np.sqrt(domain.mesh.comm.allreduce(local, op=MPI.SUM)))
    return np.array(errors)


@pytest.fixture(scope="module", params=list(SIZES))
def convergence(request):
    sizes = np.array(SIZES[request.param])
    return request.param, sizes, np.array([l2_errors(request.param, n) for n in sizes])


@pytest.mark.parametrize("field", [0, 1, 2], ids=["c_sed", "c_constant", "psi"])
def test_l2_rate_is_two(convergence, field):
    kind, sizes, errors = convergence
    rate = np.polyfit(np.log(1.0 / sizes), np.log(errors[:, field]), 1)[0]
    print(f"{kind} field {field}: errors {errors[:, field]}, fitted rate {rate:.3f}")
    assert abs(rate - 2.0) < 0.1
    assert errors[-1, field] < 1e-3  # the solution is actually approximated
