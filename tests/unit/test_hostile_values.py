"""Every key of a full study set to each of a list of hostile values: the study loads and
passes the preflight, or both end in a `StudyError` (one readable line per problem);
never another exception (a traceback) and never a long computation."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator

import dolfinx_solver  # noqa: F401  # isort: split
import pytest

from femcait.errors import StudyError
from femcait.preflight import check_study
from femcait.study import study_from_dict
from tests.conftest import default_study_dict

HOSTILE = [
    10**400,
    -(10**400),
    1e308,
    -1e308,
    1e-308,
    5e-324,
    0,
    -1,
    1.0000001,
    True,
    None,
    [],
    {},
    "",
    "nan",
    "inf",
    "-inf",
    "1e-300",
    "1e300",
    "1e999 m",
    "1e-320 m",
    "1e308 km",
    "1e-30 s",
    "0 m",
    "(((((",
    "1 m^1000",
    "9**9**9 m",
    "10**10**10",
    "1 m/0",
    "1/0",
    "-300 K",
    "1 degC",
    "x" * 10_000,
]


def _full_study() -> dict:
    """The default study with every optional key written out."""
    data = default_study_dict()
    data["experiment"]["front_density"] = "1.4e28 m^-3"
    data["mesh"] = {
        "length_unit": "1 nm",
        "first_cell": "0.01 nm",
        "fine_cell": "0.25 nm",
        "fine_depth": "200 nm",
        "growth": 1.08,
        "fine_growth": 1.005,
        "adapt": True,
        "adapt_tolerance": 0.05,
        "min_cell": "0.01 nm",
    }
    data["time"] = {"dt_initial": "1e-6 s", "dt_min": "1e-9 s", "dt_max": "100 s"}
    data["time"].update(tolerance=3e-3, max_growth=2.0, scheme="bdf2")
    data["solver"] = {"petsc_options": {}, "max_newton_iterations": 15}
    data["output"] = {"plateau_min_depth": "2 nm", "imbalance_exclusion_depth": "1 nm"}
    data["limits"] = {"max_cells": 1e5, "max_steps": 1e5, "max_output_mb": 2000}
    data["limits"]["max_front_fraction"] = 1
    return data


def _leaves(node, path=()) -> Iterator[tuple]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    if path:
        yield path


PATHS = list(_leaves(_full_study()))


@pytest.mark.parametrize("path", PATHS, ids=[".".join(map(str, p)) for p in PATHS])
def test_hostile_values_are_study_errors(path):
    for value in HOSTILE:
        data = copy.deepcopy(_full_study())
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        started = time.monotonic()
        try:
            check_study(study_from_dict(data, "f.yaml"), "f.yaml")
        except StudyError as error:
            assert all(line.startswith("f.yaml: ") for line in str(error).splitlines())
        assert time.monotonic() - started < 2.0, f"{path} = {value!r:.40}"
