"""The Fig. 4-like figure of ``femcait sed`` (its Fig. 2-like one is `figures.plot_diffusion`)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from femcait.sed_report import SpeciesSED


def plot_psed(path: Path, analyses: list[SpeciesSED]) -> None:
    """SED, populated SED, its mobile part and the initial Fermi level (cf. paper Fig. 4)."""
    fig, axes = plt.subplots(
        len(analyses), 1, figsize=(6, 4 * len(analyses)), squeeze=False, constrained_layout=True
    )
    for ax, analysis in zip(axes[:, 0], analyses, strict=True):
        if analysis.site_density is not None:
            ax.plot(*analysis.site_density, color="black", label="SED (all sites)")
        E, psed = analysis.psed
        ax.fill_between(E, psed, color="tab:blue", alpha=0.25, label="populated SED (PSED)")
        if analysis.mobile_psed is not None:
            fraction = analysis.summary["immobile_fraction"]
            ax.fill_between(
                *analysis.mobile_psed,
                color="tab:blue",
                alpha=0.6,
                label=f"mobile part ({100 * (1 - fraction):.0f} % of n_bg)",
            )
        ax.axvline(
            analysis.bulk_fermi_level_eV, color="k", ls="--", label="initial Fermi level E_F(n_bg)"
        )
        fwhm = analysis.summary["psed_fwhm_eV"]
        title = f"{analysis.name}+"
        if fwhm is not None:
            title += f": PSED FWHM {1000 * fwhm:.0f} meV"
        reference = "" if analysis.site_density is not None else " - E_F(n_bg)"
        ax.set_title(title)
        ax.set_xlabel(f"site energy{reference} / eV")
        ax.set_ylabel("sites / (n_bg eV$^{-1}$)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)
