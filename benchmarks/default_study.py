"""Benchmark: the default study end to end on one core, with the form cache warm.

Runs ``femcait run studies/li3b7o12_k_cait.yaml`` as a user would (a fresh process, all
imports, output and figures included), once to warm the JIT form cache and then
``--repeat`` times, and prints wall time (best and median), peak memory, the run
statistics and the accuracy against the converged reference of
``converged_reference.py``. The run draws its figures in a second process (beside the time
loop, on the other core of a 2-core machine): ``--repeat`` more runs confined to one CPU,
where the run draws them itself, show the time without that overlap.

    .venv/bin/python benchmarks/default_study.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from accuracy import describe, errors

from femcait.output.tables import read_final_profile

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "studies" / "li3b7o12_k_cait.yaml"


def run_once(out: Path, one_cpu: bool = False) -> tuple[float, float, dict]:
    """Wall seconds, peak resident MB of the child, and its summary.json; with
    ``one_cpu`` the run (and the figure process it starts) may use only the first CPU."""
    femcait = Path(sys.executable).parent / "femcait"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    command = [str(femcait), "run", str(STUDY), "--out", str(out), "--quiet"]
    pin = (lambda: os.sched_setaffinity(0, {0})) if one_cpu else None
    pid = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, preexec_fn=pin)
    _, status, usage = os.wait4(pid.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"femcait failed with status {status}")
    peak_mb = usage.ru_maxrss / 1024  # Linux: kilobytes
    return wall, peak_mb, json.loads((out / "summary.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_once(Path(tmp) / "warm")
        results = [run_once(Path(tmp) / f"run{i}") for i in range(args.repeat)]
        profile = read_final_profile(Path(tmp) / f"run{args.repeat - 1}")
        pinned = [run_once(Path(tmp) / f"pinned{i}", True)[0] for i in range(args.repeat)]
    walls = [w for w, _, _ in results]
    loops = [r[2]["solve_wall_s"] for r in results]
    peak = max(m for _, m, _ in results)
    s = results[-1][2]
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(
        f"end-to-end wall (s): best {min(walls):.2f}, median {statistics.median(walls):.2f}, "
        f"all {', '.join(f'{w:.2f}' for w in walls)}"
    )
    print(
        f"end-to-end wall on one CPU (s; figures drawn in the run's process): best "
        f"{min(pinned):.2f}, median {statistics.median(pinned):.2f}"
    )
    print(
        f"time loop (s, inside the run): best {min(loops):.2f}, "
        f"median {statistics.median(loops):.2f}"
    )
    print(f"peak memory (MB): {peak:.0f}")
    print(
        f"steps {s['steps']}, rejected {s['rejected_steps']}, Newton iterations "
        f"{s['newton_iterations']}, cells {s['cells']}, dofs {s['dofs']}"
    )
    print(f"front depth {s['front_depth_m'] * 1e9:.3f} nm, plateau {s['plateau_frac']:.4f}")
    print(describe(errors(s["front_depth_m"], s["plateau_frac"], profile)))


if __name__ == "__main__":
    main()
