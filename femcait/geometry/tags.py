"""Facet tags from markers on the boundary."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from dolfinx import mesh as dmesh


def tag_facets(
    mesh: dmesh.Mesh, markers: Mapping[int, Callable[[np.ndarray], np.ndarray]]
) -> dmesh.MeshTags:
    """Tag the boundary facets whose vertices all satisfy a marker (x of shape (3, n) ->
    bool); the first matching marker in the mapping's order wins."""
    fdim = mesh.topology.dim - 1
    tagged: dict[int, int] = {}
    for value, marker in markers.items():
        for facet in dmesh.locate_entities_boundary(mesh, fdim, marker):
            tagged.setdefault(int(facet), int(value))
    entities = np.array(sorted(tagged), dtype=np.int32)
    values = np.array([tagged[e] for e in entities], dtype=np.int32)
    return dmesh.meshtags(mesh, fdim, entities, values)
