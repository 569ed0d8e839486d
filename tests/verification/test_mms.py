"""Method of manufactured solutions for the coupled NPP system with an SED-based D(n).

The production residual (femcait.forms via femcait.problem) is solved with source terms
that make a chosen smooth solution exact; the L2 errors of the densities and the potential
must fall at the expected rate of P1 elements, 2, fitted over four meshes.
"""

from __future__ import annotations

import dolfinx_solver  # noqa: F401  # isort: split
import numpy as np
import pytest
import ufl
from dolfinx import fem
from dolfinx import mesh as dmesh
from mpi4py import MPI

from femcait.boundary import BoundarySet
from femcait.forms import SpeciesTerms
from femcait.mesh import create_interval_mesh
from femcait.problem import TransportProblem
from femcait.sed import (
    UFL_OPS,
    ConstantDiffusion,
    GaussianShape,
    SEDDiffusion,
    SiteEnergyDistribution,
)

DEBYE_SQUARED = 0.05
BACKGROUND = 1.0
CHARGES = (1, -1)
LAWS = (
    SEDDiffusion(
        SiteEnergyDistribution(GaussianShape.from_fwhm(0.12), 0.1), D_bulk=1.0, kT_eV=0.02585
    ),
    ConstantDiffusion(0.3),
)


def exact(x, mod):
    """Exact (c_1, c_2, psi), written once for NumPy (mod=np) and UFL (mod=ufl)."""
    c1 = 0.55 + 0.35 * mod.cos(np.pi * x)
    c2 = 0.25 + 0.15 * mod.sin(1.5 * np.pi * x)
    psi = 3.0 * x * x - 2.0 * x + 0.5 * mod.sin(2.0 * np.pi * x)
    return c1, c2, psi


def sources(mesh):
    """Volume sources that make `exact` a stationary solution of the residual."""
    x = ufl.SpatialCoordinate(mesh)[0]
    c1, c2, psi = exact(x, ufl)
    out = []
    for c, z, law in zip((c1, c2), CHARGES, LAWS, strict=True):
        mu = ufl.ln(c) + z * psi
        out.append(-ufl.div(law(c, UFL_OPS) * c * ufl.grad(mu)))
    charge = CHARGES[0] * c1 + CHARGES[1] * c2 - BACKGROUND
    out.append(-DEBYE_SQUARED * ufl.div(ufl.grad(psi)) - charge)
    return out


def dirichlet_everywhere(V) -> BoundarySet:
    """Exact values of every field at both ends of [0, 1]."""
    mesh = V.mesh
    ends = dmesh.locate_entities_boundary(
        mesh, 0, lambda x: np.isclose(x[0], 0.0) | np.isclose(x[0], 1.0)
    )
    bcs = []
    for i in range(3):
        Vi, _ = V.sub(i).collapse()
        g = fem.Function(Vi)
        g.interpolate(lambda x, i=i: _log_or_value(exact(x[0], np), i))
        dofs = fem.locate_dofs_topological((V.sub(i), Vi), 0, ends)
        bcs.append(fem.dirichletbc(g, dofs, V.sub(i)))
    return BoundarySet(bcs, [])


def _log_or_value(values, i):
    return np.log(values[i]) if i < 2 else values[i]


def l2_errors(n_cells: int) -> np.ndarray:
    """L2 errors of c_1, c_2 and psi on a uniform mesh of n_cells."""
    mesh = create_interval_mesh(MPI.COMM_WORLD, np.linspace(0.0, 1.0, n_cells + 1))
    species = [
        SpeciesTerms(f"s{i}", z, law) for i, (z, law) in enumerate(zip(CHARGES, LAWS, strict=True))
    ]
    problem = TransportProblem(
        mesh,
        species,
        DEBYE_SQUARED,
        BACKGROUND,
        dirichlet_everywhere,
        petsc_options={"snes_atol": 1e-7, "snes_rtol": 1e-13},
        sources=sources(mesh),
    )
    problem.set_state([lambda x, i=i: _log_or_value(exact(x[0], np), i) for i in range(3)])
    # One implicit step with a huge dt makes the storage term negligible, so the discrete
    # stationary problem (what the MMS checks) is solved; residual entries scale with dt.
    result = problem.try_step(1e6, None, None)
    assert result.converged, result.reason
    x = ufl.SpatialCoordinate(mesh)[0]
    dx = ufl.Measure("dx", domain=mesh, metadata={"quadrature_degree": 8})
    fields = ufl.split(problem.w)
    computed = (ufl.exp(fields[0]), ufl.exp(fields[1]), fields[2])
    errors = []
    for approx, ref in zip(computed, exact(x, ufl), strict=True):
        local = fem.assemble_scalar(fem.form((approx - ref) ** 2 * dx))
        errors.append(np.sqrt(mesh.comm.allreduce(local, op=MPI.SUM)))
    return np.array(errors)


@pytest.fixture(scope="module")
def convergence():
    sizes = np.array([16, 32, 64, 128])
    return sizes, np.array([l2_errors(n) for n in sizes])


@pytest.mark.parametrize("field", [0, 1, 2], ids=["c_sed", "c_constant", "psi"])
def test_l2_rate_is_two(convergence, field):
    sizes, errors = convergence
    rate = np.polyfit(np.log(1.0 / sizes), np.log(errors[:, field]), 1)[0]
    print(f"field {field}: errors {errors[:, field]}, fitted rate {rate:.3f}")
    assert abs(rate - 2.0) < 0.1
    assert errors[-1, field] < 1e-3  # the solution is actually approximated
