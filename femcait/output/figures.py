"""PNG figures of a run, in the style of the reference paper's Figs. 1 and 2."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from femcait.sed import NUMPY_OPS, ConstantDiffusion

_NATIVE_STYLE = {"color": "tab:blue"}
_FOREIGN_COLOURS = ["tab:red", "tab:orange", "tab:purple", "tab:brown"]
_MARGINS = {"left": 0.12, "right": 0.97, "bottom": 0.11, "top": 0.93}
"""Fixed margins: matplotlib's constrained layout took ~0.1 s per figure."""


def plot_profiles(
    path: Path,
    profiles: list,
    native: str,
    foreign: list[str],
    front_depth_m: float,
    title: str,
) -> None:
    """Native and foreign fractions vs depth at the output times (cf. paper Fig. 1)."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    fig.subplots_adjust(**_MARGINS)
    shades = np.linspace(0.35, 1.0, max(len(profiles), 1))
    for alpha, p in zip(shades, profiles, strict=False):
        depth_nm = p.depth_m * 1e9
        label = f"{p.time_s:g} s"
        ax.plot(
            depth_nm, p.fractions[native], alpha=alpha, label=f"{native}+ {label}", **_NATIVE_STYLE
        )
        for colour, name in zip(_FOREIGN_COLOURS, foreign, strict=False):
            ax.plot(
                depth_nm, p.fractions[name], alpha=alpha, color=colour, label=f"{name}+ {label}"
            )
    limit = 1.6 * front_depth_m * 1e9 if np.isfinite(front_depth_m) and front_depth_m > 0 else 200.0
    ax.set_xlim(0, max(limit, 5.0))
    ax.set_ylim(-0.02, 1.1)
    ax.set_xlabel("depth / nm")
    ax.set_ylabel("n / n_bg")
    ax.set_title(title)
    if profiles:
        ax.legend(fontsize=7, ncol=2)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_mesh(path: Path, profiles: list, front_depth_m: float, title: str) -> None:
    """Cell size vs depth at the output times (a 1D profile samples every node): how an
    adaptive mesh followed the front."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    fig.subplots_adjust(**_MARGINS)
    limit = 1.6 * front_depth_m * 1e9 if np.isfinite(front_depth_m) and front_depth_m > 0 else 200.0
    limit = max(limit, 5.0)
    shades = np.linspace(0.35, 1.0, max(len(profiles), 1))
    shown = [np.inf, 0.0]  # smallest and largest cell within the plotted depths
    for alpha, p in zip(shades, profiles, strict=False):
        depth_nm = p.depth_m * 1e9
        sizes = np.diff(depth_nm)
        ax.step(depth_nm[:-1], sizes, where="post", alpha=alpha, color="k", label=f"{p.time_s:g} s")
        visible = sizes[depth_nm[:-1] <= limit]
        shown = [min(shown[0], visible.min(initial=np.inf)), max(shown[1], visible.max(initial=0))]
    ax.set_xlim(0, limit)
    if shown[1] > 0:
        ax.set_ylim(0.7 * shown[0], 1.5 * shown[1])
    ax.set_yscale("log")
    # plain tick labels: matplotlib's default 10^k ones go through mathtext (~0.5 s)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("depth / nm")
    ax.set_ylabel("cell size / nm")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if profiles:
        ax.legend(fontsize=7)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_diffusion(
    path: Path, laws: dict[str, object], D_ref_m2_s: float, c_min: float = 1e-6
) -> None:
    """D(n) of every species vs n / n_bg on a log scale (cf. paper Fig. 2)."""
    c = np.logspace(np.log10(c_min), 0, 400)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    fig.subplots_adjust(**_MARGINS)
    for name, law in laws.items():
        D = np.broadcast_to(law(c, NUMPY_OPS), c.shape) * D_ref_m2_s
        style = "--" if isinstance(law, ConstantDiffusion) else "-"
        ax.semilogy(c, D, style, label=f"D({name}+)")
    ax.set_xlabel("n / n_bg")
    ax.set_ylabel("D / (m² s⁻¹)")
    ax.set_xlim(0, 1)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_fit(
    path: Path,
    depth_m: np.ndarray,
    measured: dict[str, np.ndarray],
    fitted: dict[str, np.ndarray],
    floor: float,
    title: str,
    residuals: dict[str, np.ndarray],
    residual_label: str,
) -> None:
    """Measured points and the fitted profile of every species, linear and log, and the
    residual of every point."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.13, top=0.9, wspace=0.25)
    depth_nm = depth_m * 1e9
    colours = ("tab:red", "tab:blue", "tab:green", "tab:purple")
    for ax, scale in zip(axes[:2], ("linear", "log"), strict=True):
        for colour, (name, data) in zip(colours, measured.items(), strict=False):
            ax.plot(depth_nm, data, ".", color=colour, alpha=0.5, label=f"{name}+ measured")
            ax.plot(depth_nm, fitted[name], "-", color=colour, label=f"{name}+ fit")
        ax.set_yscale(scale)
        ax.set_xlabel("depth / nm")
        ax.set_ylabel("n / n_bg")
        if scale == "log" and floor > 0:
            ax.axhline(floor, color="grey", lw=0.8, ls=":", label="floor")
            ax.set_ylim(bottom=0.3 * floor)
    axes[0].legend(fontsize=7)
    for colour, (name, values) in zip(colours, residuals.items(), strict=False):
        axes[2].plot(depth_nm, values, ".", color=colour, alpha=0.7, label=f"{name}+")
    axes[2].axhline(0.0, color="grey", lw=0.8)
    axes[2].set_xlabel("depth / nm")
    axes[2].set_ylabel(residual_label)
    axes[2].legend(fontsize=7)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_bands(path: Path, bands: list, title: str) -> None:
    """The fitted D(n) and PSED of every species the fit changed, each with its band (the
    16th-84th percentile of the laws of parameter sets drawn from the fit's uncertainty)."""
    fig, axes = plt.subplots(len(bands), 2, figsize=(10, 3.8 * len(bands)), squeeze=False)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.1, top=0.9, wspace=0.28, hspace=0.4)
    for (left, right), species in zip(axes, bands, strict=True):
        d = species.diffusion
        left.fill_between(d.x, d.low, d.high, color="tab:blue", alpha=0.3, label="16-84 %")
        left.plot(d.x, d.median, color="tab:blue", label=f"D({species.name}+), median")
        left.set_xscale("log")
        if d.high.max() > 10 * d.low.min():  # a D(n) over decades; else a linear axis
            left.set_yscale("log")
            left.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        left.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.4g"))
        left.set_xlabel("n / n_bg")
        left.set_ylabel("D / (m² s⁻¹)")
        left.grid(True, which="both", alpha=0.3)
        left.legend(fontsize=8)
        if species.psed is None:
            right.set_axis_off()
            continue
        e = species.psed
        right.fill_between(e.x, e.low, e.high, color="tab:orange", alpha=0.3, label="16-84 %")
        right.plot(e.x, e.median, color="tab:orange", label=f"PSED {species.name}+, median")
        right.set_xlabel("site energy / eV")
        right.set_ylabel("sites / (n_bg eV⁻¹)")
        right.set_ylim(bottom=0)
        right.legend(fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
