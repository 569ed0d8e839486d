"""The residual of one implicit step of the nondimensional Nernst-Planck-Poisson system.

Unknowns: u_i = ln(n_i / n_ref) for each mobile species and psi = e phi / kT, P1 on the
same mesh. Writing the densities as c_i = exp(u_i) keeps them positive whatever Newton
does. The flux is written in electrochemical form, J_i = -D_i(c) c_i grad(u_i + z_i psi),
and summed over the mesh edges with the logarithmic-mean density (`edges`); mass and space
charge are lumped (`measures`), so that the scheme stays positive and free of oscillations
at layers the mesh does not resolve. Time: variable-step BDF2 (`bdf`), every species
equation multiplied by dt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ufl
from dolfinx import fem

from femcait.discretisation.bdf import BDFCoefficients
from femcait.discretisation.edges import edge_sum, log_mean_densities
from femcait.discretisation.materials import Materials
from femcait.discretisation.measures import Measures
from femcait.sed import DiffusionLaw


@dataclass(frozen=True)
class SpeciesTerms:
    """What the weak form needs to know about one mobile species (nondimensional)."""

    name: str
    charge: int
    diffusion: DiffusionLaw  # D / D_ref as a function of c = n / n_bg (the glass's law)


@dataclass(frozen=True)
class Influx:
    """A prescribed inward flux density of one species through tagged boundary facets."""

    species: int
    flux: ufl.core.expr.Expr
    tag: int


def npp_residual(
    w: fem.Function,
    w_old: fem.Function,
    w_older: fem.Function,
    species: Sequence[SpeciesTerms],
    materials: Materials,
    debye_squared: float,
    bdf: BDFCoefficients,
    influx: Sequence[Influx] = (),
    sources: Sequence[ufl.core.expr.Expr] | None = None,
    scale: float = 1.0,
) -> ufl.Form:
    """Residual of one implicit step, every species equation multiplied by dt, the whole
    residual by ``scale`` (see `Domain.lateral_measure`).

    Args:
        w, w_old, w_older: mixed functions (u_1..u_N, psi) at t^{k+1}, t^k, t^{k-1}.
        species: the mobile species, in the order of the mixed space.
        materials: network charge, permittivity and diffusion laws of the regions.
        debye_squared: (Debye length of the reference material / length unit)^2.
        bdf: the time-step constants.
        influx: prescribed inward fluxes (galvanostatic beam).
        sources: optional volume sources (N species + Poisson), for manufactured solutions.
        scale: a factor on every equation (Newton's tolerances apply to the scaled
            residual).
    """
    measures = Measures(materials.domain)
    mesh = measures.mesh
    dxl, ds = measures.lumped_dx, measures.ds
    lumped = measures.lumped_weight
    unknowns, previous, older = ufl.split(w), ufl.split(w_old), ufl.split(w_older)
    tests = ufl.TestFunctions(w.function_space)
    n = len(species)
    psi, q = unknowns[n], tests[n]
    debye_squared = fem.Constant(mesh, float(debye_squared))  # values, not code: the form
    space_charge = -materials.background  # is compiled once per sweep
    residual = 0
    for i, s in enumerate(species):
        u, v = unknowns[i], tests[i]
        c = ufl.exp(u)
        storage = bdf.a * c - bdf.b * ufl.exp(previous[i]) + bdf.e * ufl.exp(older[i])

        def conductance(edge, side, i=i, u=u):
            c_mean, c_low = log_mean_densities(edge, u)
            return materials.diffusion(i, c_mean, c_low, side) * c_mean

        flux = edge_sum(measures, u + s.charge * psi, v, conductance, materials.single)
        residual += storage * v * lumped * dxl + bdf.dt * flux
        space_charge += s.charge * c
    for entry in influx:
        residual -= (
            bdf.dt * entry.flux * tests[entry.species] * measures.surface_weight * ds(entry.tag)
        )

    def dielectric(edge, side):
        return debye_squared * materials.permittivity(side)

    residual += edge_sum(measures, psi, q, dielectric, materials.single)
    residual -= space_charge * q * lumped * dxl
    if sources is not None:
        dxs = ufl.Measure("dx", domain=mesh, metadata={"quadrature_degree": 6})
        weight = ufl.SpatialCoordinate(mesh)[0] if materials.domain.axisymmetric else 1.0
        for i in range(n):
            residual -= bdf.dt * sources[i] * tests[i] * weight * dxs
        residual -= sources[n] * q * weight * dxs
    return fem.Constant(mesh, float(scale)) * residual
