"""Study-file models of the geometry: a 1D interval, a 2D rectangle, an axisymmetric disc or a
2D mesh file, with the exposed (beam) and masked parts of the front (SI units)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator

from femcait.study.section import Section
from femcait.study.units import Length, NonNegativeLength, PositiveLength, invalid

MaskPotential = Literal["floating", "grounded"]


def _g(value: float) -> str:
    return f"{value:.12g}"


class IntervalGeometry(Section):
    """One dimension: depth from the front (x = 0) to the back electrode (x = L)."""

    kind: Literal["interval"] = "interval"
    """Discriminator of the geometry."""
    dim: ClassVar[int] = 1
    """Dimension of the domain."""


class RectangleGeometry(Section):
    """A planar cross-section, `width` wide and glass.thickness deep, with a beam window on
    the front: the rest of the front is masked. Lateral position x from 0 to `width`."""

    kind: Literal["rectangle"]
    """Discriminator of the geometry."""
    dim: ClassVar[int] = 2
    """Dimension of the domain."""
    width: PositiveLength
    """Lateral extent in m."""
    beam_window: Annotated[list[NonNegativeLength], Field(min_length=2, max_length=2)] | None = None
    """[from, to]: the lateral range of the exposed front in m; null: the whole width."""
    mask: MaskPotential = "floating"
    """The masked front's potential: "floating" (no normal field, an insulating mask) or
    "grounded" (phi = 0, a metal mask on the back electrode's potential)."""

    @model_validator(mode="after")
    def _check_window(self) -> Self:
        if self.beam_window is None:
            return self
        start, stop = self.beam_window
        if not start < stop <= self.width:
            raise invalid(
                f"got [{_g(start)}, {_g(stop)}] m, must satisfy 0 <= from < to <= width "
                f"({_g(self.width)} m)",
                "beam_window",
            )
        return self

    @property
    def window(self) -> tuple[float, float]:
        """The exposed lateral range in m."""
        return tuple(self.beam_window) if self.beam_window is not None else (0.0, self.width)


class DiscGeometry(Section):
    """An axisymmetric (r, z) disc of radius `radius`, glass.thickness deep, hit by a round
    beam spot of radius `spot_radius` centred on the axis r = 0."""

    kind: Literal["disc"]
    """Discriminator of the geometry."""
    dim: ClassVar[int] = 2
    """Dimension of the domain."""
    radius: PositiveLength
    """Radius of the simulated disc in m (its rim is a symmetry boundary: keep it far from
    the spot)."""
    spot_radius: PositiveLength | None = None
    """Radius of the beam spot in m; null: the whole disc."""
    mask: MaskPotential = "floating"
    """The masked front's potential: "floating" or "grounded" (see rectangle)."""

    @model_validator(mode="after")
    def _check_spot(self) -> Self:
        if self.spot_radius is not None and self.spot_radius > self.radius:
            raise invalid(
                f"got {_g(self.spot_radius)} m, must be <= radius ({_g(self.radius)} m)",
                "spot_radius",
            )
        return self

    @property
    def window(self) -> tuple[float, float]:
        """The exposed radial range in m."""
        return (0.0, self.spot_radius if self.spot_radius is not None else self.radius)


class MeshGroups(Section):
    """Names of the physical groups of a mesh file."""

    front: str = "front"
    """Facets of the exposed front (the beam reaches them)."""
    masked: str = "masked"
    """Facets of the masked front (optional in the file)."""
    back: str = "back"
    """Facets of the back electrode."""
    sides: str = "sides"
    """Lateral sides or the axis (optional in the file; untagged boundary facets are sides
    too)."""


class MeshFileGeometry(Section):
    """A 2D triangle mesh from a file: gmsh .msh, or any format meshio reads (converted).

    Coordinates: x lateral (or r), y the depth from the front (y = 0) to the back electrode.
    """

    kind: Literal["mesh_file"]
    """Discriminator of the geometry."""
    dim: ClassVar[int] = 2
    """Dimension of the domain."""
    file: str
    """Path of the mesh file, relative to the study file."""
    unit: PositiveLength = 1.0
    """Length of one coordinate unit of the file in m (e.g. '1 nm')."""
    coordinates: Literal["planar", "axisymmetric"] = "planar"
    """Planar cross-section, or axisymmetric with x the radius."""
    groups: MeshGroups = MeshGroups()
    """Names of the boundary groups."""
    mask: MaskPotential = "floating"
    """The masked front's potential: "floating" or "grounded" (see rectangle)."""
    beam_axis: Length | None = None
    """Lateral position of the profile on the beam axis in m; null: the middle of the
    exposed front (axisymmetric: the axis)."""

    @field_validator("file")
    @classmethod
    def _resolve_file(cls, file: str, info: ValidationInfo) -> str:
        base = (info.context or {}).get("base_dir")
        path = Path(file)
        if not path.is_absolute() and base is not None:
            path = Path(base) / path
        if not path.is_file():
            raise invalid(f"got {file!r}: no such file ({path})")
        return str(path.resolve())


Geometry = Annotated[
    IntervalGeometry | RectangleGeometry | DiscGeometry | MeshFileGeometry,
    Field(discriminator="kind"),
]
