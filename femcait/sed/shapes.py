"""Site-energy distribution shapes with closed-form quantiles: Gaussian, logistic, uniform.

Every shape offers the normalised density g(E) (1/eV), its CDF and the quantile (the
energy below which a fraction p of the sites lies) for NumPy and UFL, plus its FWHM and an
energy window holding all but a negligible part of it. Energies are in eV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from femcait.sed.backend import NUMPY_OPS, Field, Ops
from femcait.sed.normal_quantile import normal_quantile
from femcait.sed.special import expit, ndtr

FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
"""FWHM / sigma of a Gaussian."""

FWHM_PER_LOGISTIC_SCALE = 2.0 * math.log(3.0 + 2.0 * math.sqrt(2.0))
"""FWHM / s of a logistic density exp(-z) / (s (1 + exp(-z))^2), z = (E - centre) / s."""

P_FLOOR = 1e-300
"""Site fractions are kept at least this far from 0 and 1 before a logarithm is taken."""


def _array(E: npt.ArrayLike) -> npt.NDArray[np.float64]:
    return np.asarray(E, dtype=float)


@dataclass(frozen=True)
class GaussianShape:
    """Gaussian density of site energies.

    Attributes:
        sigma_eV: Standard deviation, eV (> 0).
        centre_eV: Mean, eV.
    """

    sigma_eV: float
    centre_eV: float = 0.0

    def __post_init__(self) -> None:
        if not self.sigma_eV > 0.0:
            raise ValueError(f"sigma_eV must be > 0, got {self.sigma_eV!r}")

    @classmethod
    def from_fwhm(cls, fwhm_eV: float, centre_eV: float = 0.0) -> GaussianShape:
        """The Gaussian of a given full width at half maximum."""
        return cls(fwhm_eV / FWHM_PER_SIGMA, centre_eV)

    @property
    def fwhm_eV(self) -> float:
        """Full width at half maximum, eV."""
        return self.sigma_eV * FWHM_PER_SIGMA

    def density(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Normalised density, 1/eV."""
        z = (_array(E) - self.centre_eV) / self.sigma_eV
        return np.exp(-0.5 * z * z) / (self.sigma_eV * math.sqrt(2.0 * math.pi))

    def cdf(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Fraction of sites below E."""
        return ndtr((_array(E) - self.centre_eV) / self.sigma_eV)

    def quantile(self, p: Field, ops: Ops = NUMPY_OPS) -> Field:
        """Energy below which a fraction ``p`` (0 < p < 1) of the sites lies (Acklam probit)."""
        return ops.constant(self.centre_eV) + ops.constant(self.sigma_eV) * normal_quantile(p, ops)

    def energy_window(self) -> tuple[float, float]:
        """Energies outside which the density is below 1e-15 of its peak."""
        half = 8.3 * self.sigma_eV
        return self.centre_eV - half, self.centre_eV + half


@dataclass(frozen=True)
class LogisticShape:
    """Logistic density of site energies (a Gaussian-like bell with exponential tails).

    Attributes:
        scale_eV: Scale s, eV (> 0); FWHM = 2 ln(3 + 2 sqrt 2) s = 3.525 s.
        centre_eV: Centre, eV.
    """

    scale_eV: float
    centre_eV: float = 0.0

    def __post_init__(self) -> None:
        if not self.scale_eV > 0.0:
            raise ValueError(f"scale_eV must be > 0, got {self.scale_eV!r}")

    @classmethod
    def from_fwhm(cls, fwhm_eV: float, centre_eV: float = 0.0) -> LogisticShape:
        """The logistic density of a given full width at half maximum."""
        return cls(fwhm_eV / FWHM_PER_LOGISTIC_SCALE, centre_eV)

    @property
    def fwhm_eV(self) -> float:
        """Full width at half maximum, eV."""
        return self.scale_eV * FWHM_PER_LOGISTIC_SCALE

    def density(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Normalised density, 1/eV (written with cosh, finite for any E)."""
        z = np.minimum(np.abs(_array(E) - self.centre_eV) / self.scale_eV, 1400.0)
        return 1.0 / (4.0 * self.scale_eV * np.cosh(0.5 * z) ** 2)

    def cdf(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Fraction of sites below E."""
        return expit((_array(E) - self.centre_eV) / self.scale_eV)

    def quantile(self, p: Field, ops: Ops = NUMPY_OPS) -> Field:
        """Energy below which a fraction ``p`` (0 < p < 1) of the sites lies."""
        lower = ops.maximum(p, P_FLOOR)
        upper = ops.maximum(1.0 - p, P_FLOOR)
        scale = ops.constant(self.scale_eV)
        return ops.constant(self.centre_eV) + scale * (ops.log(lower) - ops.log(upper))

    def energy_window(self) -> tuple[float, float]:
        """Energies outside which the density is below 1e-15 of its peak."""
        half = 36.0 * self.scale_eV
        return self.centre_eV - half, self.centre_eV + half


@dataclass(frozen=True)
class UniformShape:
    """Uniform (box) density of site energies between two energies.

    Attributes:
        low_eV, high_eV: Edges of the box, eV (low < high); FWHM = high - low.
    """

    low_eV: float
    high_eV: float

    def __post_init__(self) -> None:
        if not self.high_eV > self.low_eV:
            raise ValueError(f"need low_eV < high_eV, got {self.low_eV!r}, {self.high_eV!r}")

    @classmethod
    def from_width(cls, width_eV: float, centre_eV: float = 0.0) -> UniformShape:
        """The box of a given width around a centre."""
        return cls(centre_eV - 0.5 * width_eV, centre_eV + 0.5 * width_eV)

    @property
    def width_eV(self) -> float:
        """Width of the box, eV."""
        return self.high_eV - self.low_eV

    @property
    def fwhm_eV(self) -> float:
        """Full width at half maximum (the width), eV."""
        return self.width_eV

    def density(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Normalised density, 1/eV: 1/width inside the box (edges included), 0 outside."""
        E = _array(E)
        inside = (self.low_eV <= E) & (self.high_eV >= E)
        return np.where(inside, 1.0 / self.width_eV, 0.0)

    def cdf(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Fraction of sites below E."""
        return np.clip((_array(E) - self.low_eV) / self.width_eV, 0.0, 1.0)

    def quantile(self, p: Field, ops: Ops = NUMPY_OPS) -> Field:
        """Energy below which a fraction ``p`` of the sites lies (p clamped to [0, 1])."""
        fraction = ops.minimum(ops.maximum(p, 0.0), 1.0)
        return ops.constant(self.low_eV) + ops.constant(self.width_eV) * fraction

    def energy_window(self) -> tuple[float, float]:
        """The box with a margin of 5 % of its width on each side."""
        margin = 0.05 * self.width_eV
        return self.low_eV - margin, self.high_eV + margin
