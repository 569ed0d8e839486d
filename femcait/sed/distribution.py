"""A site-energy distribution filled from the bottom: Fermi level and populated part (PSED)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np
import numpy.typing as npt

from femcait.sed.backend import NUMPY_OPS, Field, Ops
from femcait.sed.widths import fwhm_of_samples

PSED_SAMPLES = 20001
"""Energies at which a PSED is sampled for its FWHM."""


class Shape(Protocol):
    """What a site-energy density offers (energies in eV, density normalised to 1)."""

    @property
    def fwhm_eV(self) -> float: ...

    def density(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]: ...

    def cdf(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]: ...

    def quantile(self, p: Field, ops: Ops = NUMPY_OPS) -> Field: ...

    def energy_window(self) -> tuple[float, float]: ...


@dataclass(frozen=True)
class SiteEnergyDistribution:
    """Sites of density ``N_sites = n_bg / (1 - vacancy_fraction)`` with energies from ``shape``.

    Sites fill from the lowest energy up, so ``n`` ions put the ionic Fermi level at
    ``E_F(n)`` with ``N_sites CDF(E_F) = n``. Concentrations are fractions ``c = n / n_bg``.

    Attributes:
        shape: The normalised density of site energies.
        vacancy_fraction: Fraction of the sites empty at ``c = 1`` (0 < f_vac < 1).
    """

    shape: Shape
    vacancy_fraction: float = 0.10

    def __post_init__(self) -> None:
        if not 0.0 < self.vacancy_fraction < 1.0:
            raise ValueError(
                f"vacancy_fraction must satisfy 0 < vacancy_fraction < 1, "
                f"got {self.vacancy_fraction!r}"
            )

    @property
    def occupied_share(self) -> float:
        """``1 - f_vac``: the share of all sites filled at ``c = 1``."""
        return 1.0 - self.vacancy_fraction

    def fermi_level(self, c: Field, ops: Ops = NUMPY_OPS) -> Field:
        """Ionic Fermi level E_F (eV) at ``c = n / n_bg``, for ``0 < c < 1 / (1 - f_vac)``."""
        return self.shape.quantile(ops.constant(self.occupied_share) * c, ops)

    @cached_property
    def bulk_fermi_level_eV(self) -> float:
        """``E_F(n_bg)``: the initial Fermi level, eV."""
        return float(self.fermi_level(1.0))

    def filled_fraction(self, E_F: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The ``c`` at which the Fermi level is ``E_F`` (the inverse of `fermi_level`)."""
        return self.shape.cdf(E_F) / self.occupied_share

    def site_density(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """All sites per energy, in units of n_bg per eV: ``g(E) / (1 - f_vac)``."""
        return self.shape.density(E) / self.occupied_share

    def psed_energies(self, c_low: float = 0.0, c_high: float = 1.0) -> npt.NDArray[np.float64]:
        """Energies sampling the populated part between ``E_F(c_low)`` and ``E_F(c_high)``
        (with the defaults the PSED of the pristine glass; with ``c_low`` = the immobile
        fraction its mobile part): `site_density` there is the PSED."""
        low, _ = self.shape.energy_window()
        if c_low > 0.0:
            low = float(self.fermi_level(c_low))
        return np.linspace(low, float(self.fermi_level(c_high)), PSED_SAMPLES)

    def psed_fwhm_eV(self, c_low: float = 0.0) -> float:
        """FWHM of the populated part above ``E_F(c_low)`` (the Fermi level cuts it)."""
        E = self.psed_energies(c_low)
        return fwhm_of_samples(E, self.site_density(E))
