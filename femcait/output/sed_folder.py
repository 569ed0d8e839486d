"""The output folder of ``femcait sed``: sed.csv, sed.json, study.json and two figures."""

from __future__ import annotations

from pathlib import Path

from mpi4py import MPI

from femcait import __version__
from femcait.errors import StudyError
from femcait.output.figures import plot_diffusion
from femcait.output.run_folder import RunFolder
from femcait.output.sed_figures import plot_psed
from femcait.output.tables import CsvTable, write_json
from femcait.sed_report import CSV_COLUMNS, SpeciesSED, analyse
from femcait.study.schema import Study


def write_sed_folder(study: Study, out: Path) -> tuple[Path, list[SpeciesSED]]:
    """Analyse the study's SEDs and write the folder ``out`` atomically."""
    analyses = analyse(study)
    if not analyses:
        raise StudyError(
            f"study {study.name!r}: no species has an SED or D(n) table law "
            "(diffusion.law: sed or table); nothing to analyse"
        )
    folder = RunFolder(out, MPI.COMM_SELF, kind="sed")
    try:
        write_json(
            folder.path / "study.json", {**study.to_resolved_dict(), "femcait_version": __version__}
        )
        table = CsvTable(folder.path / "sed.csv", CSV_COLUMNS)
        for analysis in analyses:
            columns = analysis.table
            for i in range(len(columns["n_frac"])):
                table.append({"species": analysis.name, **{k: v[i] for k, v in columns.items()}})
        table.close()
        write_json(folder.path / "sed.json", _sed_json(study, analyses))
        plot_diffusion(folder.path / "sed_diffusion.png", study.diffusion_laws, D_ref_m2_s=1.0)
        plot_psed(folder.path / "sed_psed.png", analyses)
        return folder.commit(), analyses
    except BaseException:
        folder.discard()
        raise


def _sed_json(study: Study, analyses: list[SpeciesSED]) -> dict:
    """sed.json: per species, plus the first species' values (the native one, if it has
    an SED) at the top level."""
    first = analyses[0]
    return {
        "femcait_version": __version__,
        "study": study.name,
        "temperature_K": study.glass.temperature,
        "n_bg_m3": study.glass.n_bg,
        "species_name": first.name,
        **first.summary,
        "species": {a.name: a.summary for a in analyses},
    }
