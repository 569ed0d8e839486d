"""Reading named numeric columns from a CSV table referenced by a study file."""

from __future__ import annotations

import csv
import math
from pathlib import Path


def read_columns(
    path: Path, columns: list[str], where: tuple[str, str] | None = None
) -> dict[str, list[float]]:
    """The named columns of a CSV file with a header row, as lists of floats.

    Lines starting with '#' are skipped. ``where = (column, value)`` keeps only the rows
    whose ``column`` equals ``value`` (e.g. one species of a long-format table). Raises
    ValueError with a readable message (file, row, column) on any problem.
    """
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            rows = [row for row in csv.reader(stream) if row and not row[0].startswith("#")]
    except FileNotFoundError:
        raise ValueError(f"file {str(path)!r} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {str(path)!r} ({exc})") from None
    if not rows:
        raise ValueError(f"{str(path)!r} is empty")
    header = [name.strip() for name in rows[0]]
    wanted = columns + ([where[0]] if where else [])
    missing = [name for name in wanted if name not in header]
    if missing:
        raise ValueError(
            f"{str(path)!r} has no column {', '.join(map(repr, missing))} "
            f"(its columns: {', '.join(header)})"
        )
    data: dict[str, list[float]] = {name: [] for name in columns}
    for number, row in enumerate(rows[1:], start=2):
        cells = dict(zip(header, (cell.strip() for cell in row), strict=False))
        if where and cells.get(where[0]) != where[1]:
            continue
        for name in columns:
            try:
                value = float(cells.get(name, ""))
            except ValueError:
                raise ValueError(
                    f"{str(path)!r} line {number}, column {name!r}: "
                    f"got {cells.get(name, '')!r}, expected a number"
                ) from None
            if not math.isfinite(value):
                raise ValueError(f"{str(path)!r} line {number}, column {name!r}: not finite")
            data[name].append(value)
    if not data[columns[0]]:
        selection = f" with {where[0]} = {where[1]!r}" if where else ""
        raise ValueError(f"{str(path)!r} has no data rows{selection}")
    return data
