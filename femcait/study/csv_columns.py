"""Reading named numeric columns from a CSV table referenced by a study file.

A table is read only up to `MAX_TABLE_BYTES` and may hold at most `MAX_TABLE_ROWS` data
rows: every row becomes part of the weak form (about 15 ms of form compilation per row),
so a longer table is refused with the advice to thin it out.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

MAX_TABLE_BYTES = 10_000_000
"""Largest table file read."""

MAX_TABLE_ROWS = 5000
"""Most data rows of a table (`femcait sed` writes 601 per species)."""


def read_columns(
    path: Path, columns: list[str], where: tuple[str, str] | None = None
) -> dict[str, list[float]]:
    """The named columns of a CSV file with a header row, as lists of floats.

    Lines starting with '#' are skipped. ``where = (column, value)`` keeps only the rows
    whose ``column`` equals ``value`` (e.g. one species of a long-format table). Raises
    ValueError with a readable message (file, row, column) on any problem.
    """
    name = repr(str(path))
    rows = _rows(path, name)
    if not rows:
        raise ValueError(f"{name} is empty")
    header = [cell.strip() for cell in rows[0][1]]
    wanted = columns + ([where[0]] if where else [])
    missing = [column for column in wanted if column not in header]
    if missing:
        raise ValueError(
            f"{name} has no column {', '.join(map(repr, missing))} "
            f"(its columns: {', '.join(header)[:200]})"
        )
    data: dict[str, list[float]] = {column: [] for column in columns}
    for number, row in rows[1:]:
        cells = dict(zip(header, (cell.strip() for cell in row), strict=False))
        if where and cells.get(where[0]) != where[1]:
            continue
        for column in columns:
            data[column].append(_number(cells.get(column, ""), name, number, column))
        if len(data[columns[0]]) > MAX_TABLE_ROWS:
            raise ValueError(
                f"{name} has more than {MAX_TABLE_ROWS} data rows, the most a table may have "
                "(each row becomes part of the weak form); keep every n-th row"
            )
    if not data[columns[0]]:
        selection = f" with {where[0]} = {where[1]!r}" if where else ""
        raise ValueError(f"{name} has no data rows{selection}")
    return data


def _rows(path: Path, name: str) -> list[tuple[int, list[str]]]:
    """The non-comment rows of the file with their line numbers."""
    try:
        with path.open("rb") as stream:  # a device or a pipe too, read only so far
            raw = stream.read(MAX_TABLE_BYTES + 1)
    except FileNotFoundError:
        raise ValueError(f"file {name} not found") from None
    except IsADirectoryError:
        raise ValueError(f"{name} is a directory, not a table") from None
    except OSError as exc:
        raise ValueError(f"cannot read {name} ({exc.strerror or exc})") from None
    if len(raw) > MAX_TABLE_BYTES:
        raise ValueError(f"{name} is larger than {MAX_TABLE_BYTES // 1_000_000} MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{name} is not a UTF-8 text file") from None
    if "\0" in text:
        raise ValueError(f"{name} holds NUL characters: not a text table")
    rows = []
    reader = csv.reader(text.splitlines())
    try:
        for row in reader:
            if row and not row[0].startswith("#"):
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise ValueError(f"{name} line {reader.line_num}: not a CSV row ({exc})") from None
    return rows


def _number(cell: str, name: str, line: int, column: str) -> float:
    """A cell as a finite float."""
    try:
        value = float(cell)
    except ValueError:
        shown = cell if len(cell) <= 40 else cell[:37] + "..."
        raise ValueError(
            f"{name} line {line}, column {column!r}: got {shown!r}, expected a number"
        ) from None
    if not math.isfinite(value):
        raise ValueError(f"{name} line {line}, column {column!r}: got {cell!r}, not finite")
    return value
