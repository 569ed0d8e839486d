"""CSV and JSON tables of a run: profiles (long format), time series, summary."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from femcait.diagnostics.record import CraterProfile, Profile
from femcait.output.atomic import replacing


def _clean(value: Any) -> Any:
    """JSON-safe value: NaN and infinities become None, NumPy scalars plain Python."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, data: dict) -> None:
    """Pretty JSON with NaN written as null, replacing ``path`` atomically."""
    text = json.dumps(_clean(data), indent=2) + "\n"
    with replacing(path) as temporary:
        temporary.write_text(text)


class CsvTable:
    """A CSV file with fixed columns, its header written at once, then row by row."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.path = path
        self._file = path.open("w", newline="")
        self._writer = csv.DictWriter(self._file, fieldnames=list(columns))
        self._writer.writeheader()

    def append(self, row: dict[str, Any]) -> None:
        """Write one row (its keys must be the columns)."""
        self._writer.writerow({k: csv_cell(v) for k, v in row.items()})

    def close(self) -> None:
        """Flush and close the file."""
        self._file.close()


def csv_cell(value: Any) -> Any:
    """A value as femcait writes it in a CSV cell: floats with every digit (repr, so they
    read back exactly; nan for undefined), None as an empty cell, NumPy scalars plain."""
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, np.integer):
        return int(value)
    return value


def profile_columns(names: Sequence[str], lateral: bool = False) -> list[str]:
    """Columns of profiles.csv: time_s, [position_m,] depth_m, <species>_frac..., phi_V."""
    position = ["position_m"] if lateral else []
    return ["time_s", *position, "depth_m", *(f"{n}_frac" for n in names), "phi_V"]


def profile_rows(profile: Profile, lateral: bool = False) -> Iterable[dict[str, float]]:
    """Long-format rows of one profile (with its lateral position when ``lateral``)."""
    for j, x in enumerate(profile.depth_m):
        row: dict[str, float] = {"time_s": profile.time_s}
        if lateral:
            row["position_m"] = float(profile.position_m)
        row["depth_m"] = float(x)
        row.update({f"{n}_frac": float(v[j]) for n, v in profile.fractions.items()})
        row["phi_V"] = float(profile.phi_V[j])
        yield row


def crater_columns(names: Sequence[str]) -> list[str]:
    """Columns of crater.csv: time_s, depth_m, <species>_frac... (lateral averages)."""
    return ["time_s", "depth_m", *(f"{n}_frac" for n in names)]


def crater_rows(crater: CraterProfile) -> Iterable[dict[str, float]]:
    """Long-format rows of one crater average."""
    for j, x in enumerate(crater.depth_m):
        row = {"time_s": crater.time_s, "depth_m": float(x)}
        row.update({f"{n}_frac": float(v[j]) for n, v in crater.fractions.items()})
        yield row


def read_final_profile(folder: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Depth (m) and the fraction of every species along the (first) profile of a run
    folder's profiles.csv at its last output time."""
    with open(folder / "profiles.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    last = max(float(r["time_s"]) for r in rows)
    rows = [r for r in rows if float(r["time_s"]) == last]
    depth = np.array([float(r["depth_m"]) for r in rows])
    species = [c.removesuffix("_frac") for c in rows[0] if c.endswith("_frac")]
    return depth, {s: np.array([float(r[f"{s}_frac"]) for r in rows]) for s in species}
