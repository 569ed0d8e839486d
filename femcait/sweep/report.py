"""``femcait report``: a sweep's results.csv (rebuilt from its case folders) as figures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from femcait.errors import OutputError
from femcait.output.ownership import replace_problem
from femcait.sweep.results import write_results

FIGURES = {
    "front_depth_m": ("front depth / nm", 1e9),
    "plateau_frac": ("native plateau / n_bg", 1.0),
    "charge_C_m2": ("charge passed / (C m$^{-2}$)", 1.0),
}
"""Quantities plotted over the swept parameters: axis label and scale."""


def write_report(out: Path) -> list[Path]:
    """Rebuild ``out/results.csv`` (in a sweep folder femcait marked) and plot each
    quantity of `FIGURES` over the first swept parameter, one line per value of the second
    (if any); returns the files written."""
    out = Path(out)
    description = read_description(out)
    problem = replace_problem(out, "sweep")  # it writes only into a sweep folder of its own
    if problem is not None:
        raise OutputError(problem)
    parameters = description["parameters"]
    rows = write_results(out, description["cases"], parameters)
    written = [out / "results.csv"]
    if not parameters:
        return written
    done = [r for r in rows if r["status"] == "completed" and _number(r[parameters[0]])]
    if not done:
        return written
    x_key = parameters[0]
    group_key = parameters[1] if len(parameters) > 1 else None
    groups: dict[object, list[dict]] = {}
    for row in done:
        groups.setdefault(row[group_key] if group_key else None, []).append(row)
    xs = [float(r[x_key]) for r in done]
    log_x = min(xs) > 0 and max(xs) / min(xs) > 20
    for quantity, (label, scale) in FIGURES.items():
        fig, ax = plt.subplots(figsize=(6, 4.5), constrained_layout=True)
        for value, members in groups.items():
            members = sorted(members, key=lambda r: float(r[x_key]))
            ys = [r[quantity] * scale if _number(r[quantity]) else math.nan for r in members]
            name = f"{group_key.rsplit('.', 1)[-1]} = {value:.4g}" if group_key else None
            ax.plot([float(r[x_key]) for r in members], ys, "o-", label=name)
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel(f"{x_key} (SI)")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        if group_key:
            ax.legend(fontsize=8)
        path = out / f"report_{quantity}.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    return written


def read_description(out: Path) -> dict:
    """The sweep.json of a sweep folder, checked; OutputError naming the file if it is
    missing, unreadable or not what `femcait run` writes there."""
    path = out / "sweep.json"
    try:
        description = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(f"{out} is not a sweep folder (no sweep.json)") from None
    except NotADirectoryError:
        raise OutputError(f"{out} is not a folder") from None
    except IsADirectoryError:
        raise OutputError(f"{path} is a directory, not a sweep description") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not JSON"
        raise OutputError(f"{path}: cannot read it ({reason}); rerun the sweep") from None
    if not _is_description(description):
        raise OutputError(
            f"{path}: not a sweep description (needs 'parameters', a list of key paths, "
            "and 'cases', each with a 'name' and 'overrides'); rerun the sweep"
        )
    return description


def _is_description(data: object) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("parameters"), list)
        and all(isinstance(p, str) for p in data["parameters"])
        and isinstance(data.get("cases"), list)
        and all(
            isinstance(case, dict)
            and isinstance(case.get("name"), str)
            and _safe_name(case["name"])
            and isinstance(case.get("overrides"), dict)
            for case in data["cases"]
        )
    )


def _safe_name(name: str) -> bool:
    """A case name that is one folder name inside cases/ (no path tricks)."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name


def _number(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
