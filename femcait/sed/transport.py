"""Conversions of an effective (CAIT) diffusion coefficient (paper section 3.4, eqns 8-9).

``D_eff = D_CAIT = D_sigma`` (the DC conductivity diffusion coefficient) equals twice the
tracer diffusion coefficient; the diagonal Onsager coefficient is ``L_ii = D_eff n / kT``
and the partial conductivity ``sigma = z^2 e^2 n D_eff / kT``. SI units throughout.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from femcait import constants

type Values = float | npt.NDArray[np.float64]


def tracer_diffusivity(D_eff: Values) -> Values:
    """Tracer diffusion coefficient ``D* = D_eff / 2``, m^2/s."""
    return 0.5 * np.asarray(D_eff, dtype=float)


def onsager_coefficient(D_eff: Values, n: Values, temperature_K: float) -> Values:
    """Diagonal Onsager coefficient ``L_ii = D_eff n / (k_B T)``, 1/(J m s)."""
    return np.asarray(D_eff, dtype=float) * n / (constants.k * temperature_K)


def conductivity(D_eff: Values, n: Values, charge: int, temperature_K: float) -> Values:
    """Partial ionic conductivity ``z^2 e^2 n D_eff / (k_B T)``, S/m."""
    e = constants.e
    return (
        charge * charge * e * e * np.asarray(D_eff, dtype=float) * n / (constants.k * temperature_K)
    )
