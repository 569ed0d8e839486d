"""Measured depth profiles, and the measurement model that maps a simulated profile onto
them: a depth resolution (Gaussian, or Hofmann's mixing-roughness-information model),
evaluated at the measured depths."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from femcait.errors import StudyError
from femcait.fit.spec import Measured
from femcait.study.csv_columns import read_columns


@dataclass(frozen=True)
class MeasuredProfile:
    """Measured fractions of n_bg at depths (m), inside the fit window, per species
    (signals divided by their level)."""

    depth_m: np.ndarray
    fractions: dict[str, np.ndarray]
    floor: float
    signal_levels: dict[str, float] = field(default_factory=dict)
    """Per species measured as a signal: the signal taken as n_bg."""

    @property
    def points(self) -> int:
        """Number of data points (depths x species)."""
        return self.depth_m.size * len(self.fractions)


def read_measured(spec: Measured, base_dir: Path, where: str) -> MeasuredProfile:
    """Read and check a measured profile; `StudyError` naming the file, row or key."""
    path = base_dir / spec.file
    if not path.is_file():
        raise StudyError(f"{where}.file: {str(path)!r} does not exist")
    axis = spec.depth_column or spec.time_column
    columns = [axis, *spec.species.values()]
    try:
        table = read_columns(path, columns)
    except ValueError as error:
        raise StudyError(f"{where}.file: {error}") from None
    if spec.depth_column is not None:
        depth = np.asarray(table[axis]) * spec.depth_unit
    else:  # sputter time times the rate
        depth = np.asarray(table[axis]) * spec.time_unit * spec.sputter_rate
    steps = np.diff(depth)
    if np.any(steps <= 0):
        row = int(np.argmax(steps <= 0)) + 3  # the header is line 1
        raise StudyError(
            f"{where}.file: {str(path)!r}: depth must increase from row to row; line {row} "
            f"has {depth[row - 2]:g} m after {depth[row - 3]:g} m"
        )
    if depth[0] < 0:
        raise StudyError(f"{where}.file: {str(path)!r}: negative depth {depth[0]:g} m")
    keep = np.ones(depth.size, dtype=bool)
    if spec.window is not None:
        keep = (depth >= spec.window[0]) & (depth <= spec.window[1])
    levels = signal_levels(spec, depth, table, f"{where}.file: {str(path)!r}")
    fractions = {
        name: np.asarray(table[column])[keep] / levels.get(name, 1.0)
        for name, column in spec.species.items()
    }
    above_floor = sum(int(np.sum(values > spec.floor)) for values in fractions.values())
    if not keep.any() or above_floor == 0:
        raise StudyError(
            f"{where}: no measured point above the floor ({spec.floor:g}) inside the window"
            f" {list(spec.window) if spec.window else ''}: nothing to fit"
        )
    for name, values in fractions.items():
        if np.any(values < 0):
            raise StudyError(f"{where}.species.{name}: negative fractions in {str(path)!r}")
    return MeasuredProfile(depth[keep], fractions, spec.floor, levels)


def signal_levels(spec: Measured, depth: np.ndarray, table, where: str) -> dict[str, float]:
    """The signal that means n_bg, per species measured as a signal (`Measured.signals`)."""
    levels: dict[str, float] = {}
    for name, level in (spec.signals or {}).items():
        if level != "bulk":
            levels[name] = float(level)
            continue
        start, end = spec.bulk_window
        inside = (depth >= start) & (depth <= end)
        values = np.asarray(table[spec.species[name]])[inside]
        if not inside.any() or not values.mean() > 0:
            raise StudyError(
                f"{where}: the bulk window [{start:g}, {end:g}] m holds "
                f"{'no row' if not inside.any() else 'no positive signal'} of {name}: "
                "nothing to normalise to"
            )
        levels[name] = float(values.mean())
    return levels


def convolved(
    depth_m: np.ndarray, values: np.ndarray, sigma_m: float, at_m: np.ndarray
) -> np.ndarray:
    """A profile seen through a Gaussian depth resolution of standard deviation ``sigma_m``,
    at the depths ``at_m``: the weighted mean over the sample (depth >= 0), the weights
    renormalised near the surface (the profile sampled every sigma / 50). Beyond the
    simulated depths the last value holds."""
    if sigma_m == 0:
        return np.interp(at_m, depth_m, values)
    step = sigma_m / 50
    grid = np.arange(0.0, float(at_m.max()) + 6 * sigma_m + step, step)
    fine = np.interp(grid, depth_m, values)
    weights = np.exp(-0.5 * ((at_m[:, None] - grid[None, :]) / sigma_m) ** 2)
    return (weights @ fine) / weights.sum(axis=1)


KERNEL_SAMPLES = 50
"""Samples of the resolution function per its shortest length..."""

KERNEL_MAX_SAMPLES = 20_000
"""...but at most this many over its whole span (lengths decades apart)."""

EXPONENTIAL_TAIL = 12.0
"""An exponential of the resolution function is cut at this many decay lengths."""


def observed(
    depth_m: np.ndarray,
    values: np.ndarray,
    sigma_m: float,
    mixing_m: float,
    information_m: float,
    at_m: np.ndarray,
) -> np.ndarray:
    """A profile seen through the mixing-roughness-information (MRI) depth resolution
    (S. Hofmann, Surf. Interface Anal. 21 (1994) 673) at the depths ``at_m``: the signal at
    sputter depth z is the integral of X(z - u) g(u) du, with g the convolution of

    * g_w(u) = exp(-(u + w) / w) / w for u >= -w (atomic mixing: the mixed zone reaches w
      ahead of the sputter front, and the material in it is sputtered from the top),
    * g_lambda(u) = exp(-u / lambda) / lambda for u >= 0 (information depth),
    * a Gaussian of standard deviation sigma (roughness),

    each left out when its length is 0. Only the sample (depth >= 0) contributes, the
    weights renormalised near the surface; beyond the simulated depths the last value
    holds. With w = lambda = 0 this is `convolved`."""
    if mixing_m == 0 and information_m == 0:
        return convolved(depth_m, values, sigma_m, at_m)
    lengths = [length for length in (sigma_m, mixing_m, information_m) if length > 0]
    span = EXPONENTIAL_TAIL * (mixing_m + information_m) + 12 * sigma_m
    step = max(min(lengths) / KERNEL_SAMPLES, span / KERNEL_MAX_SAMPLES)
    offsets, kernel = np.zeros(1), np.ones(1)  # a delta at u = 0
    parts = []
    if mixing_m > 0:
        u = np.arange(-mixing_m, (EXPONENTIAL_TAIL - 1) * mixing_m + step, step)
        parts.append((u, np.exp(-(u + mixing_m) / mixing_m)))
    if information_m > 0:
        u = np.arange(0.0, EXPONENTIAL_TAIL * information_m + step, step)
        parts.append((u, np.exp(-u / information_m)))
    if sigma_m > 0:
        u = np.arange(-6 * sigma_m, 6 * sigma_m + step, step)
        parts.append((u, np.exp(-0.5 * (u / sigma_m) ** 2)))
    for u, weights in parts:  # convolve on the common step: offsets add up
        kernel = np.convolve(kernel, weights)
        offsets = offsets[0] + u[0] + step * np.arange(kernel.size)
    sample = at_m[:, None] - offsets[None, :]  # the depth each weight looks at
    weights = np.where(sample >= 0, kernel[None, :], 0.0)
    seen = np.interp(np.maximum(sample, 0.0), depth_m, values)
    return (weights * seen).sum(axis=1) / weights.sum(axis=1)
