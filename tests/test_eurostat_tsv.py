"""Tests of the Eurostat TSV reader, the flag code lists and the format dispatcher.

Expectations are written out by hand from the fixture files in tests/fixtures/eurostat/.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from eocic.atomic import gzip_bytes, write_bytes_atomic
from eocic.eurostat import flags as eurostat_flags
from eocic.eurostat.errors import EurostatFormatError, UnknownFlagWarning
from eocic.eurostat.reader import read_eurostat
from eocic.eurostat.tsv import normalise_period, read_tsv


@pytest.fixture
def eurostat_fixtures(fixtures_dir):
    return fixtures_dir / "eurostat"


def cells(frame: pd.DataFrame) -> list[tuple]:
    """Rows as plain tuples; NaN replaced by None so lists compare with ==."""
    rows = []
    for row in frame.itertuples(index=False):
        rows.append(tuple(None if isinstance(v, float) and math.isnan(v) else v for v in row))
    return rows


# --- legacy bulk TSV ------------------------------------------------------------------------

LEGACY_EXPECTED = [
    # sorted by nace_r2, indic_sb, geo, then time ascending (the file has years descending)
    ("B", "V11210", "AT", "2013", 677.0, ""),
    ("B", "V11210", "AT", "2014", 692.0, ""),
    ("B", "V11210", "AT", "2015", 708.0, ""),
    ("B", "V11210", "AT1", "2013", 1234.56, ""),
    ("B", "V11210", "AT1", "2014", 0.0, "n"),
    ("B", "V11210", "AT1", "2015", -3.2, "e"),
    ("C", "V16110", "AT1", "2013", None, ""),
    ("C", "V16110", "AT1", "2014", 12.5, "bp"),
    ("C", "V16110", "AT1", "2015", None, "c"),
]


def test_legacy_bulk_cell_by_cell(eurostat_fixtures):
    frame = read_tsv(eurostat_fixtures / "legacy_bulk.tsv")
    assert list(frame.columns) == ["nace_r2", "indic_sb", "geo", "time", "value", "flags"]
    assert cells(frame) == LEGACY_EXPECTED
    assert frame.index.equals(pd.RangeIndex(9))


def test_schema_dtypes(eurostat_fixtures):
    frame = read_tsv(eurostat_fixtures / "legacy_bulk.tsv")
    for column in ["nace_r2", "indic_sb", "geo", "time"]:
        assert isinstance(frame[column].dtype, pd.CategoricalDtype), column
    assert list(frame["time"].cat.categories) == ["2013", "2014", "2015"]
    assert list(frame["geo"].cat.categories) == ["AT", "AT1"]  # trailing space of 'AT1 ' stripped
    assert frame["value"].dtype == np.float64
    assert pd.api.types.is_string_dtype(frame["flags"].dtype)
    assert not frame["flags"].isna().any()


def test_gzip_detected_by_magic_bytes_not_name(eurostat_fixtures, tmp_path):
    plain = (eurostat_fixtures / "legacy_bulk.tsv").read_bytes()
    expected = read_tsv(eurostat_fixtures / "legacy_bulk.tsv")
    gz_named = write_bytes_atomic(tmp_path / "legacy_bulk.tsv.gz", gzip_bytes(plain))
    gz_misnamed = write_bytes_atomic(tmp_path / "really_gzip.tsv", gzip_bytes(plain))
    pd.testing.assert_frame_equal(read_tsv(gz_named), expected)
    pd.testing.assert_frame_equal(read_tsv(gz_misnamed), expected)
    pd.testing.assert_frame_equal(read_eurostat(gz_named), expected)


def test_crlf_and_bom_are_tolerated(eurostat_fixtures, tmp_path):
    plain = (eurostat_fixtures / "legacy_bulk.tsv").read_bytes()
    windows = write_bytes_atomic(tmp_path / "crlf.tsv", b"\xef\xbb\xbf" + plain.replace(b"\n", b"\r\n"))
    pd.testing.assert_frame_equal(read_tsv(windows), read_tsv(eurostat_fixtures / "legacy_bulk.tsv"))


def test_same_input_gives_identical_output(eurostat_fixtures):
    first = read_tsv(eurostat_fixtures / "legacy_bulk.tsv")
    second = read_tsv(eurostat_fixtures / "legacy_bulk.tsv")
    pd.testing.assert_frame_equal(first, second)


# --- API TSV with 2025 flags ------------------------------------------------------------------

def test_api_tsv_with_2025_flags(eurostat_fixtures):
    frame = read_tsv(eurostat_fixtures / "api_2025.tsv")
    assert list(frame.columns) == ["freq", "unit", "geo", "time", "value", "flags"]
    assert cells(frame) == [
        ("A", "MIO_EUR", "AT11", "2022", 100.5, ""),
        ("A", "MIO_EUR", "AT11", "2023", None, "C"),
        ("A", "MIO_EUR", "AT11", "2024", 101.0, "ep"),
        ("A", "MIO_EUR", "AT12", "2022", 200.0, "e"),
        ("A", "MIO_EUR", "AT12", "2023", 210.0, ""),
        ("A", "MIO_EUR", "AT12", "2024", None, ""),
        ("A", "PPS_HAB", "AT11", "2022", None, "N"),
        ("A", "PPS_HAB", "AT11", "2023", 30000.0, "p"),
        ("A", "PPS_HAB", "AT11", "2024", None, "eC"),
    ]
    assert frame.loc[eurostat_flags.is_confidential(frame["flags"]), "time"].tolist() == ["2023", "2022", "2024"]


# --- periods ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("label", "expected"), [
    ("2015", "2015"), (" 2015 ", "2015"),
    ("2015S1", "2015-S1"), ("2015-S2", "2015-S2"),
    ("2015Q4", "2015-Q4"), ("2015-Q1", "2015-Q1"),
    ("2015M02", "2015-02"), ("2015-12", "2015-12"),
    ("2015W01", "2015-W01"), ("2015-W53", "2015-W53"),
    ("2015-12-31", "2015-12-31"), ("2015M12D31", "2015-12-31"),
    ("2015Q5", None), ("2015M13", None), ("2015-02-30", None), ("15", None), ("2015S3", None),
    ("", None), ("TOTAL", None),
])
def test_normalise_period(label, expected):
    assert normalise_period(label) == expected


@pytest.mark.parametrize(("name", "times", "values"), [
    ("quarterly_legacy.tsv", ["2015-Q3", "2015-Q4", "2016-Q1"], [3.0, 2.0, 1.0]),
    ("quarterly_api.tsv", ["2015-Q4", "2016-Q1"], [4.0, 5.0]),
    ("monthly_legacy.tsv", ["2015-01", "2015-02", "2015-03"], [1.0, 2.0, 3.0]),
    ("monthly_api.tsv", ["2015-01", "2015-02", "2015-12"], [1.0, 2.0, 12.0]),
    ("other_periods.tsv", ["2015-12-30", "2015-12-31", "2015-S1", "2015-S2", "2015-W01"],
     [5.0, 4.0, 2.0, 1.0, 3.0]),
])
def test_sub_annual_period_columns(eurostat_fixtures, name, times, values):
    frame = read_tsv(eurostat_fixtures / name)
    assert frame["time"].astype(str).tolist() == times
    assert frame["value"].tolist() == values
    assert list(frame["time"].cat.categories) == times


# --- unknown flags ----------------------------------------------------------------------------

def test_unknown_flags_warn_once_with_counts(eurostat_fixtures):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_tsv(eurostat_fixtures / "unknown_flags.tsv")
    unknown = [w for w in caught if issubclass(w.category, UnknownFlagWarning)]
    assert len(unknown) == 1
    message = str(unknown[0].message)
    assert "unknown_flags.tsv" in message
    assert "'x': 3" in message and "'y': 1" in message
    assert "'z'" not in message  # z is a known (legacy) code
    assert cells(frame) == [("AT", "2014", 6.0, "xy"), ("AT", "2015", 5.0, "x"),
                            ("BE", "2014", None, "x"), ("BE", "2015", 7.0, "z")]


def test_known_flags_do_not_warn(eurostat_fixtures):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_tsv(eurostat_fixtures / "api_2025.tsv")
        read_tsv(eurostat_fixtures / "legacy_bulk.tsv")


# --- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "line", "fragments"), [
    ("bad_header.tsv", 1, ["\\time", "\\TIME_PERIOD"]),
    ("bad_field_count.tsv", 3, ["2 tab-separated field", "3 fields"]),
    ("bad_value.tsv", 3, ["'12x5 '", "column 3", "2014"]),
    ("duplicate_key.tsv", 4, ["'NR,AT'", "repeats line 2"]),
    ("bad_key.tsv", 3, ["'NR'", "2 comma-separated codes"]),
    ("bad_period.tsv", 1, ["'Q5 '", "column 3"]),
])
def test_malformed_files_name_file_and_line(eurostat_fixtures, name, line, fragments):
    with pytest.raises(EurostatFormatError) as caught:
        read_tsv(eurostat_fixtures / name)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.line == line
    assert name in str(error) and f"line {line}:" in str(error)
    assert "expected" in str(error)
    for fragment in fragments:
        assert fragment in str(error), (fragment, str(error))


def test_truncated_gzip_names_the_file(eurostat_fixtures, tmp_path):
    packed = gzip_bytes((eurostat_fixtures / "legacy_bulk.tsv").read_bytes())
    truncated = write_bytes_atomic(tmp_path / "cut.tsv.gz", packed[: len(packed) // 2])
    with pytest.raises(EurostatFormatError, match=r"cut\.tsv\.gz.*truncated or corrupt gzip"):
        read_tsv(truncated)
    corrupt = write_bytes_atomic(tmp_path / "corrupt.tsv.gz", packed[:12] + b"\x00" * (len(packed) - 12))
    with pytest.raises(EurostatFormatError, match=r"corrupt\.tsv\.gz"):
        read_eurostat(corrupt)


def test_invalid_utf8_names_the_line(tmp_path):
    path = write_bytes_atomic(tmp_path / "latin1.tsv", "geo\\time\t2015 \nAT\t1 \nB\xc9\t2 \n".encode("latin-1"))
    with pytest.raises(EurostatFormatError, match=r"line 3: invalid UTF-8"):
        read_tsv(path)


def test_empty_and_blank_cells_are_errors(tmp_path):
    path = write_bytes_atomic(tmp_path / "blank.tsv", b"geo\\time\t2015 \t2014 \nAT\t1 \t\n")
    with pytest.raises(EurostatFormatError, match=r"line 2: cell '' in column 3"):
        read_tsv(path)


def test_header_only_file_gives_empty_frame(tmp_path):
    path = write_bytes_atomic(tmp_path / "empty.tsv", b"unit,geo\\TIME_PERIOD\t2015\t2016\n")
    frame = read_tsv(path)
    assert list(frame.columns) == ["unit", "geo", "time", "value", "flags"]
    assert len(frame) == 0


# --- dispatcher -------------------------------------------------------------------------------

def test_read_eurostat_dispatches_on_content(eurostat_fixtures, tmp_path):
    pd.testing.assert_frame_equal(read_eurostat(eurostat_fixtures / "api_2025.tsv"),
                                  read_tsv(eurostat_fixtures / "api_2025.tsv"))
    # an SDMX-CSV saved under a .tsv name is still recognised by its header
    misnamed = write_bytes_atomic(tmp_path / "odd.tsv", (eurostat_fixtures / "sdmx_shuffled.csv").read_bytes())
    frame = read_eurostat(misnamed)
    assert list(frame.columns) == ["geo", "unit", "freq", "time", "value", "flags"]  # SDMX-CSV column order
    assert len(frame) == 9 and frame["flags"].tolist().count("C") == 1


def test_read_eurostat_unrecognised(tmp_path):
    path = write_bytes_atomic(tmp_path / "notes.txt", b"hello\tworld\n")
    with pytest.raises(EurostatFormatError, match=r"notes\.txt, line 1: header is neither"):
        read_eurostat(path)


# --- flags module -----------------------------------------------------------------------------

def test_flag_code_lists():
    assert set(eurostat_flags.OBS_STATUS) == set("bdefimnpu")
    assert set(eurostat_flags.CONF_STATUS) == set("CNP")
    assert set(eurostat_flags.LEGACY_FLAGS) == set("bcdefinprsuz")
    assert eurostat_flags.RETIRED_CODES == {"s": "i", "z": "m", "c": "C"}
    assert "m" in eurostat_flags.KNOWN_FLAGS and "x" not in eurostat_flags.KNOWN_FLAGS
    assert "confidential" in eurostat_flags.describe("C")
    assert "imputed" in eurostat_flags.describe("i") and "see metadata" in eurostat_flags.describe("i")
    with pytest.raises(KeyError, match="unknown Eurostat flag 'x'"):
        eurostat_flags.describe("x")


def test_is_confidential_is_case_sensitive():
    flags = pd.Series(["", "c", "C", "N", "P", "n", "p", "bc", "eC", "u", None], dtype="str")
    assert eurostat_flags.is_confidential(flags).tolist() == [
        False, True, True, True, True, False, False, True, True, False, False]


def test_to_2025_codes():
    flags = pd.Series(["", "s", "z", "c", "bc", "ps", "r", "i"], dtype="str")
    assert eurostat_flags.to_2025_codes(flags).tolist() == ["", "i", "m", "C", "bC", "pi", "r", "i"]


# --- real data (integration) ------------------------------------------------------------------

@pytest.mark.shared_data
def test_real_sbs_regional_file(shared_data):
    frame = read_tsv(shared_data / "eurostat_sbs" / "sbs_r_nuts06_r2.tsv.gz")
    assert list(frame.columns) == ["nace_r2", "indic_sb", "geo", "time", "value", "flags"]
    assert len(frame) == 195_227 * 8
    assert list(frame["time"].cat.categories) == [str(year) for year in range(2008, 2016)]
    known = frame[(frame["nace_r2"] == "B") & (frame["indic_sb"] == "V11210") & (frame["geo"] == "AT")]
    assert known["time"].astype(str).tolist() == [str(year) for year in range(2008, 2016)]
    assert known["value"].tolist() == [665.0, 663.0, 663.0, 646.0, 648.0, 677.0, 692.0, 708.0]
    confidential = frame["flags"] == "c"
    assert confidential.sum() > 1000
    assert frame.loc[confidential, "value"].isna().all()


@pytest.mark.shared_data
def test_real_regional_context_files(shared_data):
    paths = sorted((shared_data / "regional_context").glob("*.tsv.gz"))
    assert paths
    for path in paths:
        frame = read_eurostat(path)
        assert list(frame.columns[-3:]) == ["time", "value", "flags"], path.name
        assert "geo" in frame.columns, path.name
        assert len(frame) > 0 and frame["value"].notna().any(), path.name
