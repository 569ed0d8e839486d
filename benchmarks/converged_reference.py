"""Converged solution of the default study, the yardstick of the speed benchmarks.

Runs ``studies/li3b7o12_k_cait.yaml`` on the fixed graded mesh with cells and time steps
refined together, level by level (level k: fine_cell 0.25 nm / 2^k, local error tolerance
3e-3 / 10^k), and prints the front depth and plateau of each level and their changes:
the changes shrink as the levels converge. The finest level is written to ``benchmarks/data/``
(``default_study_converged.csv``: depth_m, Li_frac, K_frac, phi_V at the last output
time; ``.json``: front depth, plateau and the settings), which ``default_study.py`` and
``fipy_default.py`` compare against.

    .venv/bin/python benchmarks/converged_reference.py [--levels 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "studies" / "li3b7o12_k_cait.yaml"
DATA = ROOT / "benchmarks" / "data"
NAME = "default_study_converged"


def run_level(level: int, tmp: Path) -> dict:
    """One refined run: its settings, summary and final profile."""
    data = yaml.safe_load(STUDY.read_text())
    settings = {"fine_cell_m": 0.25e-9 / 2**level, "tolerance": 3e-3 / 10**level}
    data["mesh"] = {"adapt": False, "fine_cell": settings["fine_cell_m"]}
    data["time"] = {"tolerance": settings["tolerance"]}
    data["limits"] = {"max_steps": 10**6}
    study = tmp / f"level{level}.yaml"
    study.write_text(yaml.safe_dump(data))
    out = tmp / f"level{level}"
    femcait = Path(sys.executable).parent / "femcait"
    command = [str(femcait), "run", str(study), "--out", str(out), "--quiet"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    summary = json.loads((out / "summary.json").read_text())
    with open(out / "profiles.csv") as f:
        rows = list(csv.DictReader(f))
    last = max(float(r["time_s"]) for r in rows)
    profile = [r for r in rows if float(r["time_s"]) == last]
    return {"settings": settings, "summary": summary, "time_s": last, "profile": profile}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, default=3, help="refinement levels after 0")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for level in range(args.levels + 1):
            r = run_level(level, Path(tmp))
            s = r["summary"]
            line = (
                f"level {level}: fine_cell {r['settings']['fine_cell_m'] * 1e9:.4g} nm, "
                f"tolerance {r['settings']['tolerance']:.0e}: {s['cells']} cells, "
                f"{s['steps']} steps, front {s['front_depth_m'] * 1e9:.4f} nm, "
                f"plateau {s['plateau_frac'] * 100:.4f} %"
            )
            if results:
                previous = results[-1]["summary"]
                front = s["front_depth_m"] / previous["front_depth_m"] - 1
                plateau = s["plateau_frac"] / previous["plateau_frac"] - 1
                line += f" (change {front:+.2e} front, {plateau:+.2e} plateau)"
            print(line, flush=True)
            results.append(r)
    finest = results[-1]
    DATA.mkdir(exist_ok=True)
    with open(DATA / f"{NAME}.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["depth_m", "Li_frac", "K_frac", "phi_V"])
        for row in finest["profile"]:
            writer.writerow([row["depth_m"], row["Li_frac"], row["K_frac"], row["phi_V"]])
    summary = finest["summary"]
    reference = {
        "study": str(STUDY.relative_to(ROOT)),
        "time_s": finest["time_s"],
        "front_depth_m": summary["front_depth_m"],
        "plateau_frac": summary["plateau_frac"],
        "settings": finest["settings"],
        "cells": summary["cells"],
        "steps": summary["steps"],
        "levels": [
            {
                **r["settings"],
                "front_depth_m": r["summary"]["front_depth_m"],
                "plateau_frac": r["summary"]["plateau_frac"],
            }
            for r in results
        ],
    }
    (DATA / f"{NAME}.json").write_text(json.dumps(reference, indent=2) + "\n")
    print(f"written: {DATA / NAME}.csv, .json")


if __name__ == "__main__":
    main()
