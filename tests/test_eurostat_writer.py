"""Tests of the Eurostat TSV writer: exact text for both layouts, errors, gzip, round trip."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from eocic.eurostat.writer import format_eurostat_tsv, format_value, write_eurostat_tsv


def _sbs_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "nace_r2": ["B", "B", "B", "B", "B05", "B"],
            "indic_sb": ["V11210", "V11210", "V13320", "V11210", "V11210", "V13320"],
            "geo": ["AT", "AT", "AT", "AT11", "AT", "AT"],
            "time": ["2014", "2015", "2015", "2015", "2014", "2014"],
            "value": [692.0, 708.0, 1970.06, np.nan, 12.0, -0.04],
            "flags": ["", "p", "", "c", "p", ""],
        }
    )


def test_legacy_layout_exact_text():
    text = format_eurostat_tsv(
        _sbs_frame(), ["nace_r2", "indic_sb", "geo"], layout="legacy",
        decimals_by={"indic_sb": {"V13320": 1}},
    )
    expected = (
        "nace_r2,indic_sb,geo\\time\t2015 \t2014 \n"
        "B,V11210,AT\t708 p\t692 \n"
        "B,V11210,AT11\t: c\t: \n"
        "B,V13320,AT\t1970.1 \t0.0 \n"
        "B05,V11210,AT\t: \t12 p\n"
    )
    assert text == expected


def test_api_layout_exact_text_periods_ascending():
    frame = pd.DataFrame(
        {
            "freq": ["A", "A", "A"],
            "unit": ["PC_GDP", "PC_GDP", "PC_GDP"],
            "geo": ["BE", "BE", "AT"],
            "time": ["2021", "2020", "2021"],
            "value": [3.456, 3.0, np.nan],
            "flags": ["p", "", "C"],
        }
    )
    text = format_eurostat_tsv(frame, ["freq", "unit", "geo"], layout="api", decimals=2,
                               periods=["2019", "2020", "2021"])
    assert text == (
        "freq,unit,geo\\TIME_PERIOD\t2019 \t2020 \t2021 \n"
        "A,PC_GDP,AT\t: \t: \t: C\n"
        "A,PC_GDP,BE\t: \t3.00 \t3.46 p\n"
    )


def test_categorical_columns_and_missing_flags_column():
    frame = pd.DataFrame(
        {
            "unit": pd.Categorical(["MIO_EUR", "EUR_HAB"], categories=["MIO_EUR", "EUR_HAB", "X"]),
            "geo": pd.Categorical(["LU", "LU"]),
            "time": pd.Categorical(["2010", "2010"]),
            "value": [-1234.5, 80000.0],
        }
    )
    text = format_eurostat_tsv(frame, ["unit", "geo"], decimals=1)
    # rows sorted by code (EUR_HAB < MIO_EUR) although the category order says otherwise
    assert text == "unit,geo\\time\t2010 \nEUR_HAB,LU\t80000.0 \nMIO_EUR,LU\t-1234.5 \n"


def test_format_value_rounding_and_signed_zero():
    assert format_value(-0.04, 1) == "0.0"
    assert format_value(2.25, 0) == "2"
    assert format_value(float("nan"), 1) == ":"
    assert format_value(-12.5, 2) == "-12.50"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.assign(geo=["A,T"] * len(f)), "containing|hold no commas"),
        (lambda f: f.assign(flags=["p e"] * len(f)), "white space"),
        (lambda f: f.assign(value=[np.inf] * len(f)), "infinite"),
        (lambda f: f.drop(columns="time"), "lacks column"),
        (lambda f: pd.concat([f, f.iloc[[0]]]), "two values for one series and period"),
    ],
)
def test_bad_input_raises_clear_error(change, message):
    with pytest.raises(ValueError, match=message):
        format_eurostat_tsv(change(_sbs_frame()), ["nace_r2", "indic_sb", "geo"])


def test_gzip_file_is_deterministic_and_atomic(tmp_path):
    first = write_eurostat_tsv(_sbs_frame(), tmp_path / "a.tsv.gz", ["nace_r2", "indic_sb", "geo"])
    second = write_eurostat_tsv(_sbs_frame(), tmp_path / "b.tsv.gz", ["nace_r2", "indic_sb", "geo"])
    assert first.read_bytes() == second.read_bytes()
    assert gzip.decompress(first.read_bytes()).decode().startswith("nace_r2,indic_sb,geo\\time\t")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tsv.gz", "b.tsv.gz"]  # no temp left


@pytest.mark.parametrize("layout", ["legacy", "api"])
def test_round_trip_through_reader(tmp_path, layout):
    from eocic.eurostat.tsv import read_tsv

    frame = _sbs_frame()
    path = write_eurostat_tsv(frame, tmp_path / f"x_{layout}.tsv.gz", ["nace_r2", "indic_sb", "geo"],
                              layout=layout, decimals=2)
    back = read_tsv(path)
    assert list(back.columns) == ["nace_r2", "indic_sb", "geo", "time", "value", "flags"]
    keys = ["nace_r2", "indic_sb", "geo", "time"]
    merged = frame.merge(back.astype({k: str for k in keys}), on=keys, how="right",
                         suffixes=("_in", "_out"))
    # every written cell comes back; cells absent from the input come back as ": " (NaN, "")
    assert len(back) == 4 * 2  # 4 series x 2 periods
    present = merged["value_in"].notna()
    np.testing.assert_allclose(merged.loc[present, "value_out"], merged.loc[present, "value_in"].round(2))
    assert (merged["flags_out"] == merged["flags_in"].fillna("")).all()
    assert merged.loc[merged["flags_in"].isna(), "value_out"].isna().all()
