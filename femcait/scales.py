"""Nondimensionalisation: the scales that turn a study's SI values into O(1) numbers.

Inside the solver, densities are fractions of n_bg, potentials are in units of kT/e,
lengths in units of ``length_unit`` (1 nm by default) and times in units of
``length_unit**2 / D_ref``, with D_ref the native bulk diffusion coefficient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from femcait import constants
from femcait.study import Study


@dataclass(frozen=True)
class Scales:
    """Reference scales of one study (all SI)."""

    length_m: float
    density_m3: float
    thermal_voltage_V: float
    diffusivity_m2_s: float
    permittivity_F_m: float

    @classmethod
    def from_study(cls, study: Study) -> Scales:
        """Scales of ``study``: D_ref is the native species' bulk (or constant) D."""
        D_ref = study.diffusion_laws[study.native].D_bulk
        return cls(
            length_m=study.mesh.length_unit,
            density_m3=study.glass.n_bg,
            thermal_voltage_V=constants.k * study.glass.temperature / constants.e,
            diffusivity_m2_s=D_ref,
            permittivity_F_m=constants.epsilon_0 * study.glass.eps_r,
        )

    @property
    def time_s(self) -> float:
        """Time unit l^2 / D_ref."""
        return self.length_m**2 / self.diffusivity_m2_s

    @property
    def kT_eV(self) -> float:
        """Thermal energy in eV (numerically equal to the thermal voltage)."""
        return self.thermal_voltage_V

    @property
    def debye_length_m(self) -> float:
        """Debye length sqrt(eps kT / (e^2 n_bg))."""
        return math.sqrt(
            self.permittivity_F_m * self.thermal_voltage_V / (constants.e * self.density_m3)
        )

    @property
    def debye_squared(self) -> float:
        """(Debye length / l)^2: the coefficient of the nondimensional Poisson equation."""
        return (self.debye_length_m / self.length_m) ** 2

    @property
    def areal_density_m2(self) -> float:
        """Unit of an inventory (integral of a fraction over depth): n_bg * l, m^-2."""
        return self.density_m3 * self.length_m

    @property
    def flux_m2_s(self) -> float:
        """Unit of a particle flux density: n_bg * l / t0, m^-2 s^-1."""
        return self.areal_density_m2 / self.time_s
