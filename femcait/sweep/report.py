"""``femcait report``: a sweep's results.csv (rebuilt from its case folders) as figures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from femcait.errors import OutputError
from femcait.sweep.results import write_results

FIGURES = {
    "front_depth_m": ("front depth / nm", 1e9),
    "plateau_frac": ("native plateau / n_bg", 1.0),
    "charge_C_m2": ("charge passed / (C m$^{-2}$)", 1.0),
}
"""Quantities plotted over the swept parameters: axis label and scale."""


def write_report(out: Path) -> list[Path]:
    """Rebuild ``out/results.csv`` and plot each quantity of `FIGURES` over the first swept
    parameter, one line per value of the second (if any); returns the files written."""
    out = Path(out)
    try:
        description = json.loads((out / "sweep.json").read_text())
    except FileNotFoundError:
        raise OutputError(f"{out} is not a sweep folder (no sweep.json)") from None
    parameters = description["parameters"]
    rows = write_results(out, description["cases"], parameters)
    written = [out / "results.csv"]
    done = [r for r in rows if r["status"] == "completed" and _number(r[parameters[0]])]
    if not parameters or not done:
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
            ys = [r[quantity] * scale if r[quantity] is not None else math.nan for r in members]
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


def _number(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
