"""Expanding a study's `sweep:` section into cases (pure Python, no FEniCS).

A study may carry a top-level section that turns it into many cases::

    sweep:
      combine: product        # or zip (all lists of the same length); default product
      ranks_per_case: 1       # MPI ranks per case, used by the runner
      parameters:
        species.K.diffusion.D:            # a dotted key path into the study
          values: ["1e-18 m^2/s", 3e-18]  # raw values, as the study accepts them
        species.Li.diffusion.sed.fwhm:
          linear: {start: 200 meV, stop: 300 meV, num: 3}
        experiment.surface_potential:
          log: {start: 1 V, stop: 100 V, num: 3}
          label: U                        # optional short label for case names

`expand_sweep` validates the section and returns a `Sweep` with one `Case` per
combination of values. Each case has a stable name built from its values alone, e.g.
`D=1e-18m2_s__fwhm=3.204e-20__U=1`, and its own study dict (the study without `sweep`,
with the case's values set at their paths). Generated (`linear`, `log`) values are SI
floats. Problems are `StudyError`s with one line per problem, in the style of the study
loader: `study.yaml: sweep.parameters.<path>.linear.num: got 0, must be >= 1`.
"""

import copy
import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NamedTuple, Self

import numpy as np
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    Strict,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from femcait.errors import StudyError
from femcait.study.messages import describe, owner_model
from femcait.study.schema import MAX_NAME_LENGTH
from femcait.study.section import Section
from femcait.study.units import format_value, invalid, quantity_si

MAX_CASES = 1000
"""Default of `SweepSection.max_cases`."""

_LABEL = re.compile(r"[A-Za-z0-9_.-]+")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.=+-]")
_WHITESPACE = re.compile(r"\s+")
_RESERVED = {"sweep": "the sweep section", "name": "the study name"}
_KINDS = ("values", "linear", "log")


# --- the public API ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One case of a sweep: its name, the values it sets and its study dict."""

    name: str
    """Stable, filesystem-safe name, e.g. `D=1e-18m2_s__U=10`."""
    overrides: dict[str, Any]
    """The values set by this case: dotted key path -> value, in file order."""
    study: dict[str, Any]
    """The study dict of this case: no `sweep` key, every override set at its path."""


@dataclass(frozen=True)
class Sweep:
    """A study expanded into cases (a single case when it has no `sweep` section)."""

    cases: list[Case]
    """The cases, in order: product (first parameter varies slowest) or zip."""
    combine: Literal["product", "zip"]
    """How the parameters' value lists are combined."""
    ranks_per_case: int
    """MPI ranks per case."""
    parameters: list[str]
    """The swept key paths, in file order (empty without a `sweep` section)."""
    source: str = "<dict>"
    """Where the study came from, for error messages."""

    @property
    def is_sweep(self) -> bool:
        """Whether the study has a `sweep` section."""
        return bool(self.parameters)

    def case(self, name: str) -> Case:
        """The case called `name`; raise `StudyError` listing some names if there is none."""
        for case in self.cases:
            if case.name == name:
                return case
        shown = ", ".join(case.name for case in self.cases[:5])
        if len(self.cases) > 5:
            shown += f", ... ({len(self.cases)} cases)"
        raise StudyError(f"{self.source}: no case named {name!r} (available: {shown})")


def expand_sweep(data: dict[str, Any], source: str = "<dict>") -> Sweep:
    """Validate the `sweep` section of a study dict and expand it into cases.

    `data` is a study as loaded from YAML (values as written); it is not modified.
    Without a `sweep` key the result is one case named after the study's `name` (or
    "case") with no overrides. Raises `StudyError` on any problem.
    """
    if data is None:
        raise StudyError(f"{source}: the study is empty")
    if not isinstance(data, dict):
        raise StudyError(
            f"{source}: the top level must be a mapping of keys, got {format_value(data)}"
        )
    base = {key: value for key, value in data.items() if key != "sweep"}
    if "sweep" not in data:
        name = data.get("name")
        single = Case(
            name=name if isinstance(name, str) and name else "case",
            overrides={},
            study=copy.deepcopy(base),
        )
        return Sweep(
            cases=[single], combine="product", ranks_per_case=1, parameters=[], source=source
        )

    section = data["sweep"]
    try:
        spec = SweepSection.model_validate(section)
    except ValidationError as exc:
        lines = [f"{source}: {_describe(error, section)}" for error in exc.errors()]
        raise StudyError("\n".join(lines)) from None

    paths = list(spec.parameters)
    labels = _labels(spec, source)
    problems = [
        f"{source}: sweep.parameters.{path}: {problem}"
        for path in paths
        if (problem := _blocker(base, path)) is not None
    ]
    if problems:
        raise StudyError("\n".join(problems))

    lengths = [spec.parameters[path].count() for path in paths]
    if spec.combine == "zip" and len(set(lengths)) > 1:
        counts = ", ".join(f"{p}: {n}" for p, n in zip(paths, lengths, strict=True))
        raise StudyError(
            f"{source}: sweep.combine: got 'zip', but the parameters have different "
            f"numbers of values ({counts}); zip needs the same number for each"
        )
    count = lengths[0] if spec.combine == "zip" else math.prod(lengths)
    if count > spec.max_cases:
        raise StudyError(
            f"{source}: sweep.max_cases: the sweep has {count} cases, more than the limit "
            f"{spec.max_cases}; to run them all anyway, set sweep.max_cases: {count}"
        )
    value_lists = [spec.parameters[path].value_list() for path in paths]
    if spec.combine == "zip":
        combinations = list(zip(*value_lists, strict=True))
    else:
        combinations = list(itertools.product(*value_lists))

    cases: list[Case] = []
    named: dict[str, dict[str, Any]] = {}
    for combination in combinations:
        overrides = {
            path: copy.deepcopy(value) for path, value in zip(paths, combination, strict=True)
        }
        name = "__".join(f"{labels[path]}={_value_text(v)}" for path, v in overrides.items())
        if name in named:
            raise StudyError(_collision(source, name, named[name], overrides))
        if len(name) > MAX_NAME_LENGTH:
            raise StudyError(
                f"{source}: sweep: case name {format_value(name)} has {len(name)} characters, "
                f"must have at most {MAX_NAME_LENGTH}; give the parameters shorter labels "
                "(sweep.parameters.<path>.label)"
            )
        named[name] = overrides
        study = copy.deepcopy(base)
        for path, value in overrides.items():
            problem = _blocker(study, path)
            if problem is not None:
                raise StudyError(f"{source}: sweep.parameters.{path}: {problem} (case {name})")
            set_key(study, path, copy.deepcopy(value))
        cases.append(Case(name=name, overrides=overrides, study=study))
    return Sweep(
        cases=cases,
        combine=spec.combine,
        ranks_per_case=spec.ranks_per_case,
        parameters=paths,
        source=source,
    )


# --- the sweep section -------------------------------------------------------------------


class _Quantity(NamedTuple):
    """A range end: the value as written, its SI magnitude and its pint dimensionality."""

    raw: Any
    si: float
    dimension: Any  # None for a bare number (SI, fits any dimension)


def _quantity(value: Any) -> _Quantity:
    """Parse a range end: a number (SI) or a string with units such as "200 meV"."""
    expected = f"got {format_value(value)}, expected a number or a quantity with units (e.g. '5 V')"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid(expected)
    try:
        si, dimension = quantity_si(value)
    except OverflowError:
        si, dimension = math.inf, None
    except ValueError:
        raise invalid(expected) from None
    if not math.isfinite(si):
        raise invalid(f"got {format_value(value)}, must be a finite number")
    return _Quantity(value, si, dimension)


def _check_label(label: str) -> str:
    if not _LABEL.fullmatch(label):
        raise invalid(f"got {label!r}, must contain only letters, digits, '_', '.' and '-'")
    return label


def _check_path(path: str) -> str:
    parts = path.split(".")
    if not all(parts):
        raise invalid(
            f"got {path!r}, must be keys joined by single dots, none of them empty "
            "(e.g. 'species.K.diffusion.D')"
        )
    if parts[0] in _RESERVED:
        raise invalid(f"got {path!r}, {_RESERVED[parts[0]]} cannot be swept")
    return path


class _Linear(Section):
    """`num` values evenly spaced from `start` to `stop` (both included)."""

    start: Annotated[Any, BeforeValidator(_quantity)]
    """First value: a number (SI) or a string with a unit."""
    stop: Annotated[Any, BeforeValidator(_quantity)]
    """Last value, of the same dimension as start."""
    num: Annotated[int, Strict(), Field(ge=1)]
    """Number of values."""

    @model_validator(mode="after")
    def _same_dimension(self) -> Self:
        start, stop = self.start.dimension, self.stop.dimension
        if start is not None and stop is not None and start != stop:
            raise invalid(
                f"got {format_value(self.stop.raw)}, must have the same dimension as "
                f"start ({format_value(self.start.raw)})",
                "stop",
            )
        return self

    def generate(self) -> list[float]:
        """The values as SI floats."""
        return [float(v) for v in np.linspace(self.start.si, self.stop.si, self.num)]


class _Log(_Linear):
    """`num` values evenly spaced on a log scale from `start` to `stop` (both > 0)."""

    @model_validator(mode="after")
    def _positive(self) -> Self:
        for key in ("start", "stop"):
            end: _Quantity = getattr(self, key)
            if end.si <= 0:
                raise invalid(f"got {format_value(end.raw)}, must be > 0 for a log sweep", key)
        return self

    def generate(self) -> list[float]:
        """The values as SI floats."""
        return [float(v) for v in np.geomspace(self.start.si, self.stop.si, self.num)]


class _Parameter(Section):
    """One swept key path: exactly one of `values`, `linear` or `log`."""

    values: Annotated[list[Any], Field(min_length=1)] | None = None
    """The values, as the study accepts them (e.g. ["1e-18 m^2/s", 3e-18])."""
    linear: _Linear | None = None
    """Evenly spaced values."""
    log: _Log | None = None
    """Values evenly spaced on a log scale."""
    label: Annotated[str, AfterValidator(_check_label)] | None = None
    """Short label in case names (default: the shortest unique end of the key path)."""

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [kind for kind in _KINDS if getattr(self, kind) is not None]
        if not given:
            raise invalid("missing values, linear or log: must have exactly one of them")
        if len(given) > 1:
            got = " and ".join(given)
            raise invalid(f"got {got}, must have exactly one of values, linear, log")
        return self

    def count(self) -> int:
        """The number of values (without generating them)."""
        if self.values is not None:
            return len(self.values)
        spaced = self.linear if self.linear is not None else self.log
        assert spaced is not None
        return spaced.num

    def value_list(self) -> list[Any]:
        """The values of this parameter, raw (`values`) or SI floats (`linear`, `log`)."""
        if self.values is not None:
            return list(self.values)
        spaced = self.linear if self.linear is not None else self.log
        assert spaced is not None
        return spaced.generate()


class SweepSection(Section):
    """The `sweep:` section of a study: the parameters that vary from case to case."""

    combine: Literal["product", "zip"] = "product"
    """Every combination of the values ("product") or the i-th values together ("zip")."""
    ranks_per_case: Annotated[int, Strict(), Field(ge=1)] = 1
    """MPI ranks per case (the ranks are split into groups of this size)."""
    parameters: Annotated[
        dict[Annotated[str, AfterValidator(_check_path)], _Parameter], Field(min_length=1)
    ]
    """Swept values by dotted key path of the study (e.g. species.K.diffusion.D)."""
    max_cases: Annotated[int, Strict(), Field(ge=1)] = MAX_CASES
    """Most cases the sweep may have (raise it for a larger sweep)."""


def _describe(error: ErrorDetails, section: Any) -> str:
    """One line for a pydantic error in the sweep section: key path, value, what is allowed."""
    path = list(error["loc"])
    path, message = describe(error, section, path, owner_model(SweepSection, path))
    return ".".join(["sweep", *map(str, path)]) + f": {message}"


# --- labels, names and paths -------------------------------------------------------------


def _labels(spec: SweepSection, source: str) -> dict[str, str]:
    """Each path's label: its `label`, else its shortest dotted suffix unique among the paths."""
    paths = list(spec.parameters)
    labels: dict[str, str] = {}
    problems: list[str] = []
    owners: dict[str, str] = {}
    for path in paths:
        explicit = spec.parameters[path].label
        label = explicit if explicit is not None else _unique_suffix(path, paths)
        if explicit is None and not _LABEL.fullmatch(label):
            problems.append(
                f"{source}: sweep.parameters.{path}: the label {label!r} taken from the path "
                "may contain only letters, digits, '_', '.' and '-'; give a label (label: ...)"
            )
        labels[path] = label
    # explicit labels are checked after the automatic ones, so that they get the blame
    for path in sorted(paths, key=lambda p: spec.parameters[p].label is not None):
        label = labels[path]
        if label in owners:
            where = ".label" if spec.parameters[path].label is not None else ""
            problems.append(
                f"{source}: sweep.parameters.{path}{where}: got label {label!r}, already "
                f"the label of {owners[label]}; labels must differ"
            )
        owners.setdefault(label, path)
    if problems:
        raise StudyError("\n".join(problems))
    return labels


def _unique_suffix(path: str, paths: list[str]) -> str:
    """The shortest dotted suffix of `path` that no other path ends with (else the path)."""
    parts = path.split(".")
    others = [other.split(".") for other in paths if other != path]
    for size in range(1, len(parts) + 1):
        suffix = parts[-size:]
        if not any(other[-size:] == suffix for other in others):
            return ".".join(suffix)
    return path


def _value_text(value: Any) -> str:
    """A value as it appears in a case name (filesystem-safe)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, int | float):
        try:
            text = f"{value:.4g}"
        except OverflowError:  # an int too large for a float
            text = str(value)
    elif isinstance(value, str):
        text = _WHITESPACE.sub("", value).replace("^", "").replace("/", "_")
    else:
        text = _WHITESPACE.sub("", json.dumps(value, separators=(",", ":"), default=str))
    return _UNSAFE.sub("_", text)


def _collision(source: str, name: str, first: dict[str, Any], second: dict[str, Any]) -> str:
    """The message for two cases that get the same name."""

    def key(value: Any) -> tuple[type, str]:
        return type(value), repr(value)

    differing = [path for path in first if key(first[path]) != key(second[path])]
    advice = "values must differ in their first 4 significant digits, and none may repeat"
    if len(differing) == 1:
        path = differing[0]
        return (
            f"{source}: sweep.parameters.{path}: values {format_value(first[path])} and "
            f"{format_value(second[path])} both give the case name {name!r}; {advice}"
        )
    details = "; ".join(
        f"{path}: {format_value(first[path])} and {format_value(second[path])}"
        for path in differing or list(first)
    )
    return f"{source}: sweep.parameters: two cases get the same name {name!r} ({details}); {advice}"


def _blocker(study: dict[str, Any], path: str) -> str | None:
    """Why `path` cannot be set in `study`, or None if it can."""
    parts = path.split(".")
    node: Any = study
    for index, key in enumerate(parts[:-1]):
        node = node.get(key)
        if node is None:
            return None  # the rest is created
        if not isinstance(node, dict):
            where = ".".join(parts[: index + 1])
            return f"cannot set this key: {where} is {format_value(node)}, not a mapping"
    return None


def set_key(study: dict[str, Any], path: str, value: Any) -> None:
    """Set `value` at the dotted `path`, creating missing (or null) mappings on the way."""
    *parents, last = path.split(".")
    node = study
    for key in parents:
        if node.get(key) is None:
            node[key] = {}
        node = node[key]
    node[last] = value
