"""Benchmark: femcait and FiPy side by side on the default study, both against the
converged reference, with the time ratio at equal accuracy.

femcait runs as a user runs it (``default_study.run_once``: a fresh process, warm form
cache, best of ``--repeat``); FiPy runs ``fipy_default.py`` with each of the settings
given (default: its own default, and 2400 backward-Euler steps, which reaches femcait's
plateau and profile accuracy). Both are scored by ``accuracy.errors`` (front, plateau, the
profiles' L1 difference over the exchanged amount, the largest difference). FiPy is not a
dependency of femcait: ``.venv/bin/pip install fipy`` first.

    .venv/bin/python benchmarks/peer_fipy.py [--repeat 3] [--fipy "" "--steps 2400"]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from accuracy import describe, errors
from default_study import run_once

from femcait.output.tables import read_final_profile

HERE = Path(__file__).resolve().parent


def fipy_run(options: str, folder: Path) -> tuple[dict, dict]:
    """FiPy's summary and its accuracy, for ``fipy_default.py`` with ``options``."""
    summary_path, profile_path = folder / "fipy.json", folder / "fipy.csv"
    command = [sys.executable, str(HERE / "fipy_default.py"), *shlex.split(options)]
    command += ["--summary", str(summary_path), "--save-profile", str(profile_path)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    summary = json.loads(summary_path.read_text())
    with open(profile_path, newline="") as stream:
        rows = list(csv.DictReader(stream))
    depth = np.array([float(r["depth_m"]) for r in rows])
    fractions = {
        key.removesuffix("_frac"): np.array([float(r[key]) for r in rows])
        for key in rows[0]
        if key.endswith("_frac")
    }
    return summary, errors(summary["front_depth_m"], summary["plateau_frac"], (depth, fractions))


def worst(e: dict) -> float:
    """The largest relative error of front, plateau and the profiles' L1."""
    return max(abs(e["front_rel"]), abs(e["plateau_rel"]), e["Li_l1_rel"], e["K_l1_rel"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fipy", nargs="+", default=["", "--steps 2400"])
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run_once(folder / "warm")
        runs = [run_once(folder / f"run{i}") for i in range(args.repeat)]
        best = min(runs, key=lambda r: r[2]["solve_wall_s"])
        mine = best[2]
        profile = read_final_profile(folder / f"run{runs.index(best)}")
        accuracy = errors(mine["front_depth_m"], mine["plateau_frac"], profile)
        loop = mine["solve_wall_s"]
        print(
            f"femcait: time loop {loop:.2f} s (best of {args.repeat}), end to end "
            f"{min(r[0] for r in runs):.2f} s; {mine['cells']} cells, {mine['steps']} steps; "
            f"worst error {worst(accuracy):.3%}"
        )
        print(f"  {describe(accuracy)}")
        for options in args.fipy:
            summary, fipy_accuracy = fipy_run(options, folder)
            print(
                f"FiPy [{options or 'default'}]: time loop {summary['solve_s']:.1f} s "
                f"({summary['solve_s'] / loop:.0f} x femcait's); {summary['cells']} cells, "
                f"{summary['steps']} steps, {summary['sweeps']} sweeps; worst error "
                f"{worst(fipy_accuracy):.3%}"
            )
            print(f"  {describe(fipy_accuracy)}")


if __name__ == "__main__":
    main()
