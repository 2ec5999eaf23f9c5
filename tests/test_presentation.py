"""Tables and paths for readers (eocic.presentation): numbers, missing values, shares, long
tables written as CSV with a preview and a link, notes instead of warning blocks."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eocic.presentation import (MISSING, ReportTables, column_kinds, display_path, format_number,
                                format_table, notes_view, reader_notes)


@pytest.mark.parametrize(("value", "kind", "expected"), [
    (1234567, "number", "1,234,567"),
    (1234567, "count", "1,234,567"),
    (1234567.4, "number", "1,234,567"),       # no spurious decimals on large values
    (0.0003, "number", "0.000300"),          # 3 significant digits, not 0.000000
    (0.000123456, "number", "0.000123"),
    (12.3456, "number", "12.3"),
    (1.5, "number", "1.50"),
    (99.96, "number", "100"),                # rounding up crosses into whole numbers
    (-2.5, "number", "-2.50"),
    (0.0, "number", "0"),
    (3e-9, "number", "3.00e-09"),
    (0.123, "share", "12.3 %"),
    (-0.032, "share", "-3.2 %"),
    (1.0, "share", "100.0 %"),
    (0.0, "share", "0 %"),
    (0.0004, "share", "<0.1 %"),             # not 0.0 % when it is not zero
    (27.7, "percent", "27.7 %"),
    (4e-164, "pvalue", "<0.001"),
    (0.0421, "pvalue", "0.042"),
    (np.nan, "number", MISSING),
    (None, "share", MISSING),
    (pd.NA, "count", MISSING),
    (pd.NaT, "raw", MISSING),
    (True, "number", "yes"),
    (np.bool_(False), "number", "no"),
    ("DE11", "number", "DE11"),
    (2020, "raw", "2020"),
])
def test_format_number(value, kind, expected):
    assert format_number(value, kind) == expected


def test_missing_is_a_dash():
    assert MISSING == "–"


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        format_number(1.0, "currency")


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "geo": ["DE11", "FR10", "ITC4"], "year": [2020, 2020, 2020],
        "employment": [1234567, 890, 5],
        "lq": [2.3456, np.nan, 0.0003],
        "estimated_share": [0.123, 0.0, 1.0],
        "growth": [0.05, -0.032, np.nan],
        "change_pct": [-1.234, 0.5, 12.0],
        "apportioned": [True, False, False],
    }, index=[175, 176, 177])  # row labels left over from a filter: not shown


def test_format_table_reads_like_a_publication():
    text = format_table(_frame(), shares=["growth"])
    assert list(text.columns) == ["geo", "year", "employment", "lq", "estimated_share", "growth",
                                  "change_pct", "apportioned"]
    assert text.to_dict("list") == {
        "geo": ["DE11", "FR10", "ITC4"],
        "year": ["2020", "2020", "2020"],                 # a year is not 2,020
        "employment": ["1,234,567", "890", "5"],
        "lq": ["2.35", "–", "0.000300"],
        "estimated_share": ["12.3 %", "0 %", "100.0 %"],  # inferred: *_share within [0, 1]
        "growth": ["5.0 %", "-3.2 %", "–"],               # said by the caller
        "change_pct": ["-1.2 %", "0.5 %", "12.0 %"],      # inferred: *_pct is already in %
        "apportioned": ["yes", "no", "no"],
    }


def test_inference_is_conservative():
    frame = pd.DataFrame({"odd_share": [0.5, 1.7], "value": [0.5, 0.25], "rank": [1, 2]})
    # a "share" outside [0, 1] is not turned into a percentage; nothing is guessed from values
    assert column_kinds(frame) == {"odd_share": "number", "value": "number", "rank": "count"}


def test_a_typo_in_a_column_name_fails():
    with pytest.raises(KeyError, match="growht"):
        format_table(_frame(), shares=["growht"])


def test_index_kept_only_when_it_carries_information():
    named = _frame().set_index("geo")
    assert list(format_table(named).columns)[0] == "geo"
    pivot = pd.DataFrame({"kept": [3, 4]}, index=pd.Index(["sbs", "context"], name="table"))
    assert format_table(pivot).to_dict("list") == {"table": ["sbs", "context"], "kept": ["3", "4"]}
    labels = pd.DataFrame({"employment": [10]}, index=["neighbouring year"])  # unnamed labels
    assert format_table(labels).iloc[0].tolist() == ["neighbouring year", "10"]
    wide = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("rows", "sbs"),
                                                                      ("rows", "context")]))
    assert list(format_table(wide).columns) == ["rows sbs", "rows context"]


def test_short_table_html_hides_the_index_and_escapes(tmp_path: Path):
    tables = ReportTables("demo-2020", "01_data_pipeline", root=tmp_path)
    frame = _frame().assign(geo=["<b>DE11</b>", "FR10", "ITC4"])
    view = tables.show(frame, "profile")
    html = view._repr_html_()
    assert "&lt;b&gt;DE11&lt;/b&gt;" in html and "<b>DE11" not in html
    assert "175" not in html and "1,234,567" in html and "–" in html and "NaN" not in html
    assert view.csv_path is None and view.shown == view.rows == 3
    assert not (tmp_path / "reports").exists()   # short tables write nothing
    assert "1,234,567" in repr(view)              # readable text for the run's log


def test_long_table_writes_the_csv_and_shows_a_preview_with_a_link(tmp_path: Path):
    frame = pd.DataFrame({"geo": [f"R{i:03d}" for i in range(45)],
                          "employment": np.arange(45) * 1000.5})
    tables = ReportTables("demo-2020", "02_cluster_mapping", root=tmp_path, max_rows=20,
                          preview_rows=10)
    view = tables.show(frame, "strongest")
    path = tmp_path / "reports" / "demo-2020" / "tables" / "02_cluster_mapping_strongest.csv"
    assert view.csv_path == path and path.exists()
    written = pd.read_csv(path)
    assert len(written) == 45 and written["employment"].iloc[-1] == pytest.approx(44 * 1000.5)
    html = view._repr_html_()
    assert html.count("<tr") == 1 + 10                        # header + preview rows
    assert "R009" in html and "R010" not in html
    assert "href='tables/02_cluster_mapping_strongest.csv'" in html  # relative to the page
    assert "First 10 of 45 rows" in html
    assert not list(path.parent.glob(".*.tmp*"))              # written atomically


def test_table_names_are_checked(tmp_path: Path):
    tables = ReportTables("demo-2020", "01_data_pipeline", root=tmp_path)
    with pytest.raises(ValueError, match="table name"):
        tables.show(pd.DataFrame({"a": range(30)}), "../escape")
    with pytest.raises(ValueError, match="stage"):
        ReportTables("demo-2020", "01 pipeline", root=tmp_path)


def test_display_path_never_shows_the_machine(tmp_path: Path):
    root = tmp_path / "project"
    assert display_path(root / "data" / "raw" / "demo", root) == "data/raw/demo"
    assert display_path(root / "data" / "raw" / "demo" / "a.tsv", root / "data" / "raw" / "demo") \
        == "a.tsv"
    assert display_path("/home/someone/shared/data", root) == "…/data"
    assert display_path("data/raw/demo", root) == "data/raw/demo"


def test_reader_notes_collects_user_warnings_and_passes_others_on():
    with pytest.warns(RuntimeWarning, match="kept for the log"):
        with reader_notes() as notes:
            warnings.warn("3 negative values set to missing", UserWarning)
            warnings.warn("3 negative values set to missing", UserWarning)
            warnings.warn("kept for the log", RuntimeWarning)
    assert notes == ["3 negative values set to missing"]
    view = notes_view(["a <b> & c"], "Notes:")
    assert "a &lt;b&gt; &amp; c" in view._repr_html_()


def test_numbers_align_right_and_text_left(tmp_path: Path):
    html = ReportTables("r", "01_x", root=tmp_path).show(_frame(), "t")._repr_html_()
    assert "<th class='text'>geo</th>" in html and "<th class='num'>employment</th>" in html
    assert "<td class='num'>1,234,567</td>" in html and "<td class='text'>DE11</td>" in html
    assert "<th class='num'>year</th>" in html  # a year is a number, even shown as is


def test_columns_select_what_is_shown_and_the_csv_keeps_all(tmp_path: Path):
    frame = pd.DataFrame({"geo": [f"R{i}" for i in range(25)], "lq": 1.5, "size_star": False})
    view = ReportTables("r", "05_x", root=tmp_path).show(frame, "portfolio", columns=["geo", "lq"])
    assert "size_star" not in view._repr_html_()
    assert list(pd.read_csv(view.csv_path).columns) == ["geo", "lq", "size_star"]
    with pytest.raises(KeyError, match="stars"):
        ReportTables("r", "05_x", root=tmp_path).show(frame, "portfolio", columns=["stars"])
