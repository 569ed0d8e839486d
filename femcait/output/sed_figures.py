"""Figures of ``femcait sed``, in the style of the reference paper's Figs. 2 and 4."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from femcait.sed import NUMPY_OPS, ConstantDiffusion, DiffusionLaw
from femcait.sed_report import FRACTIONS, SpeciesSED


def plot_sed_diffusion(path: Path, analyses: list[SpeciesSED], laws: dict[str, DiffusionLaw]):
    """D vs n / n_bg on a log scale for every species (cf. paper Fig. 2)."""
    fig, ax = plt.subplots(figsize=(6, 4.5), constrained_layout=True)
    for analysis in analyses:
        ax.semilogy(FRACTIONS, analysis.table["D_m2_s"], label=f"D({analysis.name}+)")
    for name, law in laws.items():
        if isinstance(law, ConstantDiffusion):
            D = np.broadcast_to(law(FRACTIONS, NUMPY_OPS), FRACTIONS.shape)
            ax.semilogy(FRACTIONS, D, "--", label=f"D({name}+), constant")
    ax.set_xlabel("n / n_bg")
    ax.set_ylabel("D / (m$^2$ s$^{-1}$)")
    ax.set_xlim(0, 1)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=120)
    plt.close(fig)


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
