"""results.csv of a sweep: one row per case, rebuilt from the case folders."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from femcait.output.atomic import replacing
from femcait.output.tables import csv_cell
from femcait.study.units import si_magnitude

RESULT_QUANTITIES = (
    "front_depth_m",
    "plateau_frac",
    "charge_C_m2",
    "foreign_inventory_m2",
    "max_charge_imbalance",
    "conservation_error",
    "steps",
    "rejected_steps",
    "newton_iterations",
    "wall_s",
)
"""Summary values copied into results.csv."""


def si_value(value: Any) -> Any:
    """A swept value as an SI number where it is one ("200 meV" -> 3.2e-20), else as is."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return value
    try:
        return si_magnitude(value)
    except ValueError:  # not a quantity: keep the text
        return value


def case_summary(folder: Path) -> dict | None:
    """The summary.json of a case folder, or None if it has none (never run, interrupted)."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, unreadable, not UTF-8 or not JSON
        return None
    return summary if isinstance(summary, dict) else None


def result_rows(out: Path, cases: list[dict], parameters: list[str]) -> list[dict]:
    """One row per case (in sweep order) from ``out/cases/<name>``."""
    rows = []
    for case in cases:
        summary = case_summary(out / "cases" / case["name"]) or {}
        row = {"case": case["name"], "status": summary.get("status", "pending")}
        row.update({p: si_value(case["overrides"].get(p)) for p in parameters})
        row.update({q: summary.get(q) for q in RESULT_QUANTITIES})
        row["reason"] = summary.get("reason") or ""
        rows.append(row)
    return rows


def write_results(out: Path, cases: list[dict], parameters: list[str]) -> list[dict]:
    """Write out/results.csv atomically (a temporary file renamed into place)."""
    rows = result_rows(out, cases, parameters)
    columns = ["case", "status", *parameters, *RESULT_QUANTITIES, "reason"]
    with replacing(out / "results.csv") as temporary, temporary.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_cell(v) for k, v in row.items()})
    return rows
