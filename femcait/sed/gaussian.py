"""Gaussian site-energy distribution (SED) and its ionic Fermi level."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

from femcait.sed.backend import NUMPY_OPS, Field, Ops
from femcait.sed.normal_quantile import normal_quantile

_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


@dataclass(frozen=True)
class GaussianSED:
    """Gaussian distribution of site energies (eV), filled from the lowest energy up.

    Attributes:
        fwhm_eV: Full width at half maximum of the Gaussian, eV (> 0).
        vacancy_fraction: Fraction of sites empty in the bulk, ``f_vac`` (0 <= f_vac < 1);
            ``N_sites = n_bg / (1 - f_vac)``.
        centre_eV: Centre of the Gaussian, eV.
    """

    fwhm_eV: float
    vacancy_fraction: float = 0.10
    centre_eV: float = 0.0

    def __post_init__(self) -> None:
        if not self.fwhm_eV > 0.0:
            raise ValueError(f"fwhm_eV must be > 0, got {self.fwhm_eV!r}")
        if not 0.0 <= self.vacancy_fraction < 1.0:
            raise ValueError(
                f"vacancy_fraction must satisfy 0 <= vacancy_fraction < 1, "
                f"got {self.vacancy_fraction!r}"
            )

    @property
    def sigma_eV(self) -> float:
        """Standard deviation, ``fwhm / (2 sqrt(2 ln 2))``, eV."""
        return self.fwhm_eV / _FWHM_PER_SIGMA

    def density(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Normalised density g(E), 1/eV (integrates to 1 over E in eV)."""
        z = (np.asarray(E, dtype=float) - self.centre_eV) / self.sigma_eV
        return np.exp(-0.5 * z * z) / (self.sigma_eV * math.sqrt(2.0 * math.pi))

    def cdf(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Cumulative distribution: the fraction of sites with energy below E."""
        return ndtr((np.asarray(E, dtype=float) - self.centre_eV) / self.sigma_eV)

    def fermi_level(self, c: Field, ops: Ops = NUMPY_OPS) -> Field:
        """Ionic Fermi level E_F (eV) at filled fraction ``c = n / n_bg``.

        Solves ``N_sites * CDF(E_F) = n`` with ``N_sites = n_bg / (1 - f_vac)``, i.e.
        ``E_F = centre + sigma * normal_quantile((1 - f_vac) c)``. Defined for
        ``0 < c < 1 / (1 - f_vac)``; the caller clamps ``c`` into that range.
        """
        filled = (1.0 - self.vacancy_fraction) * c
        return self.centre_eV + self.sigma_eV * normal_quantile(filled, ops)
