"""The fit file: experiments (a study and its measured profile), free parameters by key
path, the depth resolution and the residual (SI units; values may carry units)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BeforeValidator, Field, ValidationError, model_validator

from femcait.errors import StudyError
from femcait.study.messages import describe, owner_model
from femcait.study.section import Section
from femcait.study.units import (
    Length,
    NonNegativeLength,
    Number,
    PositiveLength,
    PositiveNumber,
    PositiveSpeed,
    PositiveTime,
    invalid,
    si_magnitude,
)


def _si(value: Any) -> float:
    if isinstance(value, bool):
        raise invalid(f"got {value!r}, expected a number (with units or SI)")
    try:
        return si_magnitude(value)
    except (TypeError, ValueError):
        raise invalid(f"got {value!r}, expected a number (with units or SI)") from None


SI = Annotated[float, BeforeValidator(_si)]
"""A number in SI units, or a string with units converted to SI."""


class Measured(Section):
    """A measured depth profile: a CSV file with a header row."""

    file: str
    """CSV file, relative to the fit file."""
    depth_column: str | None = None
    """Column of the depth below the surface (or give `time_column` and `sputter_rate`)."""
    depth_unit: PositiveLength = 1.0
    """Length of one unit of the depth column, in m (e.g. '1 nm')."""
    time_column: str | None = None
    """Column of the sputter time, instead of a depth column: depth = time x sputter_rate."""
    time_unit: PositiveTime = 1.0
    """Duration of one unit of the time column, in s (e.g. '1 min')."""
    sputter_rate: PositiveSpeed | None = None
    """Sputter rate in m/s (e.g. '0.05 nm/s'); its error is what `depth.scale` fits."""
    species: dict[str, str] = Field(min_length=1)
    """Species name -> column of its fraction n / n_bg."""
    floor: Annotated[Number, Field(ge=0)] = 0.0
    """Detection floor (fraction of n_bg): a measured value at or below it says only that
    the true value is not above it."""
    window: tuple[NonNegativeLength, PositiveLength] | None = None
    """Depth range used in the fit, in m (default: all rows)."""
    signals: dict[str, Annotated[float, Field(gt=0)] | Literal["bulk"]] | None = None
    """The species columns hold raw signals (e.g. SIMS counts), not fractions: per species,
    the signal that means n_bg, or "bulk": its mean signal inside `bulk_window` (the pristine
    glass, where the native species is at n_bg). Null: the columns are fractions. The
    floor is a fraction either way."""
    bulk_window: tuple[NonNegativeLength, PositiveLength] | None = None
    """Depth range of the pristine bulk, in m (measured depths), for "bulk" signals."""

    @model_validator(mode="after")
    def _check_window(self) -> Self:
        by_time = self.time_column is not None or self.sputter_rate is not None
        if by_time and self.depth_column is not None:
            raise invalid("got both depth_column and a sputter time; give one", "depth_column")
        if by_time and (self.time_column is None or self.sputter_rate is None):
            missing = "sputter_rate" if self.sputter_rate is None else "time_column"
            raise invalid(f"a depth from the sputter time needs {missing} too", missing)
        if not by_time and self.depth_column is None:
            raise invalid(
                "no depth: give depth_column, or time_column and sputter_rate", "depth_column"
            )
        for key in ("window", "bulk_window"):
            span = getattr(self, key)
            if span is not None and span[0] >= span[1]:
                raise invalid(f"got [{span[0]:g}, {span[1]:g}] m, the start must be < the end", key)
        for name, level in (self.signals or {}).items():
            if name not in self.species:
                raise invalid(
                    f"got species {name!r}, must be one of the measured species "
                    f"({', '.join(self.species)})",
                    f"signals.{name}",
                )
            if level == "bulk" and self.bulk_window is None:
                raise invalid(
                    f"{name} is normalised to the bulk, but no bulk_window is given", "signals"
                )
        return self


class Experiment(Section):
    """One experiment: a study file and its measured profile at the study's end time."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    """Short name (letters, digits, _ and -)."""
    study: str
    """Study file, relative to the fit file."""
    measured: Measured
    """The measured profile."""


class Parameter(Section):
    """A free parameter, at a study key path (all experiments whose study has it, or one:
    'NAME:path'), or `resolution.sigma`, `resolution.mixing`, `resolution.information`,
    `depth.offset`, `depth.scale`."""

    min: SI
    """Lower bound (SI, or with units)."""
    max: SI
    """Upper bound."""
    log: bool = False
    """Fit the logarithm (for quantities spanning decades, e.g. D)."""
    initial: SI | None = None
    """Starting value (default: the study's value, or the resolution's)."""

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        if not self.min < self.max:
            raise invalid(f"got {self.min:g}, must be < max ({self.max:g})", "min")
        if self.log and self.min <= 0:
            raise invalid(f"got {self.min:g}, a log parameter needs min > 0", "min")
        if self.initial is not None and not self.min <= self.initial <= self.max:
            raise invalid(
                f"got {self.initial:g}, must lie in [{self.min:g}, {self.max:g}]", "initial"
            )
        return self


class Resolution(Section):
    """Depth resolution of the measurement, Hofmann's mixing-roughness-information (MRI)
    model: the simulated profile is convolved with a Gaussian (roughness), an exponential
    reaching `mixing` ahead of the sputter front (atomic mixing), and an exponential of
    decay length `information` (information depth) before it is compared."""

    sigma: NonNegativeLength = 0.0
    """Standard deviation of the Gaussian (roughness) in m (0: none)."""
    mixing: NonNegativeLength = 0.0
    """Mixing length w in m (0: none): material down to w below the sputter front is mixed
    and sputtered from the top."""
    information: NonNegativeLength = 0.0
    """Information depth lambda in m (0: none; for SIMS usually 0)."""


class DepthCalibration(Section):
    """How a measured depth maps to the depth in the sample: offset + scale x measured
    depth (SIMS depths come from a sputter time and an assumed rate, and the first points
    from a surface transient). Fixed unless `depth.offset` / `depth.scale` are parameters,
    shared, or per experiment as 'NAME:depth.offset'."""

    offset: Length = 0.0
    """Depth in the sample of the measured depth 0, in m (positive: the first measured
    point lies deeper than its depth column says)."""
    scale: PositiveNumber = 1.0
    """Depth in the sample per measured depth (1.05: the measured depths are 5 % short,
    e.g. the sputter rate was taken 5 % too low)."""


class FitFile(Section):
    """A fit of simulated to measured depth profiles."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")
    """Name of the fit (default output folder results/<name>)."""
    experiments: list[Experiment] = Field(min_length=1)
    """The experiments fitted together."""
    parameters: dict[str, Parameter] = Field(min_length=1)
    """Free parameters by key path."""
    resolution: Resolution = Resolution()
    """Depth resolution (fixed unless its keys are parameters)."""
    depth: DepthCalibration = DepthCalibration()
    """Calibration of the measured depths (fixed unless fitted)."""
    residual: Literal["linear", "log", "poisson"] = "linear"
    """Residual per point: model - measured (fractions), the difference of their natural
    logarithms (both taken at least at the floor), or, for counts (every species measured
    as `signals`), model - measured in counts over the counting noise sqrt(counts)."""
    max_forward_runs: int = Field(default=200, ge=1)
    """Most forward runs per experiment before the fit stops."""

    @model_validator(mode="after")
    def _check_names(self) -> Self:
        names = [e.name for e in self.experiments]
        if len(set(names)) != len(names):
            raise invalid(f"names must differ, got {names}", "experiments")
        if self.residual == "poisson":
            for index, experiment in enumerate(self.experiments):
                measured = experiment.measured
                counted = set(measured.signals or {})
                if missing := [name for name in measured.species if name not in counted]:
                    raise invalid(
                        f"got 'poisson', which needs counts, but experiment "
                        f"{experiment.name!r} measures {', '.join(missing)} as fractions "
                        f"(give experiments.{index}.measured.signals)",
                        "residual",
                    )
        return self


def fit_from_dict(data: Any, source: str) -> FitFile:
    """Validate a fit file's content; `StudyError` naming the key and value."""
    if not isinstance(data, dict):
        raise StudyError(f"{source}: the top level must be a mapping, got {type(data).__name__}")
    try:
        return FitFile.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            path = list(error["loc"])
            path, message = describe(error, data, path, owner_model(FitFile, path))
            lines.append(f"{source}: {'.'.join(map(str, path))}: {message}")
        raise StudyError("\n".join(lines)) from None
