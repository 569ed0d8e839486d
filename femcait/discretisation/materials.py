"""Materials of the regions: network charge, permittivity and diffusion laws as UFL.

Densities are fractions of the reference density n_ref (the glass's n_bg) and permittivities
ratios to the glass's; a region's laws take the density as a fraction of its own n_bg. With
one material everything is a `fem.Constant` (forms compile once per sweep); with several,
each region has an indicator (a cell-wise 0/1 function) and a material property is the sum
of the indicators times the region's values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from dolfinx import fem

from femcait.discretisation.measures import CellGeometry
from femcait.geometry import Domain
from femcait.sed import DiffusionLaw, ufl_ops


@dataclass(frozen=True)
class Material:
    """One region's material (nondimensional)."""

    name: str
    tag: int | None
    """Cell tag of the region (None: the only material, everywhere)."""
    density: float
    """n_bg of the region / n_ref: its network charge in units of e n_ref."""
    permittivity: float
    """eps_r of the region / the reference eps_r."""
    laws: Sequence[DiffusionLaw]
    """D / D_ref of every species (in the order of the mixed space) vs n / n_bg(region)."""


class Materials:
    """The materials of a domain, as UFL coefficients."""

    def __init__(
        self, domain: Domain, materials: Sequence[Material], native_charge: float = 1.0
    ) -> None:
        self.domain = domain
        self.materials = list(materials)
        self.native_charge = float(native_charge)
        mesh = domain.mesh
        self._ops = ufl_ops(mesh)
        self._density = [fem.Constant(mesh, float(m.density)) for m in self.materials]
        self._charge = fem.Constant(mesh, self.native_charge)
        self._permittivity = [fem.Constant(mesh, float(m.permittivity)) for m in self.materials]
        self._indicators: list[fem.Function] | None = None
        if len(self.materials) > 1:
            self._indicators = [self._indicator(m.tag) for m in self.materials]

    @property
    def single(self) -> bool:
        """Whether one material fills the domain."""
        return self._indicators is None

    def _indicator(self, tag: int) -> fem.Function:
        mesh = self.domain.mesh
        V0 = fem.functionspace(mesh, ("DG", 0))
        chi = fem.Function(V0)
        cells = self.domain.cell_tags.find(tag)
        chi.x.array[V0.dofmap.list[cells].ravel()] = 1.0
        chi.x.scatter_forward()
        return chi

    def _combine(self, values: Sequence):
        if self._indicators is None:
            return values[0]
        return sum(chi * value for chi, value in zip(self._indicators, values, strict=True))

    @property
    def background(self):
        """Network charge density in units of e n_ref (UFL): z_native n_bg / n_ref."""
        return self._charge * self._combine(self._density)

    def permittivity(self):
        """Permittivity relative to the reference (UFL, constant on each cell)."""
        return self._combine(self._permittivity)

    def diffusion(self, species: int, c_mean, c_low):
        """D / D_ref of ``species`` at the densities c_mean, c_low (fractions of n_ref), in
        the material of the cell (UFL)."""
        values = [
            m.laws[species](c_mean / rho, self._ops, c_mobile=c_low / rho)
            for m, rho in zip(self.materials, self._density, strict=True)
        ]
        return self._combine(values)

    def immobile_levels(self, V) -> np.ndarray | None:
        """Per species, the density (fraction of n_ref) below which its ions cannot move, at
        the nodes of the P1 space V (local array; the box average over the regions around a
        node); None if no law has an immobile fraction."""
        fractions = [
            [getattr(law, "immobile_fraction", 0.0) for law in m.laws] for m in self.materials
        ]
        if not any(f > 0 for row in fractions for f in row):
            return None
        size = V.dofmap.index_map.size_local + V.dofmap.index_map.num_ghosts
        if self._indicators is None:
            m = self.materials[0]
            return np.array([np.full(size, f * m.density) for f in fractions[0]])
        cell = CellGeometry(self.domain)
        volumes = cell.box_sums(V)
        levels = []
        for i in range(len(self.materials[0].laws)):
            values = [row[i] * m.density for row, m in zip(fractions, self.materials, strict=True)]
            if not any(values):
                levels.append(np.zeros(size))
                continue
            levels.append(cell.box_sums(V, self._combine(values)) / volumes)
        return np.array(levels)

    def nodal_background(self, V) -> np.ndarray:
        """Network charge at the nodes of the P1 space V (local array), the lumped average of
        the cells around each node (neutral with the lumped space charge)."""
        if self._indicators is None:
            size = V.dofmap.index_map.size_local + V.dofmap.index_map.num_ghosts
            return np.full(size, self.native_charge * float(self.materials[0].density))
        cell = CellGeometry(self.domain)
        return cell.box_sums(V, self.background) / cell.box_sums(V)
