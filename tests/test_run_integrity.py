"""The tables record of a run folder: written at publication, checked by readers."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from eocic import run_integrity
from eocic.run_integrity import RunIntegrityError, record_tables, verify_tables


@pytest.fixture
def run_folder(tmp_path):
    folder = tmp_path / "demo-2020"
    folder.mkdir()
    pd.DataFrame({"a": [1, 2]}).to_parquet(folder / "sbs.parquet")
    pd.DataFrame({"b": [3.0]}).to_parquet(folder / "scoreboard.parquet")
    return folder


def test_record_then_verify_round_trip(run_folder):
    token = run_integrity.new_run_token()
    record = record_tables(run_folder, "demo-2020", token)
    assert sorted(record["tables"]) == ["sbs.parquet", "scoreboard.parquet"]
    assert verify_tables(run_folder)["run_token"] == token


def test_no_record_is_refused(run_folder):
    with pytest.raises(RunIntegrityError, match="no tables.json.*--run-id demo-2020"):
        verify_tables(run_folder)


def test_changed_missing_stray_and_foreign_tables_are_refused(run_folder):
    record_tables(run_folder, "demo-2020", "t1")
    pd.DataFrame({"a": [9, 9]}).to_parquet(run_folder / "sbs.parquet")
    with pytest.raises(RunIntegrityError, match="sbs.parquet was changed"):
        verify_tables(run_folder)
    record_tables(run_folder, "demo-2020", "t2")
    pd.DataFrame({"c": [1]}).to_parquet(run_folder / "regressions.parquet")
    with pytest.raises(RunIntegrityError, match="no finished run .* wrote: regressions.parquet"):
        verify_tables(run_folder)
    (run_folder / "regressions.parquet").unlink()
    (run_folder / "scoreboard.parquet").unlink()
    with pytest.raises(RunIntegrityError, match="scoreboard.parquet is listed .* but missing"):
        verify_tables(run_folder)
    record_tables(run_folder, "other-run", "t3")
    with pytest.raises(RunIntegrityError, match="belongs to run 'other-run'"):
        verify_tables(run_folder)
    (run_folder / "tables.json").write_text("{not json")
    with pytest.raises(RunIntegrityError, match="is damaged"):
        verify_tables(run_folder)
    (run_folder / "tables.json").write_text(json.dumps([1]))
    with pytest.raises(RunIntegrityError, match="not a tables record"):
        verify_tables(run_folder)
