"""Benchmark: a 16-case sweep of the default study on 1 rank and on 2 ranks (two groups).

Builds the default study with a sweep over D(K+) (4 values) x SED FWHM (4 values), runs
``femcait run`` on one rank and under ``mpiexec -n 2`` into fresh folders, each with an
empty JIT form cache (XDG_CACHE_HOME), and prints the wall times, their ratio and how many
form modules were compiled (the forms of one case, not of 16: a case changes
fem.Constant values, not the forms). Then once more on one rank with the form cache
warm: the cost per case of a sweep (wall / 16, and the median of the cases' wall_s).

    .venv/bin/python benchmarks/sweep.py
"""

from __future__ import annotations

import csv
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def sweep_study() -> dict:
    data = yaml.safe_load((ROOT / "studies" / "li3b7o12_k_cait.yaml").read_text())
    data["name"] = "benchmark_sweep"
    data["sweep"] = {
        "parameters": {
            "species.K.diffusion.D": {
                "log": {"start": "1e-21 m^2/s", "stop": "1e-20 m^2/s", "num": 4},
                "label": "D_K",
            },
            "species.Li.diffusion.sed.fwhm": {
                "values": ["200 meV", "225 meV", "250 meV", "275 meV"],
                "label": "fwhm",
            },
        }
    }
    return data


def run(study: Path, out: Path, cache: Path, ranks: int) -> float:
    command = [str(BIN / "femcait"), "run", str(study), "--out", str(out)]
    if ranks > 1:
        command = [str(BIN / "mpiexec"), "-n", str(ranks), *command]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "XDG_CACHE_HOME": str(cache)}
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        study = folder / "sweep.yaml"
        study.write_text(yaml.safe_dump(sweep_study(), sort_keys=False))
        walls, compiled, case_walls = {}, {}, {}
        for ranks in (1, 2):
            cache = folder / f"cache{ranks}"
            walls[ranks] = run(study, folder / f"out{ranks}", cache, ranks)
            compiled[ranks] = len(list(cache.rglob("*.so")))
            with (folder / f"out{ranks}" / "results.csv").open() as stream:
                case_walls[ranks] = [float(row["wall_s"]) for row in csv.DictReader(stream)]
        print(f"machine: {platform.node()} ({os.cpu_count()} cores), {platform.platform()}")
        print(f"date: {time.strftime('%Y-%m-%d %H:%M')}")
        for ranks in (1, 2):
            print(
                f"16 cases on {ranks} rank(s): {walls[ranks]:.1f} s wall, "
                f"{compiled[ranks]} form modules compiled, sum of the cases' wall_s "
                f"{sum(case_walls[ranks]):.1f} s"
            )
        print(f"ratio 2 ranks / 1 rank: {walls[2] / walls[1]:.2f} (target < 0.6)")
        warm = run(study, folder / "warm", folder / "cache1", 1)
        with (folder / "warm" / "results.csv").open() as stream:
            cases = [float(row["wall_s"]) for row in csv.DictReader(stream)]
        print(
            f"16 cases on 1 rank, form cache warm: {warm:.1f} s wall, {warm / 16:.2f} s per "
            f"case; the cases' wall_s: median {statistics.median(cases):.2f} s "
            f"(target per case < 1.2 s)"
        )


if __name__ == "__main__":
    main()
