"""Benchmark: the shipped fit example, with 2 and with 4 free parameters, on one core.

Runs ``femcait fit studies/fit_synthetic_k.yaml`` (D(K+) and the Li+ SED FWHM) and a
variant that also fits D_bulk of Li+ and the depth resolution, each in a fresh process
with a warm form cache, and prints wall time, forward runs and the fitted values with
their standard errors next to the values that made the synthetic profile.

    .venv/bin/python benchmarks/fit.py
"""

from __future__ import annotations

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
FIT = ROOT / "studies" / "fit_synthetic_k.yaml"
TRUTH = {
    "species.K.diffusion.D": 2.6e-21,
    "species.Li.diffusion.sed.fwhm": 0.25 * 1.602176634e-19,
    "species.Li.diffusion.D_bulk": 4.6e-18,
    "resolution.sigma": 2e-9,
}


def four_parameters(folder: Path) -> Path:
    """The example with D_bulk(Li+) and the resolution fitted too (from 2x and 1.5x off)."""
    data = yaml.safe_load(FIT.read_text())
    for experiment in data["experiments"]:
        experiment["study"] = str(FIT.parent / experiment["study"])
        experiment["measured"]["file"] = str(FIT.parent / experiment["measured"]["file"])
    data["parameters"]["species.Li.diffusion.D_bulk"] = {
        "min": "1e-18 m^2/s",
        "max": "2e-17 m^2/s",
        "log": True,
        "initial": "9.2e-18 m^2/s",
    }
    data["parameters"]["resolution.sigma"] = {"min": "0.5 nm", "max": "5 nm", "initial": "3 nm"}
    path = folder / "fit4.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run(fit: Path, out: Path) -> tuple[float, dict]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [str(Path(sys.executable).parent / "femcait"), "fit", str(fit), "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, json.loads((out / "fit.json").read_text())


def main() -> None:
    print(f"machine: {platform.node()} ({os.cpu_count()} cores), {platform.platform()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for label, fit in (("2 parameters", FIT), ("4 parameters", four_parameters(folder))):
            wall, report = run(fit, folder / label.replace(" ", "_"))
            print(
                f"{label}: {wall:.1f} s wall, {report['forward_runs']} forward runs, "
                f"status {report['status']}, reduced chi2 {report['reduced_chi2']:.3g}"
            )
            for path, entry in report["parameters"].items():
                truth = TRUTH[path]
                off = (entry["value"] - truth) / entry["stderr"] if entry["stderr"] else 0.0
                print(
                    f"  {path}: {entry['value']:.5g} +- {entry['stderr']:.2g} "
                    f"(truth {truth:.5g}, {off:+.1f} stderr)"
                )


if __name__ == "__main__":
    main()
