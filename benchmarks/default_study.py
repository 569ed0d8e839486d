"""Benchmark: the default study end to end on one core, with the form cache warm.

Runs ``femcait run studies/li3b7o12_k_cait.yaml`` as a user would (a fresh process, all
imports, output and figures included), once to warm the JIT form cache and then
``--repeat`` times, and prints wall time, peak memory and the run statistics.

    .venv/bin/python benchmarks/default_study.py [--repeat 3]
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
STUDY = ROOT / "studies" / "li3b7o12_k_cait.yaml"


def run_once(out: Path) -> tuple[float, float, dict]:
    """Wall seconds, peak resident MB of the child, and its summary.json."""
    femcait = Path(sys.executable).parent / "femcait"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    pid = subprocess.Popen([str(femcait), "run", str(STUDY), "--out", str(out), "--quiet"], env=env)
    _, status, usage = os.wait4(pid.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"femcait failed with status {status}")
    peak_mb = usage.ru_maxrss / 1024  # Linux: kilobytes
    return wall, peak_mb, json.loads((out / "summary.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_once(Path(tmp) / "warm")
        results = [run_once(Path(tmp) / f"run{i}") for i in range(args.repeat)]
    walls = [w for w, _, _ in results]
    peak = max(m for _, m, _ in results)
    s = results[-1][2]
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"end-to-end wall (s): best {min(walls):.2f}, all {', '.join(f'{w:.2f}' for w in walls)}")
    print(f"solve wall (s, inside the run): {s['solve_wall_s']:.2f}")
    print(f"peak memory (MB): {peak:.0f}")
    print(
        f"steps {s['steps']}, rejected {s['rejected_steps']}, Newton iterations "
        f"{s['newton_iterations']}, cells {s['cells']}, dofs {s['dofs']}"
    )
    print(f"front depth {s['front_depth_m'] * 1e9:.3f} nm, plateau {s['plateau_frac']:.4f}")


if __name__ == "__main__":
    main()
