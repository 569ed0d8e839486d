"""The derived quantities of an accepted step, and of an output time, in SI units."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np


@dataclass
class StepRecord:
    """Derived quantities after an accepted step (SI units; areal quantities per unit area of
    the exposed front)."""

    step: int
    stage: int
    time_s: float
    dt_s: float
    newton_iterations: int
    cells: int
    """Cells of the mesh the step was solved on."""
    front_depth_m: float
    plateau_frac: float
    foreign_inventory_m2: float
    native_deficit_m2: float
    foreign_influx_m2: float
    back_current_A_m2: float
    charge_C_m2: float
    surface_potential_V: float
    max_charge_imbalance: float
    conservation_error: float
    min_frac: float
    max_frac: float
    inventories_m2: dict[str, float] = field(default_factory=dict)
    extra: dict[str, float] = field(default_factory=dict)
    """Quantities of 2D geometries (`Monitor.extra_columns`)."""

    def row(self) -> dict[str, float]:
        """Flat dict for a CSV row."""
        values = {k: v for k, v in self.__dict__.items() if k not in ("inventories_m2", "extra")}
        values.update({f"{k}_inventory_m2": v for k, v in self.inventories_m2.items()})
        values.update(self.extra)
        return values

    @staticmethod
    def columns(names: list[str], extra: list[str] | tuple[str, ...] = ()) -> list[str]:
        """The keys of `row` for species ``names`` (the timeseries.csv columns)."""
        own = [f.name for f in fields(StepRecord) if f.name not in ("inventories_m2", "extra")]
        return [*own, *(f"{n}_inventory_m2" for n in names), *extra]


@dataclass
class Profile:
    """Depth profiles along one vertical line at an output time (SI; on every rank)."""

    time_s: float
    position_m: float
    """Lateral position of the line (0 in 1D)."""
    depth_m: np.ndarray
    fractions: dict[str, np.ndarray]
    """n / n_bg of every species (n_bg of the reference material, the glass)."""
    phi_V: np.ndarray


@dataclass
class CraterProfile:
    """Species fractions averaged over a lateral window at every depth (SI)."""

    time_s: float
    depth_m: np.ndarray
    fractions: dict[str, np.ndarray]


@dataclass
class FieldMap:
    """The fields on the triangles near the front at an output time (rank 0 only; SI)."""

    time_s: float
    points_m: np.ndarray
    """Node coordinates (lateral, depth), shape (nodes, 2)."""
    triangles: np.ndarray
    fractions: dict[str, np.ndarray]
    phi_V: np.ndarray


@dataclass(frozen=True)
class MapFrame:
    """Where the field maps of a domain may look (SI): its lateral extent, and the lateral
    position to centre on when it is too wide to show whole (the first mask edge, or the
    beam axis)."""

    lateral_extent_m: tuple[float, float]
    centre_m: float


@dataclass
class Snapshot:
    """What is written at an output time: profiles, crater average, field map."""

    time_s: float
    profiles: list[Profile]
    crater: CraterProfile | None = None
    field_map: FieldMap | None = None
