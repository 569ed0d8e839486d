"""Checks of a valid study before anything is allocated: can the solver represent it, and
what will the run cost?

`scale_problems` finds quantities whose nondimensional values overflow or vanish (a
tiny n_bg makes the Debye length astronomically long). `estimate_cost` predicts the size
of the run from the study alone, without building the mesh: the cells of the graded mesh
(counted zone by zone), the unknowns, the output times, the time steps and the size of
the output folder. `cost_problems` compares that with the study's `limits` section, so
that a run far outside the usual (a sub-picometre cell, 10^6 output times, a front that
would cross the plate) is refused up front with its estimate, the limit and the key that
raises it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from femcait import constants
from femcait.errors import StudyError
from femcait.geometry.build import lateral_layout
from femcait.geometry.mesh_file import mesh_file_size
from femcait.geometry.settings import estimated_front_depth, resolved_mesh_settings
from femcait.scales import Scales
from femcait.simulation import DT_INITIAL_DIELECTRIC, DT_MAX_DURATION
from femcait.study import Study
from femcait.study.geometry import DiscGeometry, MeshFileGeometry, RectangleGeometry
from femcait.study.schema import FIXED_FINE_CELL_M, MeshSettings

REPRESENTABLE = 1e100
"""Largest magnitude (and inverse of the smallest nonzero one) of a nondimensional number
of the equations that the solver is given."""

STEPS_PER_FRONT_CELL = 3.0
"""Time steps per mesh cell (of the default mesh) the diffusion front crosses. Estimated
and measured steps: the default study run for 3 h 587/484, for 10^7 s 2609/2114, with a
0.1 pm fine cell 779/681, paper_fig1_k 809/556, the double CAIT 402/511; with a native D
2e7 times the default's 785/8792 (fast transients, not the front, set the steps there)."""

BYTES_PER_VALUE = 25
"""Bytes per number written (CSV text; the HDF5 fields take 8)."""


def check_study(study: Study, source: str = "") -> CostEstimate:
    """Raise `StudyError` (one line per problem) if the study's scales cannot be
    represented or its estimated cost exceeds its limits; return the estimate."""
    where = f"{source}: " if source else ""
    problems = scale_problems(study)
    if problems:
        raise StudyError("\n".join(where + line for line in problems))
    estimate = estimate_cost(study)
    problems = cost_problems(study, estimate)
    if problems:
        raise StudyError("\n".join(where + line for line in problems))
    return estimate


# --- scales ------------------------------------------------------------------------------


def scale_problems(study: Study) -> list[str]:
    """Why the solver cannot represent the study (one line each; empty if it can)."""
    problems = []
    for name, species in study.species.items():
        try:
            species.diffusion.build(study.glass.temperature)
        except (ValueError, ArithmeticError) as error:
            problems.append(f"species.{name}.diffusion: cannot evaluate this law ({error})")
    if problems:
        return problems
    for keys, what, value, zero_ok in _nondimensional_numbers(study):
        if not (_representable(value) or (zero_ok and value == 0)):
            problems.append(
                f"{keys}: {what} is {value:.3g}, beyond what the solver can represent "
                "(1e-100 to 1e100 in magnitude); check the values and their units"
            )
    if problems:
        return problems
    D_ref = Scales.from_study(study).diffusivity_m2_s
    for name, law in study.diffusion_laws.items():
        try:  # the solver sees D / D_ref: every table value of it must be finite
            law.scaled(1 / D_ref)
        except (ValueError, ArithmeticError):
            problems.append(
                f"species.{name}.diffusion: its D values relative to D({study.native}) "
                f"({D_ref:.3g} m^2/s) overflow; check the values and their units"
            )
    return problems


def _representable(value: float) -> bool:
    return math.isfinite(value) and 1 / REPRESENTABLE <= abs(value) <= REPRESENTABLE


def _nondimensional_numbers(study: Study) -> list[tuple[str, str, float, bool]]:
    """(keys, description, value, whether 0 is allowed) of the numbers the equations see;
    inf where one overflows."""
    scales = Scales.from_study(study)
    nm, t0 = scales.length_m, _value(lambda: scales.time_s)
    native = study.native
    debye_m = _value(lambda: scales.debye_length_m)
    numbers = [
        (
            "glass.n_bg, glass.eps_r, glass.temperature",
            f"(Debye length / 1 nm)^2 (a Debye length of {debye_m:.3g} m)",
            lambda: scales.debye_squared,
        ),
        ("glass.thickness", "the thickness in nm", lambda: study.glass.thickness / nm),
        (f"species.{native}.diffusion", "the time unit (1 nm)^2 / D in s", lambda: t0),
        (
            "experiment.duration",
            "the duration in time units",
            lambda: study.experiment.duration / t0,
        ),
    ]
    for name, law in study.diffusion_laws.items():
        numbers.append(
            (
                f"species.{name}.diffusion",
                f"D / D({native})",
                lambda law=law: law.D_bulk / scales.diffusivity_m2_s,
            )
        )
    for key in ("first_cell", "fine_cell", "fine_depth"):
        if (length := getattr(study.mesh, key)) is not None:
            numbers.append((f"mesh.{key}", "the length in nm", lambda length=length: length / nm))
    for key in ("dt_initial", "dt_min", "dt_max"):
        if (step := getattr(study.time, key)) is not None:
            numbers.append((f"time.{key}", "the step in time units", lambda step=step: step / t0))
    stages = study.experiment.stages
    for index, stage in enumerate(stages):
        key = "experiment" if len(stages) == 1 else f"experiment.stages.{index}"
        if stage.current_density is not None:
            numbers.append(
                (
                    f"{key}.current_density",
                    "the beam flux in n_bg nm per time unit",
                    lambda stage=stage: stage.current_density / (constants.e * scales.flux_m2_s),
                )
            )
        numbers.append(
            (
                f"{key}.front_density",
                "front_density / n_bg",
                lambda stage=stage: stage.front_density / scales.density_m3,
            )
        )
    checked = [(keys, what, _value(compute), False) for keys, what, compute in numbers]
    for index, stage in enumerate(stages):  # a surface potential may be 0
        if stage.surface_potential is not None:
            key = "experiment" if len(stages) == 1 else f"experiment.stages.{index}"
            value = _value(lambda stage=stage: stage.surface_potential / scales.thermal_voltage_V)
            checked.append((f"{key}.surface_potential", "the potential in kT/e", value, True))
    return checked


def _value(compute: Callable[[], float]) -> float:
    """``compute()``, or inf if it overflows (or divides by an underflowed zero)."""
    try:
        return float(compute())
    except ArithmeticError:
        return math.inf


# --- cost ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostEstimate:
    """What a run of a study will cost, estimated before it is set up."""

    cells: int
    """Mesh cells."""
    unknowns: int
    """Unknowns of the discrete problem (species and potential at every node)."""
    output_times: int
    """Output times of all stages."""
    steps: int
    """Time steps (a rough estimate, at least one per output time; a lower bound when the
    front would cross the plate, where a run takes very many more)."""
    output_mb: float
    """Size of the output folder in MB."""
    front_fraction: float
    """Estimated final front depth / glass thickness."""

    def describe(self) -> str:
        """The estimate in words."""
        return (
            f"{self.cells} cells, {self.unknowns} unknowns, {self.output_times} output times, "
            f"{'at least' if self.front_fraction > 1 else 'about'} {self.steps} time steps, "
            f"about {self.output_mb:.3g} MB of output, "
            f"a final front at about {self.front_fraction:.3g} of the thickness"
        )


def mesh_size(study: Study, scales: Scales, settings: dict[str, float]) -> tuple[int, int]:
    """(cells, nodes) of the study's mesh without building it: the graded depth layout
    counted in closed form, times the lateral layout of a rectangle or disc (two triangles
    per rectangle); a mesh file's own counts."""
    geometry = study.geometry
    if isinstance(geometry, MeshFileGeometry):
        return mesh_file_size(Path(geometry.file))
    depth = estimated_cells(**settings)
    if not isinstance(geometry, RectangleGeometry | DiscGeometry):
        return depth, depth + 1
    lateral = len(lateral_layout(study, scales)) - 1
    return 2 * depth * lateral, (depth + 1) * (lateral + 1)


def estimate_cost(study: Study) -> CostEstimate:
    """The estimated cost of a run of ``study`` (its scales must be representable)."""
    scales = Scales.from_study(study)
    settings = resolved_mesh_settings(study, scales)
    cells, nodes = mesh_size(study, scales, settings)
    n_species = len(study.species)
    front = estimated_front_depth(study, scales)
    crossed = _front_cells(min(front, settings["length"]), settings["first_cell"], scales)
    output_times = len(study.experiment.output_times)
    steps = (
        output_times
        + len(study.experiment.stages)
        + math.ceil(max(STEPS_PER_FRONT_CELL * crossed, _stepping_bound(study, scales)))
    )
    values = (
        output_times * nodes * (n_species + 3)  # profiles.csv
        + output_times * nodes * (n_species + 1) * 8 / BYTES_PER_VALUE  # fields.h5
        + steps * (16 + n_species)  # timeseries.csv
    )
    return CostEstimate(
        cells=cells,
        unknowns=(n_species + 1) * nodes,
        output_times=output_times,
        steps=steps,
        output_mb=values * BYTES_PER_VALUE / 1e6,
        front_fraction=front / settings["length"],
    )


def _stepping_bound(study: Study, scales: Scales) -> float:
    """Steps the time settings force, whatever the physics: the duration in steps of at
    most dt_max, and the growth from the first step to the largest by max_growth."""
    ts, duration = study.time, study.experiment.duration
    D_max = max(law.D_bulk for law in study.diffusion_laws.values())
    dielectric_s = scales.debye_squared * scales.length_m**2 / D_max
    dt_initial = ts.dt_initial or DT_INITIAL_DIELECTRIC * dielectric_s
    dt_max = min(ts.dt_max or DT_MAX_DURATION * duration, duration)
    ramp = math.log(max(dt_max / dt_initial, 1.0)) / math.log(ts.max_growth)
    return max(duration / dt_max, ramp)


def _front_cells(depth: float, first_cell: float, scales: Scales) -> int:
    """The cells of a mesh with the default settings from the front to ``depth``: the time
    steps follow the front across the profile it resolves (a finer mesh resolves no more
    of it, and does not take more steps)."""
    default = MeshSettings()
    fine_cell = FIXED_FINE_CELL_M / scales.length_m
    return estimated_cells(
        length=depth,
        first_cell=min(first_cell, fine_cell),
        fine_cell=fine_cell,
        fine_depth=depth,
        growth=default.growth,
        fine_growth=default.fine_growth,
    )


def cost_problems(study: Study, estimate: CostEstimate) -> list[str]:
    """One line per limit of ``study.limits`` the estimate exceeds, and a last line with
    the whole estimate (empty if no limit is exceeded)."""
    limits = study.limits
    checks = [
        ("max_cells", estimate.cells, "the mesh would have about {:.3g} cells"),
        ("max_steps", estimate.steps, "the run would take about {:.3g} time steps"),
        ("max_output_mb", estimate.output_mb, "the output would take about {:.3g} MB"),
        (
            "max_front_fraction",
            estimate.front_fraction,
            "the front would end about {:.3g} times the glass thickness deep (the beam ions "
            "would replace the whole plate)",
        ),
    ]
    problems = [
        f"limits.{key}: {what.format(value)}, more than the limit {getattr(limits, key):g}; "
        f"to run it anyway, set limits.{key}: {_above(value):g}"
        for key, value, what in checks
        if value > getattr(limits, key)
    ]
    if problems:
        problems.append(f"limits: estimate of the run: {estimate.describe()}")
    return problems


def _above(value: float) -> float:
    """A round number above ``value`` (two significant digits)."""
    unit = 10.0 ** (math.floor(math.log10(value)) - 1)
    return (math.floor(value / unit) + 1) * unit


def estimated_cells(
    length: float,
    first_cell: float,
    fine_cell: float,
    fine_depth: float,
    growth: float,
    fine_growth: float = 1.0,
) -> int:
    """The number of cells of `femcait.geometry.grading.graded_nodes` with these arguments, counted
    zone by zone in closed form (no node is built)."""
    fine_depth = min(fine_depth, length)
    ramp = (fine_cell - first_cell) / (growth - 1)  # the cells growing up to fine_cell
    if ramp >= fine_depth:
        n_ramp, h = _geometric(fine_depth, first_cell, growth)
        n_fine, depth = 0.0, fine_depth
    else:
        n_ramp = math.log(fine_cell / first_cell) / math.log(growth)
        n_fine, h = _geometric(fine_depth - ramp, fine_cell, fine_growth)
        depth = fine_depth
    n_bulk, _ = _geometric(length - depth, h, growth)
    return max(1, math.ceil(n_ramp + n_fine + n_bulk))


def _geometric(span: float, first: float, ratio: float) -> tuple[float, float]:
    """How many cells growing by ``ratio`` from ``first`` fill ``span``, and the next size."""
    if span <= 0:
        return 0.0, first
    if ratio == 1:
        return span / first, first
    return math.log1p(span * (ratio - 1) / first) / math.log(ratio), first + span * (ratio - 1)
