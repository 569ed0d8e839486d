"""Quantity texts converted by pint are remembered between runs
(femcait.study.quantity_memo): a study whose texts are all known loads without importing
pint, to the same values; the memo never accepts what pint would refuse, and a damaged
memo is ignored."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from femcait.study import quantity_memo
from femcait.study.units import UnitError, to_si
from tests.conftest import DEFAULT_STUDY

LOAD = (
    "import json, sys\n"
    "from pathlib import Path\n"
    "from femcait.study import load_yaml, study_from_dict\n"
    f"path = Path({str(DEFAULT_STUDY)!r})\n"
    "study = study_from_dict(load_yaml(path), str(path), base_dir=path.parent)\n"
    "print(json.dumps({'pint': 'pint' in sys.modules, 'study': study.to_resolved_dict()}))\n"
)


def _load_in_a_new_process(cache) -> dict:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    result = subprocess.run(
        [sys.executable, "-c", LOAD], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(result.stdout)


def test_a_known_study_loads_without_pint_to_the_same_values(tmp_path):
    first = _load_in_a_new_process(tmp_path)
    assert first["pint"]  # nothing remembered yet
    memo = list((tmp_path / "femcait").glob("quantities-*.json"))
    assert len(memo) == 1 and "[length]\n100 um" in json.loads(memo[0].read_text())
    second = _load_in_a_new_process(tmp_path)
    assert not second["pint"]
    assert second["study"] == first["study"]
    memo[0].write_text('{"[length]\\n100 um": 0.5, "broken')  # damaged: ignored
    third = _load_in_a_new_process(tmp_path)
    assert third["pint"] and third["study"] == first["study"]


@pytest.fixture
def memo_in(tmp_path, monkeypatch):
    """The memo in a temporary cache folder, empty, for this process."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    quantity_memo.memo_path.cache_clear()
    quantity_memo._memo.cache_clear()
    yield tmp_path
    quantity_memo.memo_path.cache_clear()
    quantity_memo._memo.cache_clear()


def test_the_memo_keeps_the_dimension_and_never_a_refusal(memo_in):
    assert to_si("100 um", "[length]", "thickness") == pytest.approx(1e-4, rel=1e-15)
    assert quantity_memo.recalled("100 um", "[length]") == to_si("100 um", "[length]", "x")
    with pytest.raises(UnitError):  # the same text as a time is still pint's to refuse
        to_si("100 um", "[time]", "duration")
    with pytest.raises(UnitError):
        to_si("5 parsecs per fortnight", "[length]", "thickness")
    assert quantity_memo.recalled("100 um", "[time]") is None
    assert quantity_memo.recalled("5 parsecs per fortnight", "[length]") is None
    assert quantity_memo.recalled("1.4e28", "1/[length]**3") is None  # bare numbers: no pint


def test_a_full_memo_starts_again(memo_in, monkeypatch):
    monkeypatch.setattr(quantity_memo, "MAX_ENTRIES", 3)
    for value in ("1 nm", "2 nm", "3 nm", "4 nm"):
        to_si(value, "[length]", "x")
    saved = json.loads(quantity_memo.memo_path().read_text())
    assert list(saved) == ["[length]\n4 nm"]
