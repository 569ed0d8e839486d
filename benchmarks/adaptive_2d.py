"""Benchmark: the masked 2D study on fixed and adaptive meshes, accuracy against cost.

The shipped masked study (studies/li3b7o12_k_masked_2d.yaml: 300 nm window of a 600 nm
cross-section, floating mask, 5 V) for its first ``--duration``, each variant run once by
``femcait run`` on one rank. Printed per variant: unknowns (final, and the most an adaptive
run had), steps, Newton iterations, wall time, and the errors against the finest fixed
mesh (the reference variant): front depth on the axis, lateral spread of the front under
the mask, and the integral of |difference| of the K and Li fractions along each profile
line over twice the front depth, relative to the front depth (in n_bg).

Runs whose summary.json is already in ``--out`` are read, not run again (the reference
takes about 17 min on one core).

    .venv/bin/python benchmarks/adaptive_2d.py [--duration "600 s"] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "studies" / "li3b7o12_k_masked_2d.yaml"
REFERENCE = "fixed 0.0625 nm, lateral 0.25 nm (reference)"

VARIANTS: dict[str, dict] = {
    "fixed (0.25 nm, lateral 1 nm)": {"adapt": False},
    "fixed 0.125 nm, lateral 0.5 nm": {
        "adapt": False,
        "fine_cell": "0.125 nm",
        "lateral_cell": "0.5 nm",
        "lateral_growth": 1.1,
        "lateral_max_cell": "25 nm",
    },
    "adaptive (the default: 4 nm, tolerance 0.2, lateral 1 nm)": {"adapt": True},
    "adaptive, lateral 0.5 nm": {"adapt": True, "lateral_cell": "0.5 nm"},
    REFERENCE: {
        "adapt": False,
        "fine_cell": "0.0625 nm",
        "lateral_cell": "0.25 nm",
        "lateral_growth": 1.1,
        "lateral_max_cell": "12.5 nm",
    },
}
"""Mesh keys of each variant over the study's (lateral_cell 1 nm, growth 1.2, at most
50 nm)."""


def run(name: str, mesh: dict, duration: str, out: Path) -> dict:
    """The variant's summary.json (run now unless it is in ``out`` already)."""
    folder = out / "".join(c if c.isalnum() else "_" for c in name)
    if (folder / "summary.json").exists():
        return json.loads((folder / "summary.json").read_text())
    data = yaml.safe_load(STUDY.read_text())
    data["experiment"].update(duration=duration, output_times=[duration])
    data["mesh"].update(mesh)
    data["limits"] = {"max_cells": 2_000_000}
    out.mkdir(parents=True, exist_ok=True)
    study = folder.with_suffix(".yaml")
    study.write_text(yaml.safe_dump(data))
    femcait = Path(sys.executable).parent / "femcait"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [str(femcait), "run", str(study), "--out", str(folder), "--quiet"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return json.loads((folder / "summary.json").read_text())


def line_profiles(folder: Path) -> dict[float, np.ndarray]:
    """Final profile of every line: position -> rows (depth, K, Li)."""
    with open(folder / "profiles.csv") as f:
        rows = list(csv.DictReader(f))
    last = max(float(r["time_s"]) for r in rows)
    lines: dict[float, list] = {}
    for r in rows:
        if float(r["time_s"]) == last:
            lines.setdefault(float(r["position_m"]), []).append(
                (float(r["depth_m"]), float(r["K_frac"]), float(r["Li_frac"]))
            )
    return {position: np.array(values) for position, values in lines.items()}


def profile_errors(candidate: Path, reference: Path, front_m: float) -> dict[float, float]:
    """Per line, the larger of the K and Li L1 differences over [0, 2 front] / front."""
    ours, theirs = line_profiles(candidate), line_profiles(reference)
    depth = np.linspace(0.0, 2 * front_m, 8001)
    result = {}
    for position, ref in theirs.items():
        mine = ours[position]
        result[position] = max(
            np.trapezoid(
                np.abs(
                    np.interp(depth, mine[:, 0], mine[:, k]) - np.interp(depth, *ref[:, [0, k]].T)
                ),
                depth,
            )
            / front_m
            for k in (1, 2)
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="600 s")
    parser.add_argument("--out", type=Path, default=Path("/tmp/femcait_adaptive_2d"))
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores")
    print(f"study: {STUDY.name}, first {args.duration}, one rank\n")
    summaries = {name: run(name, mesh, args.duration, args.out) for name, mesh in VARIANTS.items()}
    ref = summaries[REFERENCE]
    ref_folder = args.out / "".join(c if c.isalnum() else "_" for c in REFERENCE)
    for name, s in summaries.items():
        folder = args.out / "".join(c if c.isalnum() else "_" for c in name)
        lines = profile_errors(folder, ref_folder, ref["front_depth_m"])
        front = s["front_depth_m"] / ref["front_depth_m"] - 1
        spread = s["front_lateral_spread_m"] / ref["front_lateral_spread_m"] - 1
        print(f"{name}:")
        print(
            f"  unknowns {s['dofs']} (cells {s['cells']}, most {s['max_cells']}), "
            f"steps {s['steps']}, Newton {s['newton_iterations']}, "
            f"adaptations {s['mesh_adaptations']}, wall {s['wall_s']:.0f} s"
        )
        print(
            f"  front {s['front_depth_m'] * 1e9:.4g} nm ({front:+.2%}), spread "
            f"{s['front_lateral_spread_m'] * 1e9:.4g} nm ({spread:+.2%}), profiles "
            + ", ".join(f"{p * 1e9:g} nm {e:.2%}" for p, e in sorted(lines.items()))
        )


if __name__ == "__main__":
    main()
