"""Every shipped study loads; a sweep's every case validates."""

from __future__ import annotations

from pathlib import Path

import pytest

from femcait.study import load_yaml, study_from_dict
from femcait.sweep import expand_sweep
from tests.conftest import ROOT, shipped_study_files

STUDIES = shipped_study_files()
FITS = sorted((ROOT / "studies").glob("fit_*.yaml"))


@pytest.mark.parametrize("path", STUDIES, ids=[p.name for p in STUDIES])
def test_shipped_study_is_valid(path: Path) -> None:
    data = load_yaml(path)
    sweep = expand_sweep(data, str(path))
    for case in sweep.cases:
        study = study_from_dict(case.study, str(path), base_dir=path.parent)
        assert study.name == data["name"]
    if path.name == "li3b7o12_sweep.yaml":
        assert len(sweep.cases) >= 8
        assert set(sweep.parameters) == {"species.K.diffusion.D", "species.Li.diffusion.sed.fwhm"}


@pytest.mark.parametrize("path", FITS, ids=[p.name for p in FITS])
def test_shipped_fit_is_valid(path: Path) -> None:
    """A shipped fit file, its studies, measured files and parameter paths all check out."""
    from femcait.fit.job import prepare

    fit, experiments, parameters = prepare(path)
    assert [e.name for e in experiments] == [e.name for e in fit.experiments]
    assert [p.path for p in parameters] == list(fit.parameters)


def test_paper_studies_share_one_li_sed() -> None:
    laws = []
    for ion in ("k", "rb", "cs"):
        data = load_yaml(ROOT / "studies" / f"paper_fig1_{ion}.yaml")
        law = dict(data["species"]["Li"]["diffusion"])
        laws.append((law.pop("immobile_fraction"), law))
    assert [fraction for fraction, _ in laws] == [0.15, 0.07, 0.03]
    assert laws[0][1] == laws[1][1] == laws[2][1]
