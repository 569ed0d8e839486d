"""Benchmark: the shipped 2D studies end to end, as a user runs them.

Each study in ``studies/`` with a 2D geometry runs once with ``femcait run`` on the given
number of ranks (``mpiexec -n N`` for N > 1), into a temporary folder, with the form cache
warm from an earlier run or not (the first run of a study compiles its forms: run the
script twice for warm figures). Prints wall time, solve time, unknowns, cells (at the end
and the most, with the mesh adaptations), steps, rejected steps, Newton iterations and the
front depth of each.

    .venv/bin/python benchmarks/shipped_2d.py [--ranks 2] [--studies NAME ...]
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

ROOT = Path(__file__).resolve().parents[1]
STUDIES = (
    "li3b7o12_k_cait_2d",
    "li3b7o12_k_masked_2d",
    "li3b7o12_k_spot_axisym",
    "two_phase_glass_2d",
)


def run(study: Path, out: Path, ranks: int) -> tuple[float, dict]:
    """Wall seconds and summary.json of one run."""
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "femcait"), "run", str(study), "--out", str(out), "--quiet"]
    if ranks > 1:
        command = [str(bin_dir / "mpiexec"), "-n", str(ranks), *command]
    start = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return time.perf_counter() - start, json.loads((out / "summary.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--studies", nargs="+", default=list(STUDIES), choices=STUDIES)
    args = parser.parse_args()
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {args.ranks} rank(s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.studies:
            wall, s = run(ROOT / "studies" / f"{name}.yaml", Path(tmp) / name, args.ranks)
            print(
                f"{name}: wall {wall:.0f} s (solve {s['solve_wall_s']:.0f} s), "
                f"{s['dofs']} unknowns, {s['cells']} cells (most {s['max_cells']}, "
                f"{s['mesh_adaptations']} adaptations), {s['steps']} steps "
                f"({s['rejected_steps']} rejected), {s['newton_iterations']} Newton "
                f"iterations, front {s['front_depth_m'] * 1e9:.2f} nm",
                flush=True,
            )


if __name__ == "__main__":
    main()
