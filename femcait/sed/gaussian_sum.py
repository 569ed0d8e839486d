"""A weighted sum of Gaussian site-energy densities (e.g. two kinds of sites)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from femcait.sed.backend import NUMPY_OPS, Field, Ops
from femcait.sed.probit_hermite import ProbitHermiteQuantile
from femcait.sed.shapes import FWHM_PER_SIGMA
from femcait.sed.special import ndtr
from femcait.sed.widths import fwhm_of_samples

_BISECTIONS = 120


@dataclass(frozen=True)
class GaussianSumShape:
    """``g(E) = sum_k w_k N(E; centre_k, sigma_k)`` with the weights normalised to sum 1.

    The quantile is a cubic Hermite interpolant in probit space (accurate to ~2e-9 eV,
    i.e. D to 1e-7 relative at 300 K),
    built from an exact bisection on the CDF (or on the complementary CDF in the upper
    half, so that the upper tail keeps full precision).

    Attributes:
        weights: Relative weights (> 0), normalised on construction.
        sigmas_eV: Standard deviations, eV (> 0).
        centres_eV: Centres, eV.
    """

    weights: tuple[float, ...]
    sigmas_eV: tuple[float, ...]
    centres_eV: tuple[float, ...]
    _w: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not len(self.weights) == len(self.sigmas_eV) == len(self.centres_eV) >= 1:
            raise ValueError("weights, sigmas_eV and centres_eV need the same length >= 1")
        if not all(w > 0.0 for w in self.weights):
            raise ValueError(f"weights must be > 0, got {self.weights!r}")
        if not all(s > 0.0 for s in self.sigmas_eV):
            raise ValueError(f"sigmas_eV must be > 0, got {self.sigmas_eV!r}")
        w = np.asarray(self.weights, dtype=float)
        object.__setattr__(self, "_w", w / w.sum())

    def _standardised(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]:
        E = np.asarray(E, dtype=float)[..., None]
        return (E - np.asarray(self.centres_eV)) / np.asarray(self.sigmas_eV)

    def density(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Normalised density, 1/eV."""
        z = self._standardised(E)
        peaks = self._w / (np.asarray(self.sigmas_eV) * np.sqrt(2.0 * np.pi))
        return np.sum(peaks * np.exp(-0.5 * z * z), axis=-1)

    def cdf(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Fraction of sites below E."""
        return np.sum(self._w * ndtr(self._standardised(E)), axis=-1)

    def survival(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Fraction of sites above E (1 - cdf, without cancellation)."""
        return np.sum(self._w * ndtr(-self._standardised(E)), axis=-1)

    def energy_at_probit(self, z: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Exact quantile at ``p = Phi(z)``, by bisection between the components' quantiles."""
        z = np.asarray(z, dtype=float)
        p, q = ndtr(z), ndtr(-z)
        component = np.asarray(self.centres_eV) + np.asarray(self.sigmas_eV) * z[..., None]
        low, high = component.min(axis=-1), component.max(axis=-1)
        upper_half = z > 0.0
        for _ in range(_BISECTIONS):
            mid = 0.5 * (low + high)
            below = np.where(upper_half, self.survival(mid) > q, self.cdf(mid) < p)
            low, high = np.where(below, mid, low), np.where(below, high, mid)
        return 0.5 * (low + high)

    @cached_property
    def _interpolant(self) -> ProbitHermiteQuantile:
        return ProbitHermiteQuantile.build(self.energy_at_probit, self.density)

    def quantile(self, p: Field, ops: Ops = NUMPY_OPS) -> Field:
        """Energy below which a fraction ``p`` (0 < p < 1) of the sites lies."""
        return self._interpolant(p, ops)

    def energy_window(self) -> tuple[float, float]:
        """Energies outside which every component is below 1e-15 of its peak."""
        centres, sigmas = np.asarray(self.centres_eV), np.asarray(self.sigmas_eV)
        return float(np.min(centres - 8.3 * sigmas)), float(np.max(centres + 8.3 * sigmas))

    @cached_property
    def fwhm_eV(self) -> float:
        """Distance between the outermost half-maximum energies, eV."""
        low, high = self.energy_window()
        step = min(self.sigmas_eV) / 2000.0
        E = np.arange(low, high + step, step)
        return fwhm_of_samples(E, self.density(E))

    @classmethod
    def from_fwhms(
        cls, weights: tuple[float, ...], fwhms_eV: tuple[float, ...], centres_eV: tuple[float, ...]
    ) -> GaussianSumShape:
        """Components given by their FWHM instead of sigma."""
        return cls(weights, tuple(f / FWHM_PER_SIGMA for f in fwhms_eV), centres_eV)
