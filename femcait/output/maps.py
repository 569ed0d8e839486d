"""PNG maps of the 2D fields near the front at the output times, the front drawn."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.tri import Triangulation

from femcait.diagnostics.front import FRONT_LEVEL
from femcait.diagnostics.record import FieldMap, MapFrame

ZOOM_FRONT_FACTOR = 1.6
"""Maps reach this multiple of the deepest front in depth."""

MIN_ZOOM_M = 5e-9
"""Smallest depth range of a map."""


def map_window(last: FieldMap, foreign: list[str], frame: MapFrame) -> tuple[float, float, float]:
    """(lateral from, lateral to, depth to) in m: the front's neighbourhood.

    Depth: 1.6 times the deepest front of the last map (the whole mapped zone without a
    front). Lateral: the whole width if it is at most four times that depth, else four times
    the depth around the frame's centre.
    """
    foreign = sum(last.fractions[name] for name in foreign)
    depth_range = last.points_m[:, 1].max()
    crossing = last.points_m[foreign >= FRONT_LEVEL, 1]
    if len(crossing):
        depth_range = min(depth_range, max(ZOOM_FRONT_FACTOR * crossing.max(), MIN_ZOOM_M))
    low, high = frame.lateral_extent_m
    if high - low <= 4 * depth_range:
        return low, high, depth_range
    start = max(low, frame.centre_m - 2 * depth_range)
    return start, min(high, start + 4 * depth_range), depth_range


def plot_field_maps(
    folder: Path, maps: list[FieldMap], native: str, foreign: list[str], frame: MapFrame
) -> list[Path]:
    """One PNG per output time, ``map_<time>s.png``: every species fraction and phi, with
    the front (foreign fraction 1/2) drawn in each panel."""
    window = map_window(maps[-1], foreign, frame)
    paths = []
    for field_map in maps:
        path = folder / f"map_{field_map.time_s:g}s.png"
        _plot_one(path, field_map, native, foreign, window)
        paths.append(path)
    return paths


def _plot_one(path: Path, m: FieldMap, native: str, foreign: list[str], window) -> None:
    start, stop, depth = window
    scale = 1e9  # nm
    tri = Triangulation(m.points_m[:, 0] * scale, m.points_m[:, 1] * scale, m.triangles)
    panels = [(f"{native}+  n / n_bg", m.fractions[native], (0, 1))]
    panels += [(f"{name}+  n / n_bg", m.fractions[name], (0, 1)) for name in foreign]
    panels.append(("phi / V", m.phi_V, None))
    front = sum(m.fractions[name] for name in foreign)
    fig, axes = plt.subplots(
        1, len(panels), figsize=(3.6 * len(panels), 3.6), constrained_layout=True, squeeze=False
    )
    for ax, (title, values, limits) in zip(axes[0], panels, strict=True):
        levels = np.linspace(*limits, 21) if limits else 21
        shading = ax.tricontourf(tri, values, levels=levels, cmap="viridis", extend="both")
        if front.min() < FRONT_LEVEL < front.max():
            ax.tricontour(tri, front, levels=[FRONT_LEVEL], colors="white", linewidths=1.2)
        fig.colorbar(shading, ax=ax, shrink=0.8)
        ax.set_xlim(start * scale, stop * scale)
        ax.set_ylim(depth * scale, 0)
        ax.set_aspect("auto")
        ax.set_xlabel("lateral position / nm")
        ax.set_title(title, fontsize=10)
    axes[0][0].set_ylabel("depth / nm")
    fig.suptitle(f"t = {m.time_s:g} s (white: front, foreign fraction 1/2)", fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_mesh_maps(
    path: Path, maps: list[FieldMap], foreign: list[str], frame: MapFrame, title: str
) -> None:
    """The mesh near the front at every output time (one row each): every triangle coloured
    by its depth extent (the row height of a grid) and by its lateral extent (the column
    width), the front drawn: how an adaptive 2D mesh followed it."""
    start, stop, depth = map_window(maps[-1], foreign, frame)
    scale = 1e9  # nm
    fig, axes = plt.subplots(
        len(maps), 2, figsize=(9.5, 3.2 * len(maps)), constrained_layout=True, squeeze=False
    )
    for row, m in zip(axes, maps, strict=True):
        points = m.points_m * scale
        tri = Triangulation(points[:, 0], points[:, 1], m.triangles)
        corners = points[m.triangles]  # (triangle, corner, axis)
        extents = corners.max(axis=1) - corners.min(axis=1)
        front = sum(m.fractions[name] for name in foreign)
        for ax, axis, label in ((row[0], 1, "depth"), (row[1], 0, "lateral")):
            shading = ax.tripcolor(
                tri, facecolors=np.log10(extents[:, axis]), cmap="viridis_r", vmin=-2, vmax=1
            )
            if front.min() < FRONT_LEVEL < front.max():
                ax.tricontour(tri, front, levels=[FRONT_LEVEL], colors="red", linewidths=1.0)
            ax.set_xlim(start * scale, stop * scale)
            ax.set_ylim(depth * scale, 0)
            ax.set_xlabel("lateral position / nm")
            ax.set_ylabel("depth / nm")
            ax.set_title(f"t = {m.time_s:g} s: {label} cell size", fontsize=9)
            bar = fig.colorbar(shading, ax=ax, shrink=0.85, ticks=[-2, -1, 0, 1])
            bar.ax.set_yticklabels(["0.01", "0.1", "1", "10"])
            bar.set_label("nm", fontsize=8)
    fig.suptitle(f"{title} (red: front)", fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)
