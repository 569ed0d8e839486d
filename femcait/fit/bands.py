"""Uncertainty bands of the fitted D(n) and populated SED: the laws of parameter sets drawn
from the fit's (linearised) distribution.

The fit reports values, standard errors and correlations of the parameters in the
optimiser's scaled coordinates (linear, or log10 for `log` parameters), where the normal
approximation holds best: the draws are made there, clipped to the bounds, and each
draw's study gives its D(n) over n / n_bg and, for an SED law, its PSED on a common energy
grid. The band is the 16th to 84th percentile at every point (one standard deviation of a
normal distribution), around the median.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from femcait.errors import StudyError
from femcait.fit.fitting import ExperimentData, FitResult, FreeParameter, study_with
from femcait.sed import NUMPY_OPS, SEDDiffusion
from femcait.study import study_from_dict

DRAWS = 200
"""Parameter sets drawn for a band."""

FRACTIONS = np.logspace(-6.0, 0.0, 241)
"""n / n_bg at which D(n) is banded."""

ENERGY_SAMPLES = 400
"""Energies of the PSED band."""

PERCENTILES = (16.0, 50.0, 84.0)
"""Lower edge, middle and upper edge of a band."""


@dataclass(frozen=True)
class Band:
    """A curve's percentiles over ``x``: rows low, median, high."""

    x: np.ndarray
    low: np.ndarray
    median: np.ndarray
    high: np.ndarray


@dataclass(frozen=True)
class SpeciesBands:
    """D(n) (m^2/s over n / n_bg) and, for an SED law, the PSED (n_bg/eV over eV)."""

    name: str
    diffusion: Band
    psed: Band | None


def draws(parameters: list[FreeParameter], result: FitResult, seed: int = 0) -> np.ndarray:
    """Parameter values (rows) drawn from the fit's normal distribution in the scaled
    coordinates, within the bounds."""
    x = np.array([p.scaled(v) for p, v in zip(parameters, result.values, strict=True)])
    per_x = np.array(
        [p.value_stderr(v, 1.0) for p, v in zip(parameters, result.values, strict=True)]
    )
    x_stderr = np.divide(result.stderr, per_x, out=np.zeros(len(per_x)), where=per_x > 0)
    correlation = np.nan_to_num(result.correlation)
    np.fill_diagonal(correlation, 1.0)
    covariance = correlation * np.outer(x_stderr, x_stderr)
    rng = np.random.default_rng(seed)
    sample = rng.multivariate_normal(x, covariance, size=DRAWS, method="eigh")
    lower = np.array([p.scaled(p.spec.min) for p in parameters])
    upper = np.array([p.scaled(p.spec.max) for p in parameters])
    sample = np.clip(sample, lower, upper)
    return np.array(
        [[p.value(xi) for p, xi in zip(parameters, row, strict=True)] for row in sample]
    )


def species_bands(
    experiment: ExperimentData, parameters: list[FreeParameter], values: np.ndarray
) -> list[SpeciesBands]:
    """Bands of every species whose D law the parameters change (rows of ``values``: the
    drawn parameter sets)."""
    laws = []
    for row in values:
        data = study_with(experiment, parameters, row)
        try:
            study = study_from_dict(data, experiment.source, experiment.study_dir)
        except StudyError:
            continue  # a draw beyond what the study allows: left out of the band
        laws.append(study.diffusion_laws)
    if not laws:
        return []
    bands = []
    for name in laws[0]:
        curves = np.array(
            [np.broadcast_to(d[name](FRACTIONS, NUMPY_OPS), FRACTIONS.shape) for d in laws]
        )
        if np.allclose(curves, curves[0], rtol=1e-12, atol=0):
            continue  # not changed by the fit
        diffusion = _band(FRACTIONS, curves)
        psed = None
        if all(isinstance(d[name], SEDDiffusion) for d in laws):
            psed = _psed_band([d[name] for d in laws])
        bands.append(SpeciesBands(name, diffusion, psed))
    return bands


def _band(x: np.ndarray, curves: np.ndarray) -> Band:
    low, median, high = np.percentile(curves, PERCENTILES, axis=0)
    return Band(x, low, median, high)


def _psed_band(laws: list[SEDDiffusion]) -> Band:
    """The PSEDs (site density up to the bulk Fermi level, zero above) on one grid."""
    windows = [law.sed.shape.energy_window() for law in laws]
    E = np.linspace(min(w[0] for w in windows), max(w[1] for w in windows), ENERGY_SAMPLES)
    curves = []
    for law in laws:
        sed = law.sed
        above = sed.bulk_fermi_level_eV < E  # empty sites
        curves.append(np.where(above, 0.0, sed.site_density(E)))
    return _band(E, np.array(curves))
