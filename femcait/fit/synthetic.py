"""Synthetic measured profiles made by femcait itself: a run's profile at the end, seen
through a depth resolution (Gaussian, or the MRI model with mixing and information
depth), sampled at given depths, with Gaussian noise and a detection floor. For recovery
tests and the shipped fit example.

    python -m femcait.fit.synthetic STUDY.yaml OUT.csv --sigma 2e-9 --noise 0.01 --seed 1
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

import numpy as np

from femcait.fit.measurement import observed
from femcait.output.tables import read_final_profile


def synthetic_profile(
    study_path: Path,
    out_csv: Path,
    species: list[str],
    depths_m: np.ndarray,
    sigma_m: float,
    noise: float,
    floor: float,
    seed: int,
    mixing_m: float = 0.0,
    information_m: float = 0.0,
) -> None:
    """Run the study, and write ``depth_nm`` and ``<species>_frac`` columns to ``out_csv``:
    the fractions seen through the resolution plus N(0, noise) noise, values below
    ``floor`` set to it."""
    import dolfinx_solver  # noqa: F401  (before dolfinx / petsc4py)
    from mpi4py import MPI

    from femcait.runner import run_study
    from femcait.study import load_study

    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        run_study(load_study(study_path), Path(tmp) / "run", MPI.COMM_SELF, show_progress=False)
        depth, fractions = read_final_profile(Path(tmp) / "run")
    columns = {"depth_nm": depths_m * 1e9}
    for name in species:
        values = observed(depth, fractions[name], sigma_m, mixing_m, information_m, depths_m)
        values = values + rng.normal(0.0, noise, values.size)
        columns[f"{name}_frac"] = np.maximum(values, floor)
    with open(out_csv, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(columns)
        writer.writerows(zip(*columns.values(), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--species", nargs="+", default=["K", "Li"])
    parser.add_argument("--sigma", type=float, default=2e-9, help="resolution (m)")
    parser.add_argument("--mixing", type=float, default=0.0, help="MRI mixing length (m)")
    parser.add_argument("--information", type=float, default=0.0, help="information depth (m)")
    parser.add_argument("--noise", type=float, default=0.01, help="noise (fraction of n_bg)")
    parser.add_argument("--floor", type=float, default=1e-3)
    parser.add_argument("--depth", type=float, default=150e-9, help="deepest point (m)")
    parser.add_argument("--points", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    depths = np.linspace(args.depth / args.points, args.depth, args.points)
    synthetic_profile(
        args.study,
        args.out,
        args.species,
        depths,
        args.sigma,
        args.noise,
        args.floor,
        args.seed,
        args.mixing,
        args.information,
    )


if __name__ == "__main__":
    main()
