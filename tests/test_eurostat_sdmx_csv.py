"""Tests of the SDMX-CSV reader (hand-written fixtures in tests/fixtures/eurostat/)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from eocic.atomic import gzip_bytes, write_bytes_atomic
from eocic.eurostat.errors import EurostatFormatError
from eocic.eurostat.reader import read_eurostat
from eocic.eurostat.sdmx_csv import read_sdmx_csv
from eocic.eurostat.tsv import read_tsv


@pytest.fixture
def eurostat_fixtures(fixtures_dir):
    return fixtures_dir / "eurostat"


def cells(frame: pd.DataFrame) -> list[tuple]:
    return [tuple(None if isinstance(v, float) and math.isnan(v) else v for v in row)
            for row in frame.itertuples(index=False)]


def test_shuffled_columns_with_conf_status(eurostat_fixtures):
    frame = read_sdmx_csv(eurostat_fixtures / "sdmx_shuffled.csv")
    # dimensions in file column order (geo, unit, freq); DATAFLOW/LAST UPDATE dropped
    assert list(frame.columns) == ["geo", "unit", "freq", "time", "value", "flags"]
    assert cells(frame) == [
        ("AT11", "MIO_EUR", "A", "2022", 100.5, ""),
        ("AT11", "MIO_EUR", "A", "2023", None, "C"),
        ("AT11", "MIO_EUR", "A", "2024", 101.0, "ep"),
        ("AT11", "PPS_HAB", "A", "2022", None, "N"),
        ("AT11", "PPS_HAB", "A", "2023", 30000.0, "p"),
        ("AT11", "PPS_HAB", "A", "2024", None, "eC"),  # OBS_FLAG then CONF_STATUS
        ("AT12", "MIO_EUR", "A", "2022", 200.0, "e"),
        ("AT12", "MIO_EUR", "A", "2023", 210.0, ""),
        ("AT12", "MIO_EUR", "A", "2024", None, ""),
    ]


def test_same_schema_as_the_api_tsv(eurostat_fixtures):
    """The SDMX-CSV fixture holds the same observations as api_2025.tsv."""
    from_csv = read_sdmx_csv(eurostat_fixtures / "sdmx_shuffled.csv")
    from_tsv = read_tsv(eurostat_fixtures / "api_2025.tsv")
    reordered = from_csv[["freq", "unit", "geo", "time", "value", "flags"]]
    reordered = reordered.sort_values(["freq", "unit", "geo", "time"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(reordered, from_tsv)
    assert from_csv.dtypes.astype(str).to_dict() == {
        "geo": "category", "unit": "category", "freq": "category", "time": "category",
        "value": "float64", "flags": "str"}


def test_labels_both_variant_keeps_codes(eurostat_fixtures):
    frame = read_sdmx_csv(eurostat_fixtures / "sdmx_labels.csv")
    assert list(frame.columns) == ["freq", "unit", "geo", "time", "value", "flags"]
    assert cells(frame) == [("A", "MIO_EUR", "AT11", "2015", 8000.5, "p")]


def test_gzip_and_dispatch(eurostat_fixtures, tmp_path):
    expected = read_sdmx_csv(eurostat_fixtures / "sdmx_shuffled.csv")
    packed = write_bytes_atomic(tmp_path / "data.csv.gz",
                                gzip_bytes((eurostat_fixtures / "sdmx_shuffled.csv").read_bytes()))
    pd.testing.assert_frame_equal(read_sdmx_csv(packed), expected)
    pd.testing.assert_frame_equal(read_eurostat(packed), expected)
    pd.testing.assert_frame_equal(read_eurostat(eurostat_fixtures / "sdmx_shuffled.csv"), expected)


@pytest.mark.parametrize(("name", "line", "fragments"), [
    ("sdmx_no_obs_value.csv", 1, ["no OBS_VALUE column"]),
    ("sdmx_no_time_period.csv", 1, ["no TIME_PERIOD column"]),
    ("sdmx_duplicate.csv", 4, ["freq=A, geo=AT, time=2015", "repeats line 2"]),
    ("sdmx_bad_value.csv", 3, ["OBS_VALUE '12x5' is not a number"]),
])
def test_malformed_sdmx_csv(eurostat_fixtures, name, line, fragments):
    with pytest.raises(EurostatFormatError) as caught:
        read_sdmx_csv(eurostat_fixtures / name)
    assert caught.value.line == line
    assert f"{name}, line {line}:" in str(caught.value)
    for fragment in fragments:
        assert fragment in str(caught.value), (fragment, str(caught.value))


def test_wrong_field_count_names_the_line(tmp_path):
    path = write_bytes_atomic(tmp_path / "short.csv",
                              b"freq,geo,TIME_PERIOD,OBS_VALUE\nA,AT,2015,1\nA,BE,2015\n")
    with pytest.raises(EurostatFormatError, match=r"short\.csv, line 3: 3 comma-separated field"):
        read_sdmx_csv(path)


def test_bad_time_period(tmp_path):
    path = write_bytes_atomic(tmp_path / "period.csv", b"freq,geo,TIME_PERIOD,OBS_VALUE\nA,AT,2015,1\nA,BE,20x5,2\n")
    with pytest.raises(EurostatFormatError, match=r"line 3: TIME_PERIOD '20x5' is not a period"):
        read_sdmx_csv(path)


def test_quarterly_time_periods_sorted(tmp_path):
    path = write_bytes_atomic(tmp_path / "q.csv", b"freq,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG\n"
                              b"Q,BE,2016-Q1,5,\nQ,BE,2015-Q4,4,p\nQ,AT,2015Q4,1.5E2,\n")
    frame = read_sdmx_csv(path)
    assert cells(frame) == [("Q", "AT", "2015-Q4", 150.0, ""), ("Q", "BE", "2015-Q4", 4.0, "p"),
                            ("Q", "BE", "2016-Q1", 5.0, "")]
