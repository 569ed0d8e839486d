"""CSV and JSON tables of a run: profiles (long format), time series, summary."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

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


def profile_columns(names: Sequence[str]) -> list[str]:
    """Columns of profiles.csv: time_s, depth_m, <species>_frac..., phi_V."""
    return ["time_s", "depth_m", *(f"{n}_frac" for n in names), "phi_V"]


def profile_rows(
    time_s: float, depth_m: np.ndarray, fractions: dict[str, np.ndarray], phi_V: np.ndarray
) -> Iterable[dict[str, float]]:
    """Long-format rows of one profile: time_s, depth_m, <species>_frac..., phi_V."""
    names: Sequence[str] = list(fractions)
    for j, x in enumerate(depth_m):
        row = {"time_s": time_s, "depth_m": float(x)}
        row.update({f"{n}_frac": float(fractions[n][j]) for n in names})
        row["phi_V"] = float(phi_V[j])
        yield row
