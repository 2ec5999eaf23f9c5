"""External references: Spearman of the open indices with the RCI and the RIS 2023.

Unit tests use hand-made reference files in a temporary folder (the layouts of the shared
files) and hand-made scores whose Spearman rho is known by hand; the real-data tests read the
shared data folder (``EOCIC_SHARED_DATA``) and skip when it is absent.
"""

from __future__ import annotations

import math
import os
from types import SimpleNamespace

import pandas as pd
import pytest

from eocic.errors import EocicError
from eocic.findings import external_reference_findings
from eocic.report import _external_references_html
from eocic.scoreboard import external
from eocic.scoreboard.external import ExternalReferenceError
from schema_frames import write

# rho by hand: ranks (1, 2, 3, 4) against (1, 3, 2, 4): d = 0, 1, 1, 0, sum d^2 = 2,
# rho = 1 - 6 * 2 / (4 * (16 - 1)) = 0.8
GEOS = ["DE11", "DE12", "DE13", "DE14"]
SCORES_2013 = [1.0, 2.0, 3.0, 4.0]
REFERENCE = [10.0, 30.0, 20.0, 40.0]
RHO_BY_HAND = 0.8


def _rci_file(folder, rows):
    path = folder / external.RCI_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["NUTS CODE 2016", "Year", "value"]).to_csv(path, index=False)
    return path


def _ris_file(folder, rows, sheet=external.RIS_SHEET):
    path = folder / external.RIS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows, columns=["Indicator", "Year", "Region", "Value"])
    frame.to_excel(path, sheet_name=sheet, index=False)
    return path


def _reference_folder(tmp_path):
    """RCI 2016 and 2019 and RIS 2023 (2016 and 2023) on the four regions, plus codes that
    cannot be matched: AT00 (RCI merged capital), HR04 (split in NUTS 2021), AT1 (NUTS-1)."""
    rci = [(geo, edition, value) for edition in (2016, 2019)
           for geo, value in zip(GEOS + ["AT00", "HR04", "AT"], REFERENCE + [0.5, 0.1, 0.3])]
    _rci_file(tmp_path, rci)
    summary = external.RIS_SUMMARY
    ris = [(summary, year, geo, value) for year in (2016, 2023)
           for geo, value in zip(GEOS + ["AT1", "EU"], REFERENCE + [120.0, 100.0])]
    ris.append(("1.1 Human resources", 2016, "DE11", 99.0))  # not the summary index
    _ris_file(tmp_path, ris)
    return tmp_path


def _scores(index_code="ind"):
    """Open index in 2013 (ranks as SCORES_2013) and 2014, 2016 (reversed ranks)."""
    rows = [(index_code, geo, 2013, score) for geo, score in zip(GEOS, SCORES_2013)]
    rows += [(index_code, geo, year, 10.0 - score) for year in (2014, 2016)
             for geo, score in zip(GEOS, SCORES_2013)]
    return pd.DataFrame(rows, columns=["index_code", "geo", "year", "score"])


# --------------------------------------------------------------------------- the statistic

def test_spearman_check_equals_rho_by_hand():
    result = external.spearman_check(pd.Series(SCORES_2013, index=GEOS),
                                     pd.Series(REFERENCE, index=GEOS, name="ref"))
    assert result["matched"] == 4
    assert result["spearman"] == pytest.approx(RHO_BY_HAND)


def test_spearman_check_below_three_matched_is_nan():
    result = external.spearman_check(pd.Series([1.0, 2.0], index=GEOS[:2]),
                                     pd.Series(REFERENCE, index=GEOS, name="ref"))
    assert result["matched"] == 2 and math.isnan(result["spearman"])


# --------------------------------------------------------------------------- codes

def test_recode_counts_codes_not_nuts2_and_lost_to_code_changes():
    values = pd.Series([1.0, 2.0, 3.0, 4.0], index=["DE11", "HR04", "AT00", "FR21"])
    recoded, fate = external.recode_reference(values, 2013)
    outcome = fate.set_index("code")["outcome"]
    assert outcome.to_dict() == {"DE11": "kept", "HR04": "lost to code change",
                                 "AT00": "not NUTS-2", "FR21": "recoded"}
    assert "HR02+HR05+HR06" in fate.set_index("code").loc["HR04", "reason"]
    assert recoded.to_dict() == {"DE11": 1.0, "FRF2": 4.0}  # FR21 = FRF2, same territory


# --------------------------------------------------------------------------- year matching

def test_rci_editions_and_ris_years_are_matched_by_lag(tmp_path):
    folder = _reference_folder(tmp_path)
    table, messages = external.reference_correlations(_scores(), folder)
    assert messages == [f"RIS 2019 file {external.RII_FILE} not found in the shared data "
                        "folder; set EOCIC_SHARED_DATA to the folder holding it to check "
                        "against it"]
    rows = table.set_index(["reference", "reference_year"])
    rci_2016 = rows.loc[("RCI", 2016)]
    # RCI 2016 -> open index 2013, where the ranks give rho 0.8 by hand
    assert rci_2016["index_year"] == 2013 and rci_2016["matched"] == 4
    assert rci_2016["spearman"] == pytest.approx(RHO_BY_HAND)
    assert (rci_2016["reference_regions"], rci_2016["not_nuts2"],
            rci_2016["lost_to_code_changes"]) == (6, 1, 1)  # AT00 not NUTS-2, HR04 split
    # RCI 2019 -> 2016, where the open ranks are reversed
    assert rows.loc[("RCI", 2019), "spearman"] == pytest.approx(-RHO_BY_HAND)
    ris_2016 = rows.loc[("RIS 2023 summary index", 2016)]
    assert ris_2016["index_year"] == 2014 and ris_2016["not_nuts2"] == 1  # AT1; EU row left out
    assert ris_2016["reference_regions"] == 5
    assert ris_2016["spearman"] == pytest.approx(-RHO_BY_HAND)
    # RIS 2023 -> 2021: not computed, kept as a row that says so (never another year)
    ris_2023 = rows.loc[("RIS 2023 summary index", 2023)]
    assert ris_2023["matched"] == 0 and math.isnan(ris_2023["spearman"])
    assert ris_2023["note"] == "open index not computed for 2021 (its years: 2013-2016)"
    assert list(table.columns) == external.CORRELATION_COLUMNS
    references, _ = external.load_references(folder)
    reasons = references[0].codes.set_index("code")["reason"]
    assert reasons["AT00"] == external.RCI_MERGED_REASON


def test_references_are_read_once_per_file_version_and_each_caller_gets_its_own(tmp_path):
    folder = _reference_folder(tmp_path)
    external._load_references.cache_clear()
    first, _ = external.load_references(folder)
    first[0].values.iloc[0] = -99.0  # a caller changing its copy changes nobody else's
    second, _ = external.load_references(folder)
    assert external._load_references.cache_info().hits == 1
    assert second[0].values.iloc[0] != -99.0
    assert [r.name for r in second] == [r.name for r in first]
    # a new version of a file (here: RCI 2016 values of another region order) is read again
    rci = [(geo, edition, value) for edition in (2016, 2019)
           for geo, value in zip(GEOS, list(reversed(REFERENCE)))]
    _rci_file(tmp_path, rci)
    os.utime(tmp_path / external.RCI_FILE, ns=(1, 1))  # a distinct modification time
    third, _ = external.load_references(folder)
    assert external._load_references.cache_info().misses == 2
    assert third[0].values.tolist() == list(reversed(REFERENCE))


def test_lags_are_arguments(tmp_path):
    folder = _reference_folder(tmp_path)
    table, _ = external.reference_correlations(_scores(), folder, rci_lag=0, ris_years=(),
                                               include_rii=False)
    assert table["index_year"].tolist() == [2016, 2019]
    assert table["note"].str.startswith("open index not computed").tolist() == [False, True]


def test_absent_files_are_named_not_raised(tmp_path):
    table, messages = external.reference_correlations(_scores(), tmp_path)
    assert table.empty and len(messages) == 3
    assert all("not found in the shared data folder" in message for message in messages)
    assert str(tmp_path) not in " ".join(messages)  # file names only: shared reports


# --------------------------------------------------------------------------- hostile files

def test_ris_without_its_sheet_is_refused(tmp_path):
    _ris_file(tmp_path, [(external.RIS_SUMMARY, 2016, "DE11", 1.0)], sheet="Sheet1")
    with pytest.raises(ExternalReferenceError, match="Worksheet named 'RIS' not found; the "
                       "RIS 2023 database has one sheet 'RIS'"):
        external.read_ris_2023(tmp_path)


def test_ris_without_summary_rows_is_refused(tmp_path):
    _ris_file(tmp_path, [("1.1 Human resources", 2016, "DE11", 1.0)])
    with pytest.raises(ExternalReferenceError, match="no rows of indicator '0 Summary "
                       "Innovation Index'; is this the RIS 2023 database"):
        external.read_ris_2023(tmp_path)


def test_ris_text_value_names_the_region(tmp_path):
    _ris_file(tmp_path, [(external.RIS_SUMMARY, 2016, "DE11", 1.0),
                         (external.RIS_SUMMARY, 2016, "DE12", "12,5")])  # decimal comma
    with pytest.raises(ExternalReferenceError, match="column 'Value' of region 'DE12' holds "
                       "'12,5', not a number"):
        external.read_ris_2023(tmp_path)


def test_ris_region_twice_in_a_year_is_refused(tmp_path):
    _ris_file(tmp_path, [(external.RIS_SUMMARY, 2016, "DE11", 1.0),
                         (external.RIS_SUMMARY, 2016, "DE11", 2.0)])
    with pytest.raises(ExternalReferenceError, match="region 'DE11' has two '0 Summary "
                       "Innovation Index' values in 2016"):
        external.read_ris_2023(tmp_path)


def test_ris_missing_column_is_named(tmp_path):
    path = tmp_path / external.RIS_FILE
    path.parent.mkdir(parents=True)
    pd.DataFrame({"Indicator": [external.RIS_SUMMARY], "Year": [2016], "Value": [1.0]}).to_excel(
        path, sheet_name="RIS", index=False)
    with pytest.raises(ExternalReferenceError, match="column\\(s\\) 'Region' missing"):
        external.read_ris_2023(tmp_path)


def test_rci_text_value_and_missing_edition_are_refused(tmp_path):
    _rci_file(tmp_path, [("DE11", 2016, "0.4"), ("DE12", 2016, "<b>x</b>")])
    with pytest.raises(ExternalReferenceError, match="column 'value' of region 'DE12' holds "
                       "'<b>x</b>', not a number"):
        external.read_rci(2016, tmp_path)
    _rci_file(tmp_path, [("DE11", 2016, 0.4)])
    with pytest.raises(ExternalReferenceError, match="no RCI 2019 rows; editions are \\[2016\\]"):
        external.read_rci(2019, tmp_path)


def test_rci_region_twice_in_an_edition_is_refused(tmp_path):
    _rci_file(tmp_path, [("DE11", 2016, 0.4), ("DE11", 2016, 0.5)])
    with pytest.raises(ExternalReferenceError, match="region 'DE11' occurs twice in RCI 2016"):
        external.read_rci(2016, tmp_path)


def test_error_is_an_eocic_error_and_a_value_error():
    assert issubclass(ExternalReferenceError, EocicError)
    assert issubclass(ExternalReferenceError, ValueError)


def test_scores_without_their_columns_are_refused():
    with pytest.raises(ExternalReferenceError, match="index scores lack column\\(s\\) year"):
        external.correlations(_scores().drop(columns="year"), [])


# --------------------------------------------------------------------------- index page

def _scoreboard_folder(tmp_path, name="Open <b>index</b> & co"):
    processed = tmp_path / "processed"
    processed.mkdir()
    frame = _scores().drop(columns="index_code").assign(
        index_code="ind", level="index", code="ind", name=name, rank=1, imputed_share=0.0)
    write(processed, "scoreboard", frame)
    return processed


def test_index_page_lines_give_rho_per_index_escaped(tmp_path):
    folder = _reference_folder(tmp_path / "shared")
    processed = _scoreboard_folder(tmp_path)
    lines = external_reference_findings(processed, synthetic=False, folder=folder)
    text = " ".join(lines)
    assert "<b>" not in text and "Open &lt;b&gt;index&lt;/b&gt; &amp; co" in text
    assert "RCI 2016 (open index 2013) 0.80 (n = 4)" in text
    assert "RCI 2019 (open index 2016) -0.80 (n = 4)" in text
    assert "RIS 2023 summary index by year (open index 2 years earlier) 2016: -0.80 (n = 4)" \
        in text
    assert "not compared, the open index has no score for the matched year: RIS 2023 summary " \
        "index 2023" in text
    assert "Not checked: RIS 2019 file" in text
    assert not any(line.startswith("Demo data") for line in lines)


def test_index_page_says_demo_correlations_are_no_evidence(tmp_path):
    folder = _reference_folder(tmp_path / "shared")
    lines = external_reference_findings(_scoreboard_folder(tmp_path), synthetic=True,
                                        folder=folder)
    assert lines[0].startswith("Demo data: the open indices are computed on a synthetic "
                               "economy, so their correlations with the published indices say "
                               "nothing about the method")


def test_index_page_without_scoreboard_has_no_section(tmp_path):
    assert external_reference_findings(tmp_path, synthetic=False, folder=tmp_path) == []
    config = SimpleNamespace(processed_dir=tmp_path, source="demo")
    assert _external_references_html(config) == ""


def test_index_page_shows_a_bad_reference_file_as_the_reason(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    _rci_file(shared, [("DE11", 2016, 0.4), ("DE12", 2016, "<script>x</script>")])
    monkeypatch.setenv("EOCIC_SHARED_DATA", str(shared))
    config = SimpleNamespace(processed_dir=_scoreboard_folder(tmp_path), source="local")
    page = _external_references_html(config)
    assert page.startswith("<h2>External references</h2><p class='err'>Correlations with "
                           "published indices could not be computed: ExternalReferenceError")
    assert "&lt;script&gt;" in page and "<script>" not in page


# --------------------------------------------------------------------------- real files

def test_real_reference_files(shared_data):
    for file in (external.RCI_FILE, external.RIS_FILE, external.RII_FILE):
        if not (shared_data / file).is_file():
            pytest.skip(f"{file} not in the shared data folder")
    references, messages = external.load_references(shared_data)
    assert messages == []
    by_key = {(reference.name, reference.reference_year): reference for reference in references}
    for edition in (2016, 2019):
        rci = by_key[("RCI", edition)]
        assert rci.index_year == edition - 3
        fate = rci.codes.set_index("code")["outcome"]
        assert fate["AT00"] == "not NUTS-2" and fate["HR04"] == "lost to code change"
        assert (fate == "lost to code change").sum() == 2  # HR04 and HU10
    ris = {year: by_key[("RIS 2023 summary index", year)] for year in range(2016, 2024)}
    assert all(len(reference.codes) == 245 for reference in ris.values())  # EU row left out
    assert (ris[2023].codes["outcome"] == "not NUTS-2").sum() == 52  # NUTS-1 and countries
    assert ris[2023].values["RO22"] == pytest.approx(20.55)
    assert ris[2023].values["DK01"] == pytest.approx(169.53)
    # the RIS against itself across years: rank correlations of a slowly moving index
    table = external.correlations(pd.DataFrame({
        "index_code": "ris", "geo": ris[2023].values.index, "year": 2021,
        "score": ris[2023].values.to_numpy()}), [ris[2023], ris[2016]])
    assert table["spearman"].iloc[0] == pytest.approx(1.0)
    assert table["note"].iloc[1].startswith("open index not computed for 2014")
