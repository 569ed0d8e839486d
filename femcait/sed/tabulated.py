"""A site-energy density given as a table (energy, density), e.g. read from a CSV file."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from femcait.sed.backend import NUMPY_OPS, Field, Ops
from femcait.sed.piecewise import select
from femcait.sed.widths import fwhm_of_samples


@dataclass(frozen=True)
class TabulatedShape:
    """Piecewise-linear density through the table's points, zero outside, normalised to 1.

    The CDF is then piecewise quadratic and the quantile has a closed form on every
    interval, selected by a balanced tree of comparisons (exact in NumPy and UFL).

    Attributes:
        energies_eV: Strictly increasing energies, eV (at least 2).
        densities: Densities (any unit; >= 0 at the ends, > 0 in between).
    """

    energies_eV: tuple[float, ...]
    densities: tuple[float, ...]
    _E: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)
    _g: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)
    _P: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        E = np.asarray(self.energies_eV, dtype=float)
        g = np.asarray(self.densities, dtype=float)
        if E.ndim != 1 or E.size < 2 or E.size != g.size:
            raise ValueError("energies_eV and densities need the same length >= 2")
        if not np.all(np.isfinite(E)) or not np.all(np.diff(E) > 0.0):
            raise ValueError("energies_eV must be finite and strictly increasing")
        if not np.all(np.isfinite(g)) or np.any(g < 0.0) or np.any(g[1:-1] <= 0.0):
            raise ValueError("densities must be finite, >= 0 at the ends and > 0 in between")
        area = np.sum(0.5 * (g[1:] + g[:-1]) * np.diff(E))
        g = g / area
        P = np.concatenate([[0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(E))])
        P[-1] = 1.0
        object.__setattr__(self, "_E", E)
        object.__setattr__(self, "_g", g)
        object.__setattr__(self, "_P", P)

    def density(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Normalised density, 1/eV (0 outside the table)."""
        return np.interp(np.asarray(E, dtype=float), self._E, self._g, left=0.0, right=0.0)

    def cdf(self, E: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Fraction of sites below E."""
        E = np.clip(np.asarray(E, dtype=float), self._E[0], self._E[-1])
        i = np.clip(np.searchsorted(self._E, E, side="right") - 1, 0, self._E.size - 2)
        t = E - self._E[i]
        slope = (self._g[i + 1] - self._g[i]) / (self._E[i + 1] - self._E[i])
        return self._P[i] + t * (self._g[i] + 0.5 * slope * t)

    def quantile(self, p: Field, ops: Ops = NUMPY_OPS) -> Field:
        """Energy below which a fraction ``p`` of the sites lies (p clamped to [0, 1]).

        On interval i: ``E = E_i + 2 dp / (g_i + sqrt(g_i^2 + 2 s_i dp))`` with
        ``dp = p - P_i`` and ``s_i`` the slope of the density, the cancellation-free root
        of ``P_i + g_i t + s_i t^2 / 2 = p``.
        """
        p = ops.minimum(ops.maximum(p, 0.0), 1.0)
        slopes = np.diff(self._g) / np.diff(self._E)
        inner = list(self._P[1:-1])
        E0, P0, g0, s0 = (
            select(p, inner, list(column), ops)
            for column in (self._E[:-1], self._P[:-1], self._g[:-1], slopes)
        )
        dp = p - P0
        root = ops.sqrt(ops.maximum(g0 * g0 + 2.0 * s0 * dp, 0.0))
        return E0 + 2.0 * dp / ops.maximum(g0 + root, 1e-300)

    def energy_window(self) -> tuple[float, float]:
        """The table's energy range with a margin of 5 % on each side."""
        margin = 0.05 * (self._E[-1] - self._E[0])
        return float(self._E[0] - margin), float(self._E[-1] + margin)

    @property
    def fwhm_eV(self) -> float:
        """Distance between the outermost half-maximum energies, eV (exact for the table)."""
        return fwhm_of_samples(self._E, self._g)
