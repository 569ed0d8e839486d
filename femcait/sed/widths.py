"""Full width at half maximum of a sampled density."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def fwhm_of_samples(E: npt.ArrayLike, g: npt.ArrayLike) -> float:
    """FWHM of a density sampled at increasing energies ``E``, in the unit of ``E``.

    The distance between the outermost energies where ``g`` crosses half its maximum, each
    crossing found by linear interpolation between samples. If the density still exceeds
    half its maximum at an end of the samples (e.g. a populated SED cut at the Fermi level),
    that end counts as the crossing.
    """
    E = np.asarray(E, dtype=float)
    g = np.asarray(g, dtype=float)
    half = 0.5 * float(np.max(g))
    above = np.flatnonzero(g >= half)
    first, last = int(above[0]), int(above[-1])
    low = E[first]
    if first > 0:
        low = float(np.interp(half, [g[first - 1], g[first]], [E[first - 1], E[first]]))
    high = E[last]
    if last < len(E) - 1:
        high = float(np.interp(half, [g[last + 1], g[last]], [E[last + 1], E[last]]))
    return float(high - low)
