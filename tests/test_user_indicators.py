"""User indicator tables: the reader's rules (each broken rule a named error), the framework's
``csv`` source naming an indicator of a table, and the RCI 2022 workbook converted."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

from eocic.errors import EocicError
from eocic.scoreboard.engine import build_scoreboards
from eocic.scoreboard.framework import FrameworkError, parse_framework
from eocic.scoreboard.sources import source_series
from eocic.scoreboard.user_indicators import (
    UserIndicatorError, framework_document, metadata_path_for, read_user_indicators)

REPO_ROOT = Path(__file__).resolve().parents[1]

VALUES = """geo,year,indicator,value
AT11,2021,corruption,0.6
AT12,2021,corruption,0.5
AT13,2021,corruption,
AT11,2021,unemployment_rate,4.9
AT12,2021,unemployment_rate,5.5
AT13,2021,unemployment_rate,10.2
"""
METADATA = """indicator,unit,direction,description,dimension
corruption,z-score,+1,EQI corruption pillar,institutions
unemployment_rate,% of active population,-1,Unemployment rate,labour_market
"""


def _write(folder: Path, values: str = VALUES, metadata: str | None = METADATA,
           metadata_name: str = "table.metadata.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "table.csv").write_text(values, encoding="utf-8")
    if metadata is not None:
        (folder / metadata_name).write_text(metadata, encoding="utf-8")
    return folder / "table.csv"


def test_a_valid_table_reads_with_missing_values_as_nan(tmp_path: Path):
    table = read_user_indicators(_write(tmp_path))
    assert table.indicators == ["corruption", "unemployment_rate"]
    assert list(table.metadata["direction"]) == [1, -1]
    series = table.series("corruption")
    assert series.loc[("AT11", 2021)] == 0.6 and np.isnan(series.loc[("AT13", 2021)])
    assert table.series("absent") is None


def test_yaml_metadata_is_found_beside_the_values(tmp_path: Path):
    yaml_text = ("corruption: {unit: z-score, direction: 1, description: EQI, "
                 "dimension: institutions}\n"
                 "unemployment_rate: {unit: '%', direction: -1, description: rate}\n")
    path = _write(tmp_path, metadata=yaml_text, metadata_name="table.metadata.yaml")
    assert metadata_path_for(path).name == "table.metadata.yaml"
    table = read_user_indicators(path)
    assert list(table.metadata["dimension"]) == ["institutions", ""]


HOSTILE = {
    "merged region code": (VALUES.replace("AT13,2021,corruption", "AT_C,2021,corruption"),
                           METADATA, ["line 4", "'AT_C' is not a NUTS code", "split merged"]),
    "lower-case geo": (VALUES.replace("AT11,2021,corruption", "at11,2021,corruption"),
                       METADATA, ["line 2", "not a NUTS code"]),
    "duplicated key": (VALUES + "AT12,2021,corruption,0.7\n", METADATA,
                       ["lines 3 and 8", "given twice", "keep one row"]),
    "colon as missing": (VALUES.replace("AT13,2021,corruption,", "AT13,2021,corruption,:"),
                         METADATA, ["line 4", "value ':'", "leave the cell empty"]),
    "text value": (VALUES.replace("4.9", "n/a"), METADATA, ["line 5", "not a number"]),
    "infinite value": (VALUES.replace("4.9", "inf"), METADATA, ["line 5", "not a number"]),
    "decimal comma": (VALUES.replace("4.9", '"4,9"'), METADATA, ["line 5", "dot as decimal"]),
    "bad year": (VALUES.replace("AT12,2021,unemployment", "AT12,21,unemployment"), METADATA,
                 ["line 6", "year '21'"]),
    "indicator code with space": (VALUES.replace("AT11,2021,unemployment_rate",
                                                 "AT11,2021,unemployment rate"),
                                  METADATA, ["line 5", "is not a code"]),
    "missing value column": ("geo,year,indicator\nAT11,2021,x\n", METADATA,
                             ["missing column(s) ['value']"]),
    "indicator without metadata": (VALUES + "AT11,2021,gdp,1\n", METADATA,
                                   ["['gdp'] have no entry in the metadata"]),
    "metadata without values": (VALUES, METADATA + "gdp,EUR,1,GDP,economy\n",
                                ["['gdp'] have no row in the values file"]),
    "direction zero": (VALUES, METADATA.replace(",+1,", ",0,"),
                       ["line 2 (corruption)", "direction '0'", "+1 (more is better)"]),
    "direction word": (VALUES, METADATA.replace(",-1,", ",down,"),
                       ["line 3 (unemployment_rate)", "direction 'down'"]),
    "metadata twice": (VALUES, METADATA + "corruption,z,1,again,institutions\n",
                       ["lines 2 and 4", "described twice"]),
    "empty unit": (VALUES, METADATA.replace("z-score", ""), ["unit is empty"]),
    "no metadata file": (VALUES, None, ["metadata file not found"]),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_tables_fail_with_file_line_and_fix(tmp_path: Path, case: str):
    values, metadata, expected = HOSTILE[case]
    path = _write(tmp_path, values, metadata)
    with pytest.raises(UserIndicatorError) as caught:
        read_user_indicators(path)
    message = str(caught.value)
    assert str(tmp_path) in message
    for part in expected:
        assert part in message, f"{case}: {part!r} not in {message!r}"
    assert isinstance(caught.value, EocicError) and isinstance(caught.value, ValueError)


def test_non_utf8_values_file_is_named(tmp_path: Path):
    path = _write(tmp_path)
    path.write_bytes("geo,year,indicator,value\nAT11,2021,corruption,0.6\n".encode("utf-16"))
    with pytest.raises(UserIndicatorError, match="not UTF-8 text"):
        read_user_indicators(path)


def _framework(path: Path, indicator: str = "corruption") -> dict:
    return {"indices": {"demo": {"name": "Demo", "groups": [
        {"code": "dim", "name": "Dim", "parent": "demo"}], "indicators": [
        {"code": "x", "name": "X", "parent": "dim", "unit": "z", "direction": 1,
         "rationale": "test", "source": {"table": "csv", "path": str(path),
                                         "indicator": indicator}}]}}}


def test_csv_source_naming_an_indicator_reads_the_user_table(tmp_path: Path):
    path = _write(tmp_path)
    source = parse_framework(_framework(path))["demo"].indicator("x").source
    assert source.indicator == "corruption" and source.path == path
    assert source.describe() == "csv:table.csv:corruption"
    series, reason = source_series(source, {})
    assert reason == "" and series.loc[("AT12", 2021)] == 0.5


def test_csv_source_naming_an_absent_indicator_gives_the_reason(tmp_path: Path):
    path = _write(tmp_path)
    source = parse_framework(_framework(path, "gdp"))["demo"].indicator("x").source
    series, reason = source_series(source, {})
    assert series is None and "has no indicator 'gdp'" in reason
    missing = parse_framework(_framework(tmp_path / "nothing.csv"))["demo"].indicator("x")
    assert "not found" in source_series(missing.source, {})[1]


def test_csv_source_on_a_broken_table_raises_the_table_error(tmp_path: Path):
    path = _write(tmp_path, VALUES + "AT11,2021,corruption,0.9\n")
    source = parse_framework(_framework(path))["demo"].indicator("x").source
    with pytest.raises(UserIndicatorError, match="given twice"):
        source_series(source, {})


def test_framework_refuses_a_non_string_indicator(tmp_path: Path):
    document = _framework(_write(tmp_path))
    document["indices"]["demo"]["indicators"][0]["source"]["indicator"] = 3
    with pytest.raises(FrameworkError, match="indicator 3 must be the code"):
        parse_framework(document)


def test_framework_document_takes_every_indicator(tmp_path: Path):
    table = read_user_indicators(_write(tmp_path))
    by_dimension = parse_framework(framework_document(table, "user", "User"))["user"]
    assert by_dimension.dimensions() == ["institutions", "labour_market"]
    assert by_dimension.indicator("unemployment_rate").direction == -1
    one = parse_framework(framework_document(table, "user", "User", dimension="all"))["user"]
    assert one.dimensions() == ["all"] and len(one.indicators) == 2


def test_framework_document_needs_a_dimension_for_every_indicator(tmp_path: Path):
    table = read_user_indicators(_write(tmp_path, metadata=METADATA.replace(",labour_market",
                                                                             ",")))
    with pytest.raises(UserIndicatorError, match="have no dimension"):
        framework_document(table, "user", "User")
    with pytest.raises(UserIndicatorError, match="is not a code"):
        framework_document(table, "user index", "User", dimension="all")


def _converter():
    spec = importlib.util.spec_from_file_location("convert_rci_2022",
                                                  REPO_ROOT / "tools" / "convert_rci_2022.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rci_2022_workbook_becomes_a_user_table_and_a_scoreboard(shared_data: Path,
                                                                 tmp_path: Path):
    """The RCI 2022 raw workbook: 68 indicators, 234 RCI regions (seven merged capitals
    split into their 15 NUTS-2 members: 242 regions); a scoreboard built on the table alone
    keeps every indicator after screening and scores every region."""
    workbook = shared_data / "composite_indices" / "RCI_2022_raw_data.xlsx"
    if not workbook.is_file():
        pytest.skip(f"{workbook} not in the shared data")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values_path, _ = _converter().write(workbook, tmp_path)
    table = read_user_indicators(values_path)
    assert len(table.indicators) == 68
    assert table.values["geo"].nunique() == 242
    assert {"AT12", "AT13", "BE10", "BE24", "BE31"} <= set(table.values["geo"])
    assert table.metadata["dimension"].nunique() == 11
    directions = dict(zip(table.metadata["indicator"], table.metadata["direction"]))
    assert directions["unemployment_rate"] == -1 and directions["corruption"] == 1
    assert (table.values.loc[table.values["geo"] == "AT12", "value"].to_numpy()
            == table.values.loc[table.values["geo"] == "AT13", "value"].to_numpy()).all()
    framework = parse_framework(framework_document(table, "rci_2022", "RCI 2022 raw"))
    board = build_scoreboards(framework, {}, year=2022)["rci_2022"]
    assert len(board.framework.indicators) == 68
    assert len(board.framework.dimensions()) == 11
    assert board.aggregated["rci_2022"].notna().sum() == 242
