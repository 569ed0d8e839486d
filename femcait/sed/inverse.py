"""From D(c) back to the Fermi level and the populated SED (docs/model.md, "The inverse:
from a D(n) table to the PSED").

``E_F(c) = E_F(1) + kT ln(D(c) / D(1))`` and the PSED is ``dc / dE_F`` (n_bg per eV):
each Fermi-level step ``dE_F`` uncovers ``dc`` ions. E_F is interpolated by a cubic spline
in ln c through the table, so the PSED (its derivative) is smooth; noise in a measured
table is amplified by the differentiation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from femcait.sed.widths import fwhm_of_samples

SAMPLES = 20001
"""Points at which the PSED is evaluated between the table's first and last c."""


@dataclass(frozen=True)
class InferredPSED:
    """The populated SED implied by a D(c) table, E_F relative to ``E_F(1) = 0``.

    Attributes:
        c: Concentrations n / n_bg (increasing).
        fermi_level_eV: E_F(c) - E_F(1), eV.
        psed: dc / dE_F, n_bg per eV.
        fwhm_eV: FWHM of the PSED, eV.
    """

    c: npt.NDArray[np.float64]
    fermi_level_eV: npt.NDArray[np.float64]
    psed: npt.NDArray[np.float64]
    fwhm_eV: float


def psed_from_diffusion(c: npt.ArrayLike, D: npt.ArrayLike, kT_eV: float) -> InferredPSED:
    """The PSED of a D(c) table (c increasing and > 0, D > 0 and increasing with c)."""
    c = np.asarray(c, dtype=float)
    D = np.asarray(D, dtype=float)
    if c.size < 4 or c.size != D.size:
        raise ValueError("the table needs at least 4 rows of (c, D)")
    if not (np.all(c > 0.0) and np.all(np.diff(c) > 0.0) and np.all(D > 0.0)):
        raise ValueError("c must be > 0 and strictly increasing, D > 0")
    from scipy.interpolate import CubicSpline  # ~0.2 s to import; a run does not need it

    x = np.log(c)
    spline = CubicSpline(x, kT_eV * np.log(D))
    grid = np.linspace(x[0], x[-1], SAMPLES)
    slope = spline(grid, 1)  # dE_F / d ln c
    if np.any(slope <= 0.0):
        raise ValueError("D must increase with c everywhere for a populated SED to exist")
    E_F = spline(grid) - float(spline(min(max(0.0, x[0]), x[-1])))
    psed = np.exp(grid) / slope
    return InferredPSED(np.exp(grid), E_F, psed, fwhm_of_samples(E_F, psed))
