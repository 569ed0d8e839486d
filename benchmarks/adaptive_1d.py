"""Benchmark: the default study on fixed and on adaptive 1D meshes, accuracy against cost.

Each variant runs as a user would (``femcait run`` in a fresh process, output included),
once to warm the form cache and then ``--repeat`` times; printed: end-to-end and time-loop
wall (best of the repeats), unknowns (final and most), steps, Newton iterations, mesh
adaptations, and the errors against the converged reference of ``converged_reference.py``.

Variants: the fixed graded mesh (fine_cell 0.25 nm, the default before adaptive meshes)
and finer fixed meshes, against the default adaptive mesh and adaptive meshes at other
mesh and time tolerances.

    .venv/bin/python benchmarks/adaptive_1d.py [--repeat 3]
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
from accuracy import errors

from femcait.output.tables import read_final_profile

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "studies" / "li3b7o12_k_cait.yaml"

VARIANTS: dict[str, dict] = {
    "fixed 0.25 nm (the fixed default)": {"mesh": {"adapt": False}},
    "fixed 0.125 nm": {"mesh": {"adapt": False, "fine_cell": "0.125 nm"}},
    "fixed 0.0625 nm": {"mesh": {"adapt": False, "fine_cell": "0.0625 nm"}},
    "adaptive (default: 4 nm, tolerance 0.2, time.tolerance 5e-3)": {},
    "adaptive, time.tolerance 3e-3": {"time": {"tolerance": 3e-3}},
    "adaptive, tolerance 0.1": {"mesh": {"adapt_tolerance": 0.1}},
    "adaptive, tolerance 0.05, time.tolerance 3e-3": {
        "mesh": {"adapt_tolerance": 0.05},
        "time": {"tolerance": 3e-3},
    },
    "adaptive 2 nm, tolerance 0.05, time.tolerance 3e-3": {
        "mesh": {"fine_cell": "2 nm", "adapt_tolerance": 0.05},
        "time": {"tolerance": 3e-3},
    },
}
"""Study sections of each variant (the default study's otherwise: an adaptive mesh from a
4 nm base, tolerance 0.2, smallest cell half the Debye length, time.tolerance 5e-3)."""


def run_once(study: Path, out: Path) -> tuple[float, dict]:
    """Wall seconds of a fresh ``femcait run`` and its summary.json."""
    femcait = Path(sys.executable).parent / "femcait"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    subprocess.run(
        [str(femcait), "run", str(study), "--out", str(out), "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - start, json.loads((out / "summary.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = yaml.safe_load(STUDY.read_text())
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; best of {args.repeat}"
    )
    print(
        "| variant | wall (s) | loop (s) | unknowns (final / most) | steps | Newton | "
        "adaptations | front | plateau | Li L1 | K L1 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, sections) in enumerate(VARIANTS.items()):
            study = Path(tmp) / f"variant{index}.yaml"
            study.write_text(yaml.safe_dump({**base, **sections}))
            run_once(study, Path(tmp) / f"warm{index}")
            runs = [run_once(study, Path(tmp) / f"v{index}_{k}") for k in range(args.repeat)]
            wall = min(w for w, _ in runs)
            loop = min(s["solve_wall_s"] for _, s in runs)
            s = runs[-1][1]
            e = errors(
                s["front_depth_m"],
                s["plateau_frac"],
                read_final_profile(Path(tmp) / f"v{index}_{args.repeat - 1}"),
            )
            fields = s["dofs"] // (s["cells"] + 1)  # species and the potential
            unknowns = s["dofs"], (s["max_cells"] + 1) * fields
            print(
                f"| {name} | {wall:.2f} | {loop:.2f} | {unknowns[0]} / {unknowns[1]} | "
                f"{s['steps']} ({s['rejected_steps']}) | {s['newton_iterations']} | "
                f"{s['mesh_adaptations']} | {e['front_rel']:+.3%} | {e['plateau_rel']:+.3%} | "
                f"{e['Li_l1_rel']:.3%} | {e['K_l1_rel']:.3%} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
