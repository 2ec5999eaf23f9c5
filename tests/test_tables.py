"""The schemas of the processed tables: one per table, checked where written and where read,
and the data dictionary generated from them."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from conftest import REPO_ROOT
from eocic import cli, tables
from eocic.tables import TableNotFoundError, TableValidationError
from schema_frames import complete


def _peers() -> pd.DataFrame:
    return complete("peers", pd.DataFrame({
        "geo": ["AT11", "AT11", "AT12"], "peer": ["AT12", "AT13", "AT11"],
        "distance": [0.5, 0.7, 0.5], "rank": [1, 2, 1]}), chosen_by="nearest")


def _coverage() -> pd.DataFrame:
    return complete("coverage", pd.DataFrame({
        "table": ["sbs", "context"], "indicator": ["employment", "population"],
        "country": ["AT", "AT"], "cells": [10, 9], "available": [8, 9], "share": [0.8, 1.0]}),
        year=2020)


def test_data_dictionary_is_up_to_date():
    """docs/data_dictionary.md is generated from the schemas; regenerate it with
    `python -m eocic.tables > docs/data_dictionary.md` after changing eocic/tables.py."""
    committed = (REPO_ROOT / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    assert committed == tables.data_dictionary(), (
        "docs/data_dictionary.md is out of date: run "
        "`python -m eocic.tables > docs/data_dictionary.md`")


def test_the_dictionary_documents_every_column_of_every_table(capsys):
    text = tables.data_dictionary()
    for schema in tables.SCHEMAS.values():
        assert f"\n## {schema.name}\n" in text
        for column in schema.columns:
            assert column.description.strip(), (schema.name, column.name)
            assert f"| `{column.name}` | {column.kind} |" in text
    assert cli.main(["tables", "--markdown"]) == 0
    assert capsys.readouterr().out == text
    assert "README" not in text and "(data_dictionary.md)" not in text
    assert "docs/data_dictionary.md" in (REPO_ROOT / "data" / "processed"
                                         / "README.md").read_text()


def test_every_table_the_stages_write_has_a_schema():
    assert list(tables.SCHEMAS) == [
        "sbs", "regional_totals", "demography", "context", "national_classes", "coverage",
        "nuts_report", "cluster_mapping", "cluster_linkages", "relatedness_density",
        "scheme_employment", "scoreboard", "peers", "regressions", "stress_test", "pilot_did",
        "pilot_event_study", "key_figures"]
    from eocic.clusters import linkages, mapping
    from eocic.scoreboard import outputs
    from eocic.stress import exposure

    # the writers' column lists are the schemas' (one concept in one place)
    assert list(mapping.MAPPING_COLUMNS) == tables.CLUSTER_MAPPING.column_names
    assert list(linkages.PAIR_COLUMNS) == tables.CLUSTER_LINKAGES.column_names
    assert list(exposure.STRESS_COLUMNS) == tables.STRESS_TEST.column_names
    assert outputs.SCOREBOARD_COLUMNS == tables.SCOREBOARD.column_names
    assert "index" not in tables.SCOREBOARD.column_names  # would shadow DataFrame.index
    growth = tables.CLUSTER_MAPPING.column("growth")
    assert growth.unit == "fraction per year" and "100" in growth.description


@pytest.mark.parametrize("breakage, message", [
    (lambda f: f.assign(chosen_by=["nearest", "", "nearest"]),
     r'1 empty string\(s\) "" in chosen_by, e\.g\. geo=\'AT11\', peer=\'AT13\'; a missing value '
     r'is null'),
    (lambda f: f.assign(distance=[0.5, np.nan, 0.5]),
     r"1 missing value\(s\) in distance, e\.g\. geo='AT11', peer='AT13'"),
    (lambda f: f.assign(distance=[0.5, np.inf, 0.5]), r"1 infinite value\(s\) in distance"),
    (lambda f: f.assign(distance=[0.5, -1.0, 0.5]), r"1 negative value\(s\) in distance"),
    (lambda f: f.assign(rank=[1, 0, 1]), r"1 value\(s\) of rank outside \[1, None\]"),
    (lambda f: f.assign(chosen_by=["nearest", "by hand", "nearest"]),
     r"value\(s\) of chosen_by not one of \['nearest', 'user'\]: \['by hand'\]"),
    (lambda f: f.assign(peer=["AT12", "AT1", "AT11"]), r"of peer not matching .*\['AT1'\]"),
    (lambda f: f.assign(rank=[1.0, 2.0, 1.0]), r"column rank must be integer, not float64"),
    (lambda f: f.assign(peer=["AT12", "AT12", "AT11"]),
     r"2 rows share a key \['geo', 'peer'\], e\.g\. geo='AT11', peer='AT12'"),
    (lambda f: f.rename(columns={"rank": "index"}), r"missing \['rank'\]; unexpected \['index'\]"),
    (lambda f: f[["peer", "geo", "distance", "rank", "chosen_by"]], r"same columns, other order"),
])
def test_a_violation_names_the_file_column_rows_and_fix(tmp_path, breakage, message):
    broken = breakage(_peers())
    with pytest.raises(TableValidationError, match=message) as raised:
        tables.write_table(broken, "peers", tmp_path)
    text = str(raised.value)
    assert text.startswith(f"table peers ({tmp_path / 'peers.parquet'})")
    assert "eocic.scoreboard.outputs.write_outputs" in text and "no table was written" in text
    assert not list(tmp_path.iterdir())  # nothing written, not even a temporary file


def test_flags_may_be_empty_other_text_may_not(tmp_path):
    national = complete("national_classes", pd.DataFrame({
        "country": ["DE", "DE"], "nace_class": ["29.10", "29.20"], "division": ["C29", "C29"],
        "year": [2020, 2020], "employment": [100.0, np.nan], "flags": ["", "c"]}))
    tables.write_table(national, "national_classes", tmp_path)  # "" = no flag: a value
    with pytest.raises(TableValidationError, match=r'1 empty string\(s\) "" in country'):
        tables.validate(national.assign(country=["DE", ""]), tables.NATIONAL_CLASSES)


def test_one_table_breaking_its_schema_stops_the_stage_writing_any(tmp_path):
    with pytest.raises(TableValidationError, match="coverage"):
        tables.write_tables({"peers": _peers(),
                             "coverage": _coverage().assign(share=[0.8, 1.5])}, tmp_path)
    assert not (tmp_path / "peers.parquet").exists()


def test_written_tables_read_back_identical_and_byte_stable(tmp_path):
    first = tables.write_tables({"peers": _peers(), "coverage": _coverage()}, tmp_path / "a")
    second = tables.write_tables({"peers": _peers(), "coverage": _coverage()}, tmp_path / "b")
    for name in ("peers", "coverage"):
        assert hashlib.sha256(first[name].read_bytes()).digest() == \
            hashlib.sha256(second[name].read_bytes()).digest()
    read = tables.read_table(tmp_path / "a", "coverage")
    pd.testing.assert_frame_equal(read, _coverage(), check_dtype=False)
    assert read["cells"].dtype == "int64" and read["share"].dtype == "float64"


def test_reading_an_absent_or_foreign_table(tmp_path):
    run = tmp_path / "demo-2020"
    run.mkdir()
    with pytest.raises(TableNotFoundError, match=r"cluster_mapping not found at .*"
                                                 r"cluster_mapping\.parquet; it is written by "
                                                 r"stage 02 \(cluster mapping\): run it, e\.g\. "
                                                 r"eocic study --stage 02 --run-id demo-2020"):
        tables.read_table(run, "cluster_mapping")
    assert tables.read_table(run, "cluster_mapping", missing_ok=True) is None
    # a scoreboard written before the column index was renamed index_code
    old = pd.DataFrame({"index": ["ic"], "geo": ["AT11"], "year": [2020], "level": ["index"],
                        "code": ["ic"], "name": ["Index"], "score": [50.0], "rank": [1],
                        "rank_median": [1.0], "rank_p05": [1.0], "rank_p95": [2.0],
                        "imputed_share": [0.0]})
    old.to_parquet(run / "scoreboard.parquet")
    with pytest.raises(TableValidationError, match=r"scoreboard\.parquet\): columns .* \(missing "
                                                   r"\['index_code'\]; unexpected \['index'\].*"
                                                   r"another version of eocic.*Re-run stage 03 "
                                                   r"\(scoreboard\): eocic study --stage 03 "
                                                   r"--run-id demo-2020"):
        tables.read_table(run, "scoreboard")


def test_empty_frames_have_the_schema():
    for schema in tables.SCHEMAS.values():
        tables.validate(tables.empty_frame(schema), schema)


def test_filtered_read_checks_the_rows_read(tmp_path):
    tables.write_tables({"peers": _peers()}, tmp_path)
    read = tables.read_table(tmp_path, "peers", filters=[("geo", "==", "AT11")])
    assert read["geo"].tolist() == ["AT11", "AT11"] and read["peer"].tolist() == ["AT12", "AT13"]
    broken = _peers().assign(distance=[0.5, -1.0, 0.5])  # a negative distance breaks the schema
    broken.to_parquet(tmp_path / "peers.parquet")
    with pytest.raises(TableValidationError, match="distance"):
        tables.read_table(tmp_path, "peers", filters=[("peer", "==", "AT13")])
    assert len(tables.read_table(tmp_path, "peers", filters=[("geo", "==", "AT12")])) == 1
    # a file without the filtered column: the schema error, not pyarrow's
    pd.DataFrame({"label": ["edited by hand"]}).to_parquet(tmp_path / "peers.parquet")
    with pytest.raises(TableValidationError, match="columns .'label'. differ from the schema"):
        tables.read_table(tmp_path, "peers", filters=[("geo", "==", "AT12")])
