"""The study schema: pydantic models of a validated CAIT study, every quantity in SI units.

Physics and symbols follow docs/model.md: x = 0 is the bombarded front, x = L the back
electrode; n_bg is the initial native density, which equals the fixed background charge.
"""

import math
import re
from functools import cached_property
from itertools import pairwise
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BeforeValidator,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

from femcait.sed import DiffusionLaw
from femcait.study.diffusion_laws import Diffusion
from femcait.study.geometry import Geometry, IntervalGeometry, MeshFileGeometry
from femcait.study.section import Section
from femcait.study.units import (
    Length,
    NonNegativeLength,
    Number,
    PositiveCurrentDensity,
    PositiveLength,
    PositiveNumber,
    PositiveNumberDensity,
    PositiveTemperature,
    PositiveTime,
    Voltage,
    format_value,
    invalid,
)

_NAME = re.compile(r"[A-Za-z0-9_.-]+")

LENGTH_UNIT_M = 1e-9
"""The length scale of the nondimensional equations (`MeshSettings.length_unit`)."""

MAX_CHARGE = 10
"""Largest charge number |z| of an ion species."""

MAX_NAME_LENGTH = 120
"""Longest study (and sweep case) name: it names the output folder."""


def _g(value: float) -> str:
    """Format an SI float compactly for messages."""
    return f"{value:.12g}"


class Glass(Section):
    """The glass plate between the bombarded front (x = 0) and the back electrode (x = L)."""

    thickness: PositiveLength
    """Plate thickness L in m."""
    temperature: PositiveTemperature = 300.0
    """Temperature T in K."""
    n_bg: PositiveNumberDensity
    """Initial native ion density = fixed negative background charge density / e, in m^-3."""
    eps_r: PositiveNumber
    """Relative permittivity."""


class Species(Section):
    """A mobile ion species."""

    role: Literal["native", "foreign"]
    """"native": initially at n_bg in the glass; "foreign": brought in by the beam."""
    charge: Annotated[int, Strict(), Field(ge=-MAX_CHARGE, le=MAX_CHARGE)]
    """Charge number z (nonzero)."""
    diffusion: Diffusion
    """Its (effective) diffusion coefficient."""

    @field_validator("charge")
    @classmethod
    def _nonzero(cls, charge: int) -> int:
        if charge == 0:
            raise invalid("got 0, must be a nonzero integer")
        return charge


class Stage(Section):
    """One stage of a CAIT experiment: a beam species, its drive and how long it runs."""

    name: str | None = None
    """Optional label of the stage (e.g. "Rb" for the first of a double CAIT)."""
    beam: str
    """Name of the foreign species in the beam."""
    mode: Literal["potentiostatic", "galvanostatic"] = "potentiostatic"
    """Prescribe the surface potential (potentiostatic) or the beam current (galvanostatic)."""
    surface_potential: Voltage | None = None
    """Front surface potential U_s in V; required iff potentiostatic."""
    current_density: PositiveCurrentDensity | None = None
    """Beam current density j in A/m^2; required iff galvanostatic."""
    front_density: PositiveNumberDensity | None = None
    """Foreign density n_s at the front in m^-3; null means n_bg (resolved by `Study`)."""
    duration: PositiveTime
    """Duration of the bombardment in s."""
    output_times: Annotated[list[PositiveTime], Field(default_factory=list, validate_default=True)]
    """Times of the output profiles in s from the start of the stage; its duration is
    appended if missing."""

    @field_validator("output_times")
    @classmethod
    def _resolve_output_times(cls, times: list[float], info: ValidationInfo) -> list[float]:
        duration = info.data.get("duration")
        if duration is None:
            return times
        for index, (earlier, later) in enumerate(pairwise(times), start=1):
            if later <= earlier:
                raise invalid(
                    f"got {_g(later)} s after {_g(earlier)} s, must be strictly increasing",
                    str(index),
                )
        for index, time in enumerate(times):
            if time > duration:
                raise invalid(
                    f"got {_g(time)} s, must be <= duration ({_g(duration)} s)", str(index)
                )
        if not times or times[-1] < duration:
            return [*times, duration]
        return times

    @model_validator(mode="after")
    def _check_mode(self) -> Self:
        units = {"surface_potential": "V", "current_density": "A/m^2"}
        required, excluded = ("surface_potential", "current_density")
        if self.mode == "galvanostatic":
            required, excluded = excluded, required
        if getattr(self, required) is None:
            raise invalid(f"missing required key (mode is {self.mode!r})", required)
        value = getattr(self, excluded)
        if value is not None:
            raise invalid(
                f"got {_g(value)} {units[excluded]}, must be null or absent "
                f"when mode is {self.mode!r}",
                excluded,
            )
        return self


def _stages_form(value: Any) -> Any:
    """A single-stage experiment (the stage's keys directly) is a list of one stage."""
    if isinstance(value, dict) and "stages" not in value:
        return {"stages": [value]}
    return value


class Experiment(Section):
    """The CAIT experiment: one stage (its keys directly under `experiment`) or a sequence
    under `stages`, each continuing from the state the previous one left."""

    stages: Annotated[list[Stage], Field(min_length=1)]
    """The stages in order (e.g. a double CAIT: an Rb+ beam, then a Cs+ beam)."""

    @property
    def duration(self) -> float:
        """Total duration of all stages in s."""
        return sum(stage.duration for stage in self.stages)

    @property
    def stage_starts(self) -> list[float]:
        """Start time of every stage in s."""
        starts, t = [], 0.0
        for stage in self.stages:
            starts.append(t)
            t += stage.duration
        return starts

    @property
    def output_times(self) -> list[float]:
        """Output times of all stages in s from the start of the experiment."""
        return [
            start + time
            for start, stage in zip(self.stage_starts, self.stages, strict=True)
            for time in stage.output_times
        ]


FIXED_FINE_CELL_M = 0.25e-9
"""Automatic `mesh.fine_cell` of a fixed mesh."""

ADAPTIVE_FINE_CELL_M = 4e-9
"""Automatic `mesh.fine_cell` of an adaptive mesh: its coarsest cells in the fine zone."""

FIXED_TIME_TOLERANCE = 3e-3
"""Automatic `time.tolerance` on a fixed mesh (6e-3: profiles 0.38 % off, benchmarks/)."""

ADAPTIVE_TIME_TOLERANCE = 5e-3
"""Automatic `time.tolerance` on an adaptive mesh (profiles 0.06 % off; 3e-3 takes 20 %
more steps for 0.04 %, benchmarks/README.md)."""

MIN_CELL_FLOOR_M = 1e-14
"""Smallest `mesh.min_cell` (1e-5 nm; a depth of 1 mm in nm has ~1e-10 nm resolution)."""


class MeshSettings(Section):
    """The mesh, graded geometrically from the front into the bulk (in 2D built-in geometries
    also laterally, from the mask edges)."""

    length_unit: PositiveLength = LENGTH_UNIT_M
    """Length scale of the nondimensional equations, in m: only 1 nm (femcait's solver
    tolerances are set for it; the key stays so that older study.json files run)."""
    first_cell: PositiveLength | None = None
    """Size of the cell at the front in m; null: chosen to resolve the Debye length."""
    fine_cell: PositiveLength | None = None
    """Cell size in the zone where the profiles form, in m; on an adaptive mesh the coarsest
    cell there (the mesh is refined below it where the profiles need it). null:
    `FIXED_FINE_CELL_M` on a fixed mesh, `ADAPTIVE_FINE_CELL_M` on an adaptive one."""
    fine_depth: PositiveLength | None = None
    """Depth of that zone in m; null: automatic."""
    growth: Annotated[Number, Field(gt=1, le=2)] = 1.08
    """Size ratio of neighbouring cells in the bulk (and from the first cell up)."""
    fine_growth: Annotated[Number, Field(ge=1, le=1.1)] = 1.005
    """Size ratio of neighbouring cells inside the fine zone (1: uniform)."""
    lateral_cell: PositiveLength = 1e-9
    """2D: lateral cell size at the mask edges (where the exposed front meets the mask), in m;
    on an adaptive mesh also its smallest lateral cell (the density on the front jumps at a
    mask edge, so no cell size resolves it there)."""
    lateral_growth: Annotated[Number, Field(gt=1, le=2)] = 1.1
    """2D: size ratio of laterally neighbouring cells away from the mask edges."""
    lateral_max_cell: PositiveLength = 100e-9
    """2D: largest lateral cell size in m."""
    adapt: Annotated[bool, Strict()] | Literal["auto"] = "auto"
    """Adapt the mesh to the profiles as the run goes. A cell is halved where some
    species' n / n_bg changes by more than `adapt_tolerance` across it (with a margin ahead
    of the front), and two halves merge again where the profiles have become flat; the
    graded mesh of the keys above is then the coarsest mesh and `min_cell` the finest cell.
    Rectangles and discs adapt the depth nodes of every vertical line of nodes so, and the
    lateral nodes (down to `lateral_cell`); a mesh file is used as it is. Every species'
    inventory is kept exactly across a change of mesh. auto: adaptive for the built-in
    geometries, fixed for a mesh file; study.json records what was used."""
    adapt_tolerance: Annotated[Number, Field(gt=0, le=0.5)] = 0.2
    """Largest change of any species' n / n_bg across one cell of an adapted mesh (the
    default study: front within 0.03 %, profiles within 0.07 % of a converged solution)."""
    min_cell: PositiveLength | None = None
    """Smallest cell of an adapted mesh in m (cells are halved only while they stay at least
    this large); null: first_cell (half the Debye length), which a front may need: the
    trapped-Li plateau of paper_fig1_k_two_component_sed at 5 V is 14.7 % with it and
    14.2 % with 0.01 nm cells."""

    @field_validator("length_unit")
    @classmethod
    def _only_nanometres(cls, length_unit: float) -> float:
        if not math.isclose(length_unit, LENGTH_UNIT_M, rel_tol=1e-9):
            raise invalid(
                f"got {_g(length_unit)} m, must be 1 nm: it is the length scale of the "
                "equations, for which femcait's solver tolerances are set (other values "
                "changed the results); remove the key"
            )
        return LENGTH_UNIT_M

    @model_validator(mode="after")
    def _check_cells(self) -> Self:
        if self.min_cell is not None and self.min_cell < MIN_CELL_FLOOR_M:
            raise invalid(
                f"got {_g(self.min_cell)} m, must be >= {_g(MIN_CELL_FLOOR_M)} m (smaller cells "
                "are not resolved by the node positions in double precision)",
                "min_cell",
            )
        if self.lateral_cell > self.lateral_max_cell:
            raise invalid(
                f"got {_g(self.lateral_cell)} m, must be <= lateral_max_cell "
                f"({_g(self.lateral_max_cell)} m)",
                "lateral_cell",
            )
        return self


class TimeSettings(Section):
    """Adaptive time stepping."""

    scheme: Literal["auto", "bdf2", "euler"] = "auto"
    """Time discretisation: variable-step BDF2, backward Euler, or auto: backward Euler if a
    diffusion law has an immobile fraction (D vanishes at a level there; BDF2's history
    carries a draining node on past the level, where it cannot move back: K+ plateau 13.9 %
    instead of 15 % in paper_fig1_k), BDF2 otherwise."""
    dt_initial: PositiveTime | None = None
    """First time step in s; null: automatic."""
    dt_min: PositiveTime | None = None
    """Smallest time step in s (Newton failing there is an error); null: automatic."""
    dt_max: PositiveTime | None = None
    """Largest time step in s; null: automatic."""
    tolerance: PositiveNumber | None = None
    """Local error tolerance on n / n_bg; null: `ADAPTIVE_TIME_TOLERANCE` on an adaptive
    mesh, `FIXED_TIME_TOLERANCE` on a fixed one (each keeps the default study within
    0.25 % of a converged solution in front depth and profiles with that mesh)."""
    max_growth: Annotated[Number, Field(gt=1, le=5)] = 2.0
    """Largest ratio of consecutive time steps."""

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        pairs = (("dt_min", "dt_initial"), ("dt_initial", "dt_max"), ("dt_min", "dt_max"))
        for lower, upper in pairs:
            low, high = getattr(self, lower), getattr(self, upper)
            if low is not None and high is not None and high < low:
                raise invalid(f"got {_g(high)} s, must be >= {lower} ({_g(low)} s)", upper)
        return self


def _petsc_value(value: Any) -> Any:
    """Accept only text, numbers and booleans as PETSc option values."""
    if not isinstance(value, str | int | float):
        raise invalid(f"got {format_value(value)}, expected a text, number or boolean value")
    return value


class SolverSettings(Section):
    """Nonlinear and linear solvers."""

    petsc_options: dict[str, Annotated[str | int | float | bool, BeforeValidator(_petsc_value)]] = (
        Field(default_factory=dict)
    )
    """PETSc options merged over femcait's defaults, e.g. {ksp_type: preonly}; before the run,
    each must be one the solver reads (a misspelt or inapplicable key is an error)."""
    max_newton_iterations: Annotated[int, Strict(), Field(ge=1, le=1000)] = 15
    """Newton iterations before a step is rolled back and retried with a smaller dt."""


class OutputSettings(Section):
    """Derived quantities and field output."""

    plateau_min_depth: NonNegativeLength = 2e-9
    """The native plateau level is evaluated deeper than this, in m."""
    imbalance_exclusion_depth: NonNegativeLength = 1e-9
    """The charge imbalance is reported without this layer at the front, in m."""
    vtx: Annotated[bool, Strict()] = False
    """Also write fields in VTX format (XDMF is always written)."""
    profile_lines: list[Length] | None = None
    """2D: lateral positions (x or r) of the depth profiles in profiles.csv, in m; null: the
    beam axis only."""
    crater: Annotated[list[NonNegativeLength], Field(min_length=2, max_length=2)] | None = None
    """2D: [from, to], the lateral range in m over which crater.csv averages every species
    at each depth, as a SIMS crater does (area-weighted: by r in axisymmetric studies);
    null: no crater.csv."""

    @field_validator("crater")
    @classmethod
    def _check_crater(cls, crater: list[float] | None) -> list[float] | None:
        if crater is not None and not crater[0] < crater[1]:
            raise invalid(f"got [{_g(crater[0])}, {_g(crater[1])}] m, must satisfy from < to")
        return crater


class RegionSpecies(Section):
    """A species' own diffusion law in a region."""

    diffusion: Diffusion
    """Its (effective) diffusion coefficient in the region."""


class Region(Section):
    """A region of a mesh file (a cell group) with its own material; what is not given is
    taken from `glass` and `species`."""

    n_bg: PositiveNumberDensity | None = None
    """Native density (= network charge density / e) of the region in m^-3; null: glass.n_bg."""
    eps_r: PositiveNumber | None = None
    """Relative permittivity of the region; null: glass.eps_r."""
    species: dict[str, RegionSpecies] = Field(default_factory=dict)
    """Diffusion laws that differ from the species section, by species name."""


class Limits(Section):
    """Bounds on what a run may cost, checked against estimates before it starts (a run far
    outside them is refused with its estimate); raise them to run such a study anyway."""

    max_cells: PositiveNumber = 100_000
    """Most mesh cells (estimated from the mesh settings; the default study has 423)."""
    max_steps: PositiveNumber = 100_000
    """Most time steps (estimated; at least one per output time; the default study takes
    about 500)."""
    max_output_mb: PositiveNumber = 2000.0
    """Largest output folder in MB (estimated; the default study writes 0.5 MB)."""
    max_front_fraction: PositiveNumber = 1.0
    """Largest estimated final front depth as a fraction of glass.thickness (beyond 1 the
    beam ions would replace the whole plate, and the run takes very many steps)."""


def _check_beam(beam: str, species: dict[str, Species], path: str) -> None:
    """The beam must name a foreign species."""
    foreign = ", ".join(name for name, s in species.items() if s.role == "foreign")
    if beam not in species:
        raise invalid(f"got {beam!r}, must name a foreign species ({foreign})", path)
    if species[beam].role != "foreign":
        raise invalid(
            f"got {beam!r}, a native species; the beam must be a foreign species ({foreign})",
            path,
        )


class Study(Section):
    """A complete, validated CAIT study; every quantity is an SI float."""

    name: str
    """Study name: letters, digits, '_', '.' and '-' (at most 120 characters)."""
    description: str = ""
    """Free text."""
    femcait_version: str | None = None
    """The femcait version that wrote this study (set in a run's study.json; informative,
    so that study.json can be run again as a study)."""
    glass: Glass
    species: Annotated[dict[str, Species], Field(min_length=2)]
    """Mobile species by name, in file order: exactly one native, the others foreign."""
    experiment: Annotated[
        Experiment, BeforeValidator(_stages_form, json_schema_input_type=Stage | Experiment)
    ]
    geometry: Geometry = IntervalGeometry()
    """The domain: a 1D interval (default), a rectangle, an axisymmetric disc or a mesh file."""
    regions: dict[str, Region] = Field(default_factory=dict)
    """Materials of the regions (cell groups) of a mesh file, by group name."""
    mesh: Annotated[MeshSettings, Field(validate_default=True)] = MeshSettings()
    """The mesh: adaptive (see `adapt`) on the graded base mesh of these keys."""
    time: Annotated[TimeSettings, Field(validate_default=True)] = TimeSettings()
    """Time stepping."""
    solver: SolverSettings = SolverSettings()
    output: OutputSettings = OutputSettings()
    limits: Limits = Limits()

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        if len(name) > MAX_NAME_LENGTH:
            raise invalid(
                f"got a name of {len(name)} characters, must have at most {MAX_NAME_LENGTH} "
                "(it names the output folder)"
            )
        if not _NAME.fullmatch(name):
            raise invalid(f"got {name!r}, must contain only letters, digits, '_', '.' and '-'")
        return name

    @field_validator("geometry", "mesh", "time", "solver", "output", "limits", mode="before")
    @classmethod
    def _empty_section(cls, value: Any) -> Any:
        """An empty section (`mesh:` with nothing below) means all defaults."""
        return {} if value is None else value

    @field_validator("species")
    @classmethod
    def _check_species(cls, species: dict[str, Species]) -> dict[str, Species]:
        native = None
        for name, item in species.items():
            if not name.isidentifier():
                raise invalid(
                    f"got species name {name!r}, must be an identifier "
                    "(letters, digits and '_', not starting with a digit)",
                    name,
                )
            if item.role == "native":
                if native is not None:
                    raise invalid(
                        f"got 'native', but {native} is already the native species; "
                        "exactly one species must be native",
                        f"{name}.role",
                    )
                native = name
        if native is None:
            raise invalid("no species has role 'native'; exactly one must")
        return species

    @field_validator("experiment")
    @classmethod
    def _resolve_experiment(cls, experiment: Experiment, info: ValidationInfo) -> Experiment:
        species: dict[str, Species] | None = info.data.get("species")
        glass: Glass | None = info.data.get("glass")
        stages = []
        for index, stage in enumerate(experiment.stages):
            if species is not None:
                _check_beam(stage.beam, species, f"stages.{index}.beam")
            if glass is not None and stage.front_density is None:
                stage = stage.model_copy(update={"front_density": glass.n_bg})
            stages.append(stage)
        return experiment.model_copy(update={"stages": stages})

    @field_validator("mesh")
    @classmethod
    def _resolve_mesh(cls, mesh: MeshSettings, info: ValidationInfo) -> MeshSettings:
        """``adapt: auto`` and an automatic fine cell resolved for the geometry, checked
        against the glass and the other cell sizes."""
        geometry = info.data.get("geometry")
        if geometry is None:
            return mesh
        from_file = isinstance(geometry, MeshFileGeometry)
        if mesh.adapt is True and from_file:
            raise invalid(
                f"got true, but a mesh read from a file (geometry.file "
                f"{geometry.file!r}) is used as it is; remove the key or set it false (the "
                "built-in geometries adapt)",
                "adapt",
            )
        adapt = not from_file if mesh.adapt == "auto" else mesh.adapt
        fine_cell = mesh.fine_cell
        if fine_cell is None:
            fine_cell = ADAPTIVE_FINE_CELL_M if adapt else FIXED_FINE_CELL_M
        for key in ("first_cell", "min_cell"):
            value = getattr(mesh, key)
            if value is not None and value > fine_cell:
                raise invalid(
                    f"got {_g(value)} m, must be <= fine_cell ({_g(fine_cell)} m"
                    f"{'' if mesh.fine_cell is not None else ', automatic'})",
                    key,
                )
        glass: Glass | None = info.data.get("glass")
        if glass is not None and fine_cell >= glass.thickness:
            raise invalid(
                f"got {_g(fine_cell)} m, must be smaller than glass.thickness "
                f"({_g(glass.thickness)} m)",
                "fine_cell",
            )
        return mesh.model_copy(update={"adapt": adapt, "fine_cell": fine_cell})

    @field_validator("time")
    @classmethod
    def _resolve_time(cls, time: TimeSettings, info: ValidationInfo) -> TimeSettings:
        """The automatic time tolerance, chosen with the mesh."""
        mesh: MeshSettings | None = info.data.get("mesh")
        if time.tolerance is not None or mesh is None or mesh.adapt == "auto":
            return time
        tolerance = ADAPTIVE_TIME_TOLERANCE if mesh.adapt else FIXED_TIME_TOLERANCE
        return time.model_copy(update={"tolerance": tolerance})

    @field_validator("output")
    @classmethod
    def _check_output(cls, output: OutputSettings, info: ValidationInfo) -> OutputSettings:
        mesh: MeshSettings | None = info.data.get("mesh")
        if output.vtx and mesh is not None and mesh.adapt:
            raise invalid(
                "got true, but a VTX file holds one mesh and the mesh adapts (mesh.adapt, "
                "auto in 1D); set mesh.adapt: false for VTX output, or open fields.xdmf, "
                "which ParaView plays over the changing meshes",
                "vtx",
            )
        geometry = info.data.get("geometry")
        if geometry is None:
            return output
        requested = {"profile_lines": output.profile_lines, "crater": output.crater}
        for key, positions in requested.items():
            if positions is None:
                continue
            if isinstance(geometry, IntervalGeometry):
                raise invalid(f"got {key}, but a 1D study has no lateral positions", key)
            extent = getattr(geometry, "width", None) or getattr(geometry, "radius", None)
            for index, position in enumerate(positions):
                if extent is not None and not 0 <= position <= extent:
                    raise invalid(
                        f"got {_g(position)} m, must lie in the domain's lateral range "
                        f"[0, {_g(extent)}] m",
                        f"{key}.{index}",
                    )
        return output

    @field_validator("regions")
    @classmethod
    def _check_regions(cls, regions: dict[str, Region], info: ValidationInfo) -> dict[str, Region]:
        geometry = info.data.get("geometry")
        if regions and geometry is not None and not isinstance(geometry, MeshFileGeometry):
            raise invalid(
                f"got {len(regions)} region(s), but regions need a mesh file "
                f"(geometry.kind: mesh_file), not {geometry.kind!r}"
            )
        species: dict[str, Species] | None = info.data.get("species")
        for name, region in regions.items():
            for species_name in region.species:
                if species is not None and species_name not in species:
                    raise invalid(
                        f"got species {species_name!r}, must be one of {', '.join(species)}",
                        f"{name}.species",
                    )
        return regions

    @cached_property
    def region_laws(self) -> dict[str, dict[str, DiffusionLaw]]:
        """Every region's D(n) law of every species in SI units (the species' own law
        where the region does not set one), built once."""
        T = self.glass.temperature
        return {
            region_name: {
                name: region.species[name].diffusion.build(T)
                if name in region.species
                else self.diffusion_laws[name]
                for name in self.species
            }
            for region_name, region in self.regions.items()
        }

    @cached_property
    def diffusion_laws(self) -> dict[str, DiffusionLaw]:
        """Every species' D(n) law in SI units (D in m^2/s), built once."""
        T = self.glass.temperature
        return {name: s.diffusion.build(T) for name, s in self.species.items()}

    @property
    def native(self) -> str:
        """Name of the native species."""
        return next(name for name, s in self.species.items() if s.role == "native")

    @property
    def foreign(self) -> list[str]:
        """Names of the foreign species, in file order."""
        return [name for name, s in self.species.items() if s.role == "foreign"]

    def to_resolved_dict(self) -> dict[str, Any]:
        """All parameters as a JSON-able dict of SI floats, defaults and resolved values filled in.

        Automatic settings (null in the file) stay null. Validating the dict again gives an
        equal `Study`.
        """
        resolved = self.model_dump(mode="json")
        stages = resolved["experiment"]["stages"]
        if len(stages) == 1 and stages[0]["name"] is None:  # written as the user would
            resolved["experiment"] = {k: v for k, v in stages[0].items() if k != "name"}
        return resolved
