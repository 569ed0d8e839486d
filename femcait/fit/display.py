"""Fitted values for people: SI as stored, and energies also in eV, lengths also in nm."""

from __future__ import annotations

from femcait import constants
from femcait.fit.fitting import DEPTH_OFFSET_KEY, RESOLUTION_KEYS

ENERGY_KEYS = ("fwhm", "sigma", "scale", "width", "centre", "activation_energy", "E_DC")
"""Last keys of the study's energies (SED shapes and laws; `sigma` only below `sed`)."""

LENGTH_KEYS = (*RESOLUTION_KEYS, DEPTH_OFFSET_KEY)
"""Measurement-model lengths."""


def readable(path: str, value: float, stderr: float) -> str:
    """``value +- stderr`` in SI, followed by eV or nm where the key is an energy or a
    length (a fitted FWHM of 4.0e-20 J is 0.250 eV)."""
    text = f"{value:.5g} +- {stderr:.2g}"
    key = path.rpartition(":")[2]
    last = key.rpartition(".")[2]
    if last in ENERGY_KEYS and (".sed." in f".{key}" or last in ("activation_energy", "E_DC")):
        return f"{text} ({value / constants.e:.5g} +- {stderr / constants.e:.2g} eV)"
    if key in LENGTH_KEYS:
        return f"{text} ({value * 1e9:.5g} +- {stderr * 1e9:.2g} nm)"
    return text
