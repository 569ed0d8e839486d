"""Benchmark: a 2D masked-edge study with about 2e5 unknowns on 1 and 2 MPI ranks.

The shipped masked study (studies/li3b7o12_k_masked_2d.yaml) on a finer lateral mesh
(0.5 nm cells at the mask edge), for the first ``--duration`` of the experiment, run by
``femcait run`` on one rank and by ``mpiexec -n 2`` (one case, the mesh split in two),
each once with a warm form cache (warmed by a 1 ms run). Prints unknowns, steps, Newton
iterations, wall time, time per Newton iteration, the 2-rank / 1-rank ratio, peak memory
per rank, and checks that both runs give the same front.

    .venv/bin/python benchmarks/two_d.py [--duration "20 s"] [--ranks 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "studies" / "li3b7o12_k_masked_2d.yaml"


def study(duration: str) -> dict:
    """The masked study, refined laterally to about 2e5 unknowns, shortened."""
    data = yaml.safe_load(STUDY.read_text())
    data["name"] = "masked_2d_benchmark"
    data["experiment"].update(duration=duration, output_times=[duration])
    data["mesh"].update(
        lateral_cell="0.5 nm", lateral_growth=1.04, lateral_max_cell="20 nm", fine_depth="144 nm"
    )
    data["limits"] = {"max_cells": 1_000_000}
    data.pop("output", None)
    return data


def run(path: Path, out: Path, ranks: int) -> tuple[float, float, dict]:
    """Wall seconds, peak resident MB of one rank, and summary.json."""
    femcait = [str(Path(sys.executable).parent / "femcait"), "run", str(path)]
    command = [*femcait, "--out", str(out), "--quiet"]
    if ranks > 1:
        command = [str(Path(sys.executable).parent / "mpiexec"), "-n", str(ranks), *command]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"femcait failed with status {status}")
    return wall, usage.ru_maxrss / 1024, json.loads((out / "summary.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="20 s")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.yaml"
        warm.write_text(yaml.safe_dump(study("1 ms"), sort_keys=False))
        run(warm, Path(tmp) / "warm", 1)  # compile the forms once (the same forms)
        path = Path(tmp) / "study.yaml"
        path.write_text(yaml.safe_dump(study(args.duration), sort_keys=False))
        for ranks in args.ranks:
            wall, peak, s = run(path, Path(tmp) / f"ranks{ranks}", ranks)
            results[ranks] = (wall, peak, s)
            print(
                f"{ranks} rank(s): wall {wall:.1f} s (solve {s['solve_wall_s']:.1f} s), "
                f"{s['dofs']} unknowns, {s['cells']} cells, {s['steps']} steps, "
                f"{s['newton_iterations']} Newton iterations, "
                f"{s['solve_wall_s'] / s['newton_iterations']:.3f} s per iteration, "
                f"peak memory {peak:.0f} MB (the largest rank), "
                f"front {s['front_depth_m'] * 1e9:.4f} nm"
            )
    if 1 in results and len(results) > 1:
        base = results[1]
        for ranks, (wall, _, s) in results.items():
            if ranks != 1:
                ratio = s["solve_wall_s"] / base[2]["solve_wall_s"]
                print(
                    f"{ranks} ranks / 1 rank: time loop {ratio:.2f}, end to end "
                    f"{wall / base[0]:.2f}; front agrees to "
                    f"{abs(s['front_depth_m'] / base[2]['front_depth_m'] - 1):.1e}"
                )


if __name__ == "__main__":
    main()
